// Candidate naming: keys, system labels and the pool list `plan
// --existing-fleet` takes, which reads back what CandidateKey writes.
#include "planner/candidate.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fleetsim::planner {
namespace {

using ::testing::HasSubstr;

TEST(CandidateTest, KeysAndLabelsMarkOwnedPools) {
  Candidate candidate = {
      {v1::POOL_ROLE_COLOCATED, "h100", 2, 8, /*owned=*/true},
      {v1::POOL_ROLE_COLOCATED, "h200", 3, 8, /*owned=*/false}};
  EXPECT_EQ(CandidateKey(candidate),
            "owned-colocated:h100x2@tp8+colocated:h200x3@tp8");
  EXPECT_EQ(SystemLabel(candidate), "colocated h200 tp8 + owned fleet");
  candidate.pop_back();
  EXPECT_EQ(SystemLabel(candidate), "owned fleet as is");
  EXPECT_EQ(SystemLabel({{v1::POOL_ROLE_PREFILL, "h100", 4, 8},
                         {v1::POOL_ROLE_DECODE, "a100", 2, 4}}),
            "disaggregated h100->a100 tp8->tp4");
}

// Expert-parallel pools: "@tp1ep8" in keys, "tp1 ep8" in labels, and the
// keys read back; a layout shared by both roles is named once.
TEST(CandidateTest, ExpertParallelPoolsKeepTheirLayout) {
  Candidate candidate = {{v1::POOL_ROLE_PREFILL, "h200", 2, 2, false, 8},
                         {v1::POOL_ROLE_DECODE, "h200", 3, 1, false, 8}};
  EXPECT_EQ(CandidateKey(candidate),
            "prefill:h200x2@tp2ep8+decode:h200x3@tp1ep8");
  EXPECT_EQ(SystemLabel(candidate),
            "disaggregated h200->h200 tp2 ep8->tp1 ep8");
  candidate[0].tp = 1;
  EXPECT_EQ(SystemLabel(candidate), "disaggregated h200->h200 tp1 ep8");
  EXPECT_EQ(SystemLabel({{v1::POOL_ROLE_COLOCATED, "b200", 4, 1, false, 8}}),
            "colocated b200 tp1 ep8");

  absl::StatusOr<std::vector<v1::PlannedPool>> pools =
      ParsePlannedPools(CandidateKey(candidate));
  ASSERT_TRUE(pools.ok()) << pools.status();
  ASSERT_EQ(pools->size(), 2u);
  EXPECT_EQ((*pools)[1].tp(), 1);
  EXPECT_EQ((*pools)[1].ep(), 8);
  EXPECT_EQ(PoolLayoutText((*pools)[1]), "3 h200 decode tp1 ep8");
  Candidate back;
  for (const v1::PlannedPool& pool : *pools) {
    absl::StatusOr<PoolChoice> choice = PoolChoiceOf(pool);
    ASSERT_TRUE(choice.ok()) << choice.status();
    back.push_back(*choice);
  }
  EXPECT_EQ(CandidateKey(back), CandidateKey(candidate));
  // Without ep a pool has none (ep 1), and says so nowhere.
  absl::StatusOr<std::vector<v1::PlannedPool>> plain =
      ParsePlannedPools("colocated:h100x2@tp8");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ((*plain)[0].ep(), 0);
  EXPECT_EQ(PoolLayoutText((*plain)[0]), "2 h100 colocated tp8");
}

TEST(CandidateTest, ParsePlannedPoolsReadsCandidateKeys) {
  absl::StatusOr<std::vector<v1::PlannedPool>> pools =
      ParsePlannedPools("prefill:h100x18@tp8+decode:h100_pcapx9@tp4");
  ASSERT_TRUE(pools.ok()) << pools.status();
  ASSERT_EQ(pools->size(), 2u);
  EXPECT_EQ((*pools)[0].role(), "prefill");
  EXPECT_EQ((*pools)[0].chip(), "h100");
  EXPECT_EQ((*pools)[0].machines(), 18);
  EXPECT_EQ((*pools)[0].tp(), 8);
  // A chip name holding an 'x' splits at the last one.
  EXPECT_EQ((*pools)[1].chip(), "h100_pcap");
  EXPECT_EQ((*pools)[1].machines(), 9);
  EXPECT_EQ((*pools)[1].tp(), 4);

  Candidate candidate;
  for (const v1::PlannedPool& pool : *pools) {
    absl::StatusOr<PoolChoice> choice = PoolChoiceOf(pool);
    ASSERT_TRUE(choice.ok()) << choice.status();
    candidate.push_back(*choice);
  }
  EXPECT_EQ(CandidateKey(candidate),
            "prefill:h100x18@tp8+decode:h100_pcapx9@tp4");

  EXPECT_EQ(PoolText((*pools)[0]), "18 h100 prefill");
  v1::PlannedPool owned = (*pools)[1];
  owned.set_owned(true);
  EXPECT_EQ(PoolText(owned), "9 owned h100_pcap decode");
}

TEST(CandidateTest, ParsePlannedPoolsNamesTheBadPart) {
  for (const char* bad :
       {"colocated:h100x2", "colocated:h100@tp8", "h100x2@tp8",
        "colocated:h100xtwo@tp8", "colocated:h100x2@tp8+", "colocated:x2@tp8",
        "colocated:h100x2@tp1ep", "colocated:h100x2@tp1epx"}) {
    absl::StatusOr<std::vector<v1::PlannedPool>> pools = ParsePlannedPools(bad);
    ASSERT_FALSE(pools.ok()) << bad;
    EXPECT_EQ(pools.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(pools.status().message(), HasSubstr("expected ROLE:CHIPx"));
  }
  EXPECT_THAT(PoolChoiceOf([] {
                v1::PlannedPool pool;
                pool.set_role("both");
                return pool;
              }())
                  .status()
                  .message(),
              HasSubstr("unknown pool role 'both'"));
}

}  // namespace
}  // namespace fleetsim::planner
