// File: tests/hardware/ops/op_family_fixture.h
//
// The check every operator-family test (tests/hardware/ops/*_op_test.cc) makes:
// the simulator's use of a family and the calibration fit's use of it price
// the same invocation to the same seconds, to the last bit. The simulator's
// use is the operator model's table at a batch, seen through its correction
// hooks (one OperatorQuery per table entry, with the analytic seconds); the
// fit's use is OperatorPricer::Seconds on that query (what `fleetsim
// calibrate eval` and `fit` run) and, where the calibration schema can hold
// the invocation, on QueryFromRow of the row a profiler would record for it.
// Models: the catalog's llama-2-7b (dense MHA), llama-3-8b (GQA),
// deepseek-v3 (MLA + MoE), mixtral-8x7b (MoE), and the cost-model fixtures'
// Mamba-2 2.7B and a Jamba-like hybrid (SSM: Mamba-2 and Mamba-1).
#ifndef FLEETSIM_TESTS_HARDWARE_OPS_OP_FAMILY_FIXTURE_H_
#define FLEETSIM_TESTS_HARDWARE_OPS_OP_FAMILY_FIXTURE_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "fleetsim/v1/calibration.pb.h"
#include "gtest/gtest.h"
#include "hardware/calibration/row_query.h"
#include "hardware/operator_model.h"
#include "hardware/operator_pricer.h"
#include "tests/hardware/cost_model_fixtures.h"
#include "util/textproto.h"

namespace fleetsim::hardware::family_test {

template <typename Message>
Message CatalogEntry(const std::string& path) {
  Message m;
  const absl::Status s =
      ReadTextProtoFile(std::string(FLEETSIM_SOURCE_DIR) + "/" + path, &m);
  EXPECT_TRUE(s.ok()) << s;
  return m;
}

// The shipped H100: its efficiency entries switch on the norm and
// elementwise wave, per-row and cache terms and the per-operator entries.
inline v1::Chip H100() {
  return CatalogEntry<v1::Chip>("data/chips/h100.txtpb");
}

struct FamilyModel {
  std::string label;
  v1::Model model;
  int tp = 1;
};

inline std::vector<FamilyModel> FamilyModels() {
  return {
      {"dense", CatalogEntry<v1::Model>("data/models/llama-2-7b.txtpb"), 1},
      {"gqa", CatalogEntry<v1::Model>("data/models/llama-3-8b.txtpb"), 2},
      {"mla", CatalogEntry<v1::Model>("data/models/deepseek-v3.txtpb"), 8},
      {"moe", CatalogEntry<v1::Model>("data/models/mixtral-8x7b.txtpb"), 2},
      {"ssm", fleetsim::testutil::Mamba2_2_7b(), 1},
      {"hybrid", fleetsim::testutil::JambaLikeHybrid(), 2},
  };
}

// A mixed batch (a chunk after a cached prefix and decodes), a prefill
// whose 160 rows pay for M-tile padding, and uniform decodes.
inline std::vector<BatchShape> FamilyBatches() {
  BatchShape mixed;
  mixed.AddPrefillChunk(700, 300);
  mixed.AddDecode(1500);
  mixed.AddDecode(20);
  BatchShape prefill;
  prefill.AddPrefillChunk(160, 0);
  BatchShape decode;
  for (int i = 0; i < 3; ++i) decode.AddDecode(1000);
  return {mixed, prefill, decode};
}

// The accountings the families change with: default (fused attention,
// separate elementwise kernels), LLMCompass's (unfused attention), and
// fused elementwise kernels.
inline std::vector<std::pair<std::string, OperatorModelOptions>>
FamilyOptions() {
  OperatorModelOptions fused;
  fused.fuse_elementwise = true;
  return {{"default", {}},
          {"llmcompass", OperatorModelOptions::LlmCompassLike()},
          {"fused_elementwise", fused}};
}

// One table entry's invocation as the correction hooks saw it.
struct SeenOp {
  std::string name;
  OperatorQuery query;  // query.name is stale: use Query()
  OperatorQuery Query() const {
    OperatorQuery q = query;
    q.name = name;
    return q;
  }
};

inline std::vector<SeenOp> SimulatorQueries(const v1::Model& model,
                                            const v1::Chip& chip, int tp,
                                            int pp, OperatorModelOptions o,
                                            const BatchShape& batch) {
  std::vector<SeenOp> seen;
  for (int c = 0; c < kNumOperatorClasses; ++c) {
    o.corrections[c] = [&seen](const OperatorQuery& q) {
      seen.push_back({std::string(q.name), q});
      return q.analytic_s;
    };
  }
  auto m = OperatorModel::Create(model, chip, tp, pp, o);
  EXPECT_TRUE(m.ok()) << m.status();
  if (m.ok()) (*m)->IterationSeconds(batch);
  return seen;
}

// Which table entries a family test covers, by operator name and class.
using InFamily = std::function<bool(const OperatorQuery&)>;

// For every seen entry `in_family` accepts, the fit's pricer on the same
// query must return the simulator's seconds, FLOPs, vector FLOPs and bytes
// exactly. Returns how many entries it checked.
inline int ExpectPricerAgrees(const std::vector<SeenOp>& seen,
                              const OperatorPricer& pricer,
                              const InFamily& in_family,
                              const std::string& where) {
  int checked = 0;
  for (const SeenOp& s : seen) {
    const OperatorQuery q = s.Query();
    if (!in_family(q)) continue;
    ++checked;
    OperatorQuery filled;
    const double seconds = pricer.Seconds(q, &filled);
    EXPECT_EQ(seconds, q.analytic_s) << where << " " << s.name;
    EXPECT_EQ(filled.flops, q.flops) << where << " " << s.name;
    EXPECT_EQ(filled.vector_flops, q.vector_flops) << where << " " << s.name;
    EXPECT_EQ(filled.bytes, q.bytes) << where << " " << s.name;
  }
  return checked;
}

// Runs ExpectPricerAgrees over every model, batch and accounting (pp = 2
// for the pipeline send); returns the entries checked per model label.
inline std::map<std::string, int> CheckEveryModel(const InFamily& in_family) {
  std::map<std::string, int> checked;
  const v1::Chip chip = H100();
  for (const FamilyModel& fm : FamilyModels()) {
    for (const auto& [accounting, options] : FamilyOptions()) {
      auto pricer = OperatorPricer::Create(chip, options);
      EXPECT_TRUE(pricer.ok()) << pricer.status();
      if (!pricer.ok()) continue;
      int b = 0;
      for (const BatchShape& batch : FamilyBatches()) {
        const std::string where =
            fm.label + " " + accounting + " batch " + std::to_string(b++);
        checked[fm.label] += ExpectPricerAgrees(
            SimulatorQueries(fm.model, chip, fm.tp, 2, options, batch), *pricer,
            in_family, where);
      }
    }
  }
  return checked;
}

// Calls fn(model, entry) for every table entry of every family model at
// each of `batches`: default accounting, the shipped H100, `pp` stages.
inline void ForEachSeenOp(
    int pp, const std::vector<BatchShape>& batches,
    const std::function<void(const FamilyModel&, const SeenOp&)>& fn) {
  const v1::Chip chip = H100();
  for (const FamilyModel& fm : FamilyModels()) {
    for (const BatchShape& batch : batches) {
      for (const SeenOp& s :
           SimulatorQueries(fm.model, chip, fm.tp, pp, {}, batch)) {
        fn(fm, s);
      }
    }
  }
}

// The fit's row path: `row` through QueryFromRow and the default pricer
// must give the simulator's seconds for `q`.
inline void ExpectRowAgrees(const v1::CalibrationRow& row,
                            const OperatorQuery& q, const std::string& where) {
  auto pricer = OperatorPricer::Create(H100());
  ASSERT_TRUE(pricer.ok()) << pricer.status();
  absl::StatusOr<OperatorQuery> from_row = QueryFromRow(row);
  ASSERT_TRUE(from_row.ok()) << where << ": " << from_row.status();
  EXPECT_EQ(pricer->Seconds(*from_row), q.analytic_s) << where;
}

}  // namespace fleetsim::hardware::family_test

#endif  // FLEETSIM_TESTS_HARDWARE_OPS_OP_FAMILY_FIXTURE_H_
