// SloEvaluator: validation, absolute and slowdown bounds, per-request
// verdicts and attainment, on BLOOM-176B with an H100 TP8 reference.
#include "sim/slo_evaluator.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hardware/chip_catalog.h"
#include "sim/pool_latency.h"
#include "tests/catalog_test_util.h"
#include "util/textproto.h"
#include "workloads/model_catalog.h"

namespace fleetsim::sim {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

const std::string kData = std::string(FLEETSIM_SOURCE_DIR) + "/data";

v1::Slo ParseSlo(const std::string& text) {
  v1::Slo slo;
  absl::Status status = ParseTextProto(text, "test", &slo);
  EXPECT_TRUE(status.ok()) << status;
  return slo;
}

class SloEvaluatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chips_ = testutil::LoadedOrFail(hardware::LoadChipCatalog(kData));
    workloads::ModelCatalog models =
        testutil::LoadedOrFail(workloads::LoadModelCatalog(kData));
    v1::Cluster cluster;
    ASSERT_TRUE(
        ReadTextProtoFile(kData + "/clusters/splitwise_h100.txtpb", &cluster)
            .ok());
    auto fleet = ResolveFleet(cluster, "splitwise_h100.txtpb",
                              testutil::FindOrFail(models, "bloom-176b"),
                              chips_.entries(), {});
    ASSERT_TRUE(fleet.ok()) << fleet.status();
    fleet_ = *fleet;
    h100_ = testutil::FindOrFail(chips_, "h100");
  }

  std::unique_ptr<SloEvaluator> Create(const std::string& slo_text) {
    auto evaluator = SloEvaluator::Create(ParseSlo(slo_text), fleet_, h100_);
    EXPECT_TRUE(evaluator.ok()) << evaluator.status();
    return evaluator.ok() ? std::move(*evaluator) : nullptr;
  }

  static RequestRecord Record(double ttft_s, double tpot_s, double e2e_s,
                              int32_t input = 1000, int32_t output = 101) {
    RequestRecord r;
    r.input_tokens = input;
    r.output_tokens = output;
    r.sequence_tokens = output;
    r.ttft_s = ttft_s;
    r.tpot_s = tpot_s;
    r.e2e_s = e2e_s;
    return r;
  }

  // The property the early stop rests on, checked at the end of a run: a
  // miss decided during it (`first`) is a miss of the whole run, at least
  // as large as decided. Counts decided runs and runs meeting every target.
  static void Tally(const SloEvaluator& evaluator,
                    const std::optional<SloEvaluator::DecidedMiss>& first,
                    int run, int* decided_runs, int* met_runs) {
    std::vector<v1::SloAttainment> attained = evaluator.Finish(LogHistogram());
    if (first) {
      ++*decided_runs;
      const v1::SloAttainment& a = attained[first->target];
      EXPECT_FALSE(a.met()) << "run " << run;
      EXPECT_GE(a.observed(), first->observed_at_least) << "run " << run;
    }
    *met_runs +=
        std::all_of(attained.begin(), attained.end(),
                    [](const v1::SloAttainment& a) { return a.met(); });
  }

  hardware::ChipCatalog chips_;
  FleetSpec fleet_;
  v1::Chip h100_;
};

TEST_F(SloEvaluatorTest, BadTargetsNameTheTargetAndField) {
  EXPECT_THAT(
      ValidateSlo(ParseSlo("targets { percentile: 90 max_s: 1 }"), "s.txtpb")
          .message(),
      AllOf(HasSubstr("s.txtpb: targets[0]: "),
            HasSubstr("field 'metric' is missing")));
  for (const char* percentile : {"0", "100.5", "-5"}) {
    EXPECT_THAT(ValidateSlo(ParseSlo(std::string("targets { metric: "
                                                 "SLO_METRIC_TTFT max_s: 1 "
                                                 "percentile: ") +
                                     percentile + " }"),
                            "s")
                    .message(),
                HasSubstr("field 'percentile' must be in (0, 100]"))
        << percentile;
  }
  EXPECT_THAT(ValidateSlo(ParseSlo("targets { metric: SLO_METRIC_TTFT "
                                   "percentile: 90 max_s: 1 }"
                                   "targets { metric: SLO_METRIC_E2E "
                                   "percentile: 90 max_slowdown: 0 }"),
                          "s")
                  .message(),
              AllOf(HasSubstr("targets[1]"),
                    HasSubstr("needs a positive 'max_s' or 'max_slowdown'")));
  EXPECT_TRUE(ValidateSlo(ParseSlo("targets { metric: SLO_METRIC_TTFT "
                                   "percentile: 100 max_s: 1 }"),
                          "s")
                  .ok());
  EXPECT_FALSE(SloEvaluator::Create(ParseSlo("targets { percentile: 90 }"),
                                    fleet_, h100_)
                   .ok());
}

TEST_F(SloEvaluatorTest, ReferenceIsOnePrefillAndTheMidGenerationDecode) {
  auto evaluator = Create(
      "targets { metric: SLO_METRIC_TTFT percentile: 50 max_slowdown: 2 }");
  ASSERT_NE(evaluator, nullptr);
  // Reference TP defaults to 8, the serving stack is the fleet's.
  auto model = CreateLatencyModel(fleet_, h100_, 8, 1);
  ASSERT_TRUE(model.ok()) << model.status();
  hardware::BatchShape prefill;
  prefill.AddPrefillChunk(1000, 0);
  hardware::BatchShape decode;
  decode.AddDecode(1050);  // 1,000 + (101 - 1) / 2
  SloEvaluator::Reference ref = evaluator->ReferenceFor(1000, 101);
  EXPECT_DOUBLE_EQ(ref.ttft_s, (*model)->IterationSeconds(prefill));
  EXPECT_DOUBLE_EQ(ref.tpot_s, (*model)->IterationSeconds(decode));
  EXPECT_DOUBLE_EQ(ref.e2e_s, ref.ttft_s + 100 * ref.tpot_s);
  // A bigger reference TP is faster.
  v1::Slo tp4 = ParseSlo(
      "reference_tp: 4 "
      "targets { metric: SLO_METRIC_TTFT percentile: 50 max_slowdown: 2 }");
  auto slower = SloEvaluator::Create(tp4, fleet_, h100_);
  ASSERT_TRUE(slower.ok());
  EXPECT_GT((*slower)->ReferenceFor(1000, 101).ttft_s, ref.ttft_s);
}

TEST_F(SloEvaluatorTest, SlowdownBoundsJudgeEachRequestAgainstItsReference) {
  auto evaluator = Create(
      "targets { metric: SLO_METRIC_TTFT percentile: 50 max_slowdown: 2 }"
      "targets { metric: SLO_METRIC_TPOT percentile: 50 max_slowdown: 1.5 }");
  ASSERT_NE(evaluator, nullptr);
  SloEvaluator::Reference ref = evaluator->ReferenceFor(1000, 101);
  // TTFT 1.5x and TPOT 1.2x: within both bounds.
  RequestRecord fine = Record(1.5 * ref.ttft_s, 1.2 * ref.tpot_s, 0);
  evaluator->Observe(&fine);
  EXPECT_TRUE(fine.met_slo);
  // TTFT 2.5x: over its bound.
  RequestRecord slow = Record(2.5 * ref.ttft_s, 1.2 * ref.tpot_s, 0);
  evaluator->Observe(&slow);
  EXPECT_FALSE(slow.met_slo);
  // TTFT 1.8x and TPOT 1.6x: the TPOT bound fails alone.
  RequestRecord choppy = Record(1.8 * ref.ttft_s, 1.6 * ref.tpot_s, 0);
  evaluator->Observe(&choppy);
  EXPECT_FALSE(choppy.met_slo);

  std::vector<v1::SloAttainment> attained = evaluator->Finish(LogHistogram());
  ASSERT_EQ(attained.size(), 2u);
  // Median TTFT slowdown of {1.5, 2.5, 1.8} is 1.8: met.
  EXPECT_EQ(attained[0].metric(), "ttft");
  EXPECT_NEAR(attained[0].observed(), 1.8, 1.8 * 5e-4);
  EXPECT_EQ(attained[0].limit(), 2);
  EXPECT_EQ(attained[0].bound_s(), 0);  // a slowdown, not seconds
  EXPECT_TRUE(attained[0].met());
  // Median TPOT slowdown of {1.2, 1.2, 1.6} is 1.2: met.
  EXPECT_EQ(attained[1].metric(), "tpot");
  EXPECT_NEAR(attained[1].observed(), 1.2, 1.2 * 5e-4);
  EXPECT_TRUE(attained[1].met());
}

TEST_F(SloEvaluatorTest, AbsoluteTbtUsesEveryPooledGap) {
  auto evaluator =
      Create("targets { metric: SLO_METRIC_TBT percentile: 90 max_s: 0.1 }");
  ASSERT_NE(evaluator, nullptr);
  // Per request, the mean gap is judged: 0.05 s is within 0.1 s.
  RequestRecord record = Record(1, 0.05, 6);
  evaluator->Observe(&record);
  EXPECT_TRUE(record.met_slo);
  // Pooled, nine 50 ms gaps and one 1 s gap: p90 is at rank 8.1, a tenth
  // of the way from 0.05 to 1.0, so 0.145 s, over the bound.
  LogHistogram gaps;
  gaps.Add(0.05, 9);
  gaps.Add(1.0);
  std::vector<v1::SloAttainment> attained = evaluator->Finish(gaps);
  ASSERT_EQ(attained.size(), 1u);
  EXPECT_NEAR(attained[0].observed(), 0.145, 1e-4);
  EXPECT_DOUBLE_EQ(attained[0].bound_s(), 0.1);
  EXPECT_FALSE(attained[0].met());
}

TEST_F(SloEvaluatorTest, OneTokenAndRejectedRequestsSkipWhatTheyLack) {
  auto evaluator = Create(
      "targets { metric: SLO_METRIC_TPOT percentile: 99 max_s: 0.01 }"
      "targets { metric: SLO_METRIC_E2E percentile: 99 max_s: 5 }");
  ASSERT_NE(evaluator, nullptr);
  // One output token: no gaps, so only E2E is judged (and met).
  RequestRecord single = Record(1, 0, 2, 1000, 1);
  evaluator->Observe(&single);
  EXPECT_TRUE(single.met_slo);
  RequestRecord rejected = Record(0, 0, 0);
  rejected.rejected = true;
  rejected.met_slo = false;
  evaluator->Observe(&rejected);
  std::vector<v1::SloAttainment> attained = evaluator->Finish(LogHistogram());
  EXPECT_EQ(attained[0].observed(), 0);              // no TPOT samples at all
  EXPECT_NEAR(attained[1].observed(), 2, 2 * 5e-4);  // rejected not counted
}

TEST_F(SloEvaluatorTest, AMissIsDecidedOnceTheRestCannotSaveIt) {
  auto evaluator =
      Create("targets { metric: SLO_METRIC_TTFT percentile: 50 max_s: 1 }");
  ASSERT_NE(evaluator, nullptr);
  EXPECT_FALSE(evaluator->MissDecided());  // no bound told yet
  // 11 requests in all: the median is the 6th smallest. Five slow ones
  // could still all sort above six fast ones to come.
  evaluator->ExpectAtMost(11, 11);
  for (int i = 0; i < 5; ++i) {
    RequestRecord slow = Record(3, 0.1, 13);
    evaluator->Observe(&slow);
    EXPECT_FALSE(evaluator->MissDecided()) << i;
  }
  // A sixth slow one: whatever the last five do, the median is >= 3 s.
  RequestRecord slow = Record(3, 0.1, 13);
  evaluator->Observe(&slow);
  std::optional<SloEvaluator::DecidedMiss> miss = evaluator->MissDecided();
  ASSERT_TRUE(miss.has_value());
  EXPECT_EQ(miss->target, 0);
  EXPECT_NEAR(miss->observed_at_least, 3, 3 * 5e-4);
}

TEST_F(SloEvaluatorTest, TheAbsolutePooledTbtIsNeverDecidedEarly) {
  auto evaluator =
      Create("targets { metric: SLO_METRIC_TBT percentile: 50 max_s: 0.01 }");
  ASSERT_NE(evaluator, nullptr);
  evaluator->ExpectAtMost(2, 2);
  RequestRecord slow = Record(1, 1, 101);
  evaluator->Observe(&slow);
  evaluator->Observe(&slow);
  EXPECT_FALSE(evaluator->MissDecided());
}

// The property the planner relies on: a decided miss is a miss of the
// finished run (never a run that meets its SLO), for random request
// streams, with fewer requests in the end than the bound told.
TEST_F(SloEvaluatorTest, ADecidedMissIsAlwaysAMissOfTheWholeRun) {
  std::mt19937_64 random(42);
  int decided_runs = 0, met_runs = 0;
  for (int run = 0; run < 300; ++run) {
    const double percentile = std::vector<double>{50, 90, 99}[run % 3];
    auto evaluator = Create(absl::StrCat(
        "targets { metric: SLO_METRIC_TTFT percentile: ", percentile,
        " max_s: 1 } targets { metric: SLO_METRIC_TPOT percentile: ",
        percentile, " max_s: 0.05 }"));
    ASSERT_NE(evaluator, nullptr);
    const int requests = 20 + static_cast<int>(random() % 300);
    const int unseen = static_cast<int>(random() % 3);  // e.g. rejected
    evaluator->ExpectAtMost(requests + unseen, requests + unseen);
    // A load that drifts from light to heavy, or stays light.
    const double drift = std::uniform_real_distribution<>(0, 3)(random);
    std::optional<SloEvaluator::DecidedMiss> first;
    for (int i = 0; i < requests; ++i) {
      const double load = drift * i / requests;
      std::exponential_distribution<> wait(1.0 / (0.2 + load));
      RequestRecord r = Record(wait(random), 0.02 + 0.02 * load, 10);
      evaluator->Observe(&r);
      if (!first) first = evaluator->MissDecided();
    }
    Tally(*evaluator, first, run, &decided_runs, &met_runs);
  }
  // Both kinds occur, so the property was tested on both sides.
  EXPECT_GT(decided_runs, 30);
  EXPECT_GT(met_runs, 30);
}

// The same property with requests in flight counted as soon as they are
// overdue (Arrived, AdvanceTo): requests arrive, get their first token and
// finish in time order, under a slowdown TTFT bound and an absolute E2E
// one: a decided miss is a miss of the whole run.
TEST_F(SloEvaluatorTest, ADecidedMissWithRequestsInFlightIsAMissOfTheRun) {
  std::mt19937_64 random(7);
  int decided_runs = 0, met_runs = 0;
  for (int run = 0; run < 200; ++run) {
    const double percentile = std::vector<double>{50, 90, 99}[run % 3];
    // A per-token target between and after them: indices no overdue rule
    // watches.
    auto evaluator = Create(absl::StrCat(
        "reference_tp: 8 targets { metric: SLO_METRIC_TTFT percentile: ",
        percentile, " max_slowdown: 3 } targets { metric: SLO_METRIC_TPOT ",
        "percentile: ", percentile, " max_s: 0.25 } targets { metric: ",
        "SLO_METRIC_E2E percentile: ", percentile,
        " max_s: 30 } targets { metric: SLO_METRIC_TBT percentile: ",
        percentile, " max_slowdown: 12 }"));
    ASSERT_NE(evaluator, nullptr);
    const int requests = 20 + static_cast<int>(random() % 200);
    evaluator->ExpectAtMost(requests, requests);
    const double drift = std::uniform_real_distribution<>(0, 8)(random);
    struct Event {
      double at_s;
      int kind;  // 0 arrival, 1 first token, 2 finish
      int request;
    };
    std::vector<Event> events;
    std::vector<LiveRequest> live(requests);
    std::vector<RequestRecord> records(requests);
    for (int i = 0; i < requests; ++i) {
      LiveRequest& r = live[i];
      r.id = i;
      r.arrival_s = 0.5 * i;
      r.input_tokens = 100 + static_cast<int32_t>(random() % 4000);
      r.output_tokens = 2 + static_cast<int32_t>(random() % 200);
      const SloEvaluator::Reference ref =
          evaluator->ReferenceFor(r.input_tokens, r.output_tokens);
      const double load = drift * i / requests;
      std::exponential_distribution<> slowdown(1.0 / (0.5 + load));
      RequestRecord& record = records[i];
      record = Record(ref.ttft_s * (1 + slowdown(random)), 0.05 * (1 + load), 0,
                      r.input_tokens, r.output_tokens);
      record.id = i;
      record.e2e_s = record.ttft_s + record.tpot_s * (r.output_tokens - 1);
      events.push_back({r.arrival_s, 0, i});
      events.push_back({r.arrival_s + record.ttft_s, 1, i});
      events.push_back({r.arrival_s + record.e2e_s, 2, i});
    }
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
      return a.at_s != b.at_s ? a.at_s < b.at_s : a.kind < b.kind;
    });
    std::optional<SloEvaluator::DecidedMiss> first;
    for (const Event& event : events) {
      LiveRequest& r = live[event.request];
      if (event.kind == 0) evaluator->Arrived(r);
      if (event.kind == 1) r.prefill_done_s = r.first_token_s = event.at_s;
      if (event.kind == 2) evaluator->Observe(&records[event.request]);
      evaluator->AdvanceTo(event.at_s);
      if (!first) first = evaluator->MissDecided();
    }
    Tally(*evaluator, first, run, &decided_runs, &met_runs);
  }
  EXPECT_GT(decided_runs, 30);
  EXPECT_GT(met_runs, 30);
}

// Overdue requests decide an overloaded run long before they finish: 20
// requests that all wait 100 s for their first token, p50 TTFT within 1 s.
TEST_F(SloEvaluatorTest, AGrowingQueueDecidesTheRunBeforeAnyRequestFinishes) {
  auto evaluator =
      Create("targets { metric: SLO_METRIC_TTFT percentile: 50 max_s: 1 }");
  ASSERT_NE(evaluator, nullptr);
  evaluator->ExpectAtMost(20, 20);
  std::vector<LiveRequest> live(20);
  for (int i = 0; i < 20; ++i) {
    live[i].id = i;
    live[i].arrival_s = i;
    evaluator->Arrived(live[i]);
  }
  // The median is the 10th of 20 samples (index 9): it reports above the
  // limit once 11 samples will. At 10.5 s requests 0-9 have waited over
  // 1 s; at 11.5 s request 10 too.
  evaluator->AdvanceTo(10.5);
  EXPECT_FALSE(evaluator->MissDecided());
  evaluator->AdvanceTo(11.5);
  std::optional<SloEvaluator::DecidedMiss> miss = evaluator->MissDecided();
  ASSERT_TRUE(miss.has_value());
  EXPECT_EQ(miss->target, 0);
  EXPECT_GT(miss->observed_at_least, 1);
}

}  // namespace
}  // namespace fleetsim::sim
