// CCGQA's fleet effect in a replay (Zyphra, "Compressed Convolutional
// Attention", arXiv:2510.04476; issue 14 item 4): ZAYA1's CCGQA caches 8x
// less KV per token than its MHA twin and 2x less than its GQA twin (the
// same body, only the attention swapped; data/models/zaya1-*.txtpb), so on
// one H100 a burst of long requests decodes in larger batches. Every
// simulation runs in a child process (one SimGrid engine each).

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "sim/isolated_run.h"
#include "sim/scenario.h"
#include "tests/sim/sim_test_util.h"
#include "util/status_macros.h"
#include "util/textproto.h"

namespace fleetsim::sim {
namespace {

// 256 requests of an 8,192-token prompt and 1,024 output tokens at once on
// one H100: every variant's batch is bounded by its KV.
absl::StatusOr<v1::SimulationResult> ReplayBurst(const std::string& model) {
  ScenarioRequest request;
  request.catalogs = testutil::ShippedCatalogs();
  absl::Status parsed =
      ParseTextProto(testutil::OneH100ClusterText(), "test", &request.cluster);
  if (!parsed.ok()) return parsed;
  request.model = model;
  request.workload = testutil::BurstWorkload("cca", 256, 8192, 1024, 0.5);
  FLEETSIM_ASSIGN_OR_RETURN(SimulationInputs inputs, LoadScenario(request));
  return RunSimulationInChild(inputs);
}

TEST(CcaSimulationTest, CompressedKvDecodesInLargerBatches) {
  auto mha = ReplayBurst("zaya1-mha-twin");
  auto gqa = ReplayBurst("zaya1-gqa-twin");
  auto ccgqa = ReplayBurst("zaya1-ccgqa");
  ASSERT_TRUE(mha.ok()) << mha.status();
  ASSERT_TRUE(gqa.ok()) << gqa.status();
  ASSERT_TRUE(ccgqa.ok()) << ccgqa.status();
  for (const auto* result : {&*mha, &*gqa, &*ccgqa})
    EXPECT_EQ(result->completed(), 256);
  const double mha_batch = mha->pools(0).mean_batch_size();
  const double gqa_batch = gqa->pools(0).mean_batch_size();
  const double ccgqa_batch = ccgqa->pools(0).mean_batch_size();
  // Measured at commit time: 19.8, 63.3 and 107.3.
  EXPECT_GT(gqa_batch, 2 * mha_batch);
  EXPECT_GT(ccgqa_batch, 1.5 * gqa_batch);
  EXPECT_GT(ccgqa->output_tokens_per_s(), gqa->output_tokens_per_s());
}

}  // namespace
}  // namespace fleetsim::sim
