// File: tests/hardware/operator_model_test_util.h
//
// What the operator-model tests share: building a model's table on a chip
// (failing the test when it cannot be built), prefill and decode batches,
// and finding an operator in an iteration's breakdown.
#ifndef FLEETSIM_TESTS_HARDWARE_OPERATOR_MODEL_TEST_UTIL_H_
#define FLEETSIM_TESTS_HARDWARE_OPERATOR_MODEL_TEST_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "hardware/operator_model.h"

namespace fleetsim::hardware {

inline std::unique_ptr<OperatorModel> Make(
    const v1::Model& model, const v1::Chip& chip, int tp, int pp = 1,
    const OperatorModelOptions& options = {}) {
  auto m = OperatorModel::Create(model, chip, tp, pp, options);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : nullptr;
}

inline BatchShape Prefill(int64_t tokens, int requests = 1) {
  BatchShape b;
  for (int i = 0; i < requests; ++i) b.AddPrefillChunk(tokens, 0);
  return b;
}

inline BatchShape Decode(int requests, int64_t context) {
  BatchShape b;
  for (int i = 0; i < requests; ++i) b.AddDecode(context);
  return b;
}

inline const OperatorTime* FindOp(const IterationBreakdown& b,
                                  const std::string& name) {
  for (const OperatorTime& op : b.ops) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_TESTS_HARDWARE_OPERATOR_MODEL_TEST_UTIL_H_
