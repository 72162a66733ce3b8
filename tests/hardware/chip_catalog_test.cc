// Tests for hardware/chip_catalog.h: the shipped chips load, SPAD's cost
// model reproduces its Table 3 (costs, TDPs and, through the cost model,
// speed ratios), and each kind of bad file gives an error
// that names the file, line and field (checked on the message text).
#include "hardware/chip_catalog.h"

#include <cmath>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hardware/operator_model.h"
#include "tests/catalog_test_util.h"
#include "workloads/model_catalog.h"

namespace fleetsim::hardware {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kDataDir = FLEETSIM_SOURCE_DIR "/data";
const std::string kBadDir = FLEETSIM_SOURCE_DIR "/tests/testdata/catalog";

// Loads the shipped catalog or fails the test.
ChipCatalog ShippedChips() {
  return testutil::LoadedOrFail(LoadChipCatalog(kDataDir));
}

const v1::Chip& Get(const ChipCatalog& catalog, const std::string& name) {
  return testutil::FindOrFail(catalog, name);
}

// The error message from loading one crafted data folder ("" when it loads).
std::string LoadError(const std::string& folder) {
  return testutil::LoadErrorMessage(LoadChipCatalog(kBadDir + "/" + folder));
}

TEST(ChipCatalogTest, EveryFieldRangeNamesAField) {
  EXPECT_TRUE(CheckRangeNames(ChipFieldRanges()).ok())
      << CheckRangeNames(ChipFieldRanges());
}

TEST(ChipCatalogTest, AllShippedChipsLoad) {
  ChipCatalog catalog = ShippedChips();
  EXPECT_THAT(
      catalog.names(),
      ElementsAre("a100", "ascend_910b", "ascend_910c", "ascend_910c_cm384",
                  "b200", "gb200_nvl72", "h100", "h100_pcap", "h200", "mi300x",
                  "spad_decode", "spad_prefill"));
}

TEST(ChipCatalogTest, AMachineIsTheScaleUpDomain) {
  ChipCatalog catalog = ShippedChips();
  EXPECT_EQ(MachineChips(**catalog.Find("h100")), 8);  // unset: HGX's 8
  EXPECT_EQ(MachineChips(**catalog.Find("mi300x")), 8);
  EXPECT_EQ(MachineChips(**catalog.Find("gb200_nvl72")), 72);
  EXPECT_EQ(MachineChips(**catalog.Find("ascend_910c")), 8);
  EXPECT_EQ(MachineChips(**catalog.Find("ascend_910c_cm384")), 384);
}

TEST(ChipCatalogTest, ShippedFilesDeclareTheirSchema) {
  const ChipCatalog catalog = ShippedChips();
  for (const v1::Chip* chip : catalog.entries()) {
    std::ifstream in(kDataDir + "/chips/" + chip->name() + ".txtpb");
    std::string first, second;
    std::getline(in, first);
    std::getline(in, second);
    EXPECT_EQ(first, "# proto-file: fleetsim/v1/chip.proto") << chip->name();
    EXPECT_EQ(second, "# proto-message: fleetsim.v1.Chip") << chip->name();
  }
}

TEST(ChipCatalogTest, DiesPerWaferMatchesSpad) {
  // SPAD (arXiv:2510.08544) §6.1: 814 mm^2 -> 63.48, 784 -> 66.36,
  // 520 -> 106.71.
  EXPECT_NEAR(DiesPerWafer(814, 300), 63.48, 0.01);
  EXPECT_NEAR(DiesPerWafer(784, 300), 66.36, 0.01);
  EXPECT_NEAR(DiesPerWafer(520, 300), 106.71, 0.01);
}

TEST(ChipCatalogTest, DerivedCostsReproduceSpadTable3) {
  ChipCatalog catalog = ShippedChips();
  const double h100 = ManufacturingCostUsd(Get(catalog, "h100"));
  const double prefill = ManufacturingCostUsd(Get(catalog, "spad_prefill"));
  const double decode = ManufacturingCostUsd(Get(catalog, "spad_decode"));
  EXPECT_NEAR(h100, 1035, 1);
  EXPECT_NEAR(prefill, 493, 1);
  EXPECT_NEAR(decode, 907, 1);
  // Normalised to H100 (SPAD T3: 0.48 and 0.88).
  EXPECT_NEAR(prefill / h100, 0.48, 0.005);
  EXPECT_NEAR(decode / h100, 0.88, 0.005);
  // SPAD's assumption: A100 = 0.5x H100. A capped H100 is an H100.
  EXPECT_NEAR(ManufacturingCostUsd(Get(catalog, "a100")), 0.5 * h100, 0.01);
  EXPECT_DOUBLE_EQ(ManufacturingCostUsd(Get(catalog, "h100_pcap")), h100);
  // No source for Ascend cost: unknown, reported as 0.
  EXPECT_EQ(ManufacturingCostUsd(Get(catalog, "ascend_910b")), 0);
}

TEST(ChipCatalogTest, TdpsMatchSpadTable3) {
  ChipCatalog catalog = ShippedChips();
  const double h100 = Get(catalog, "h100").tdp_w();
  EXPECT_EQ(h100, 700);
  EXPECT_NEAR(Get(catalog, "spad_prefill").tdp_w() / h100, 0.851, 0.001);
  EXPECT_NEAR(Get(catalog, "spad_decode").tdp_w() / h100, 0.724, 0.001);
  EXPECT_EQ(Get(catalog, "h100_pcap").tdp_w(), 450);
}

TEST(ChipCatalogTest, ChipsKeepTheirUnitBalance) {
  // The brief's figures: SPAD Prefill has 1.94x H100 tensor, ~half vector,
  // 61% of its memory bandwidth.
  ChipCatalog catalog = ShippedChips();
  const v1::Chip& h100 = Get(catalog, "h100");
  const v1::Chip& prefill = Get(catalog, "spad_prefill");
  EXPECT_NEAR(prefill.bf16_tflops() / h100.bf16_tflops(), 1.94, 0.01);
  EXPECT_NEAR(prefill.vector_tflops() / h100.vector_tflops(), 0.48, 0.01);
  EXPECT_NEAR(prefill.memory_bandwidth_tbps() / h100.memory_bandwidth_tbps(),
              0.61, 0.01);
  EXPECT_EQ(h100.scale_out_gbytes_per_s() * 8,
            400);  // 8 x 400 Gb/s per DGX H100
}

TEST(ChipCatalogTest, IdlePowerFallsBackToTdpFraction) {
  v1::Chip chip;
  chip.set_tdp_w(700);
  EXPECT_DOUBLE_EQ(IdlePowerW(chip), kIdlePowerFractionOfTdp * 700);
  chip.set_idle_power_w(55);
  EXPECT_DOUBLE_EQ(IdlePowerW(chip), 55);
}

TEST(ChipCatalogTest, EffectiveEfficiencyMergesChipWideDefaults) {
  ChipCatalog catalog = ShippedChips();
  const v1::Chip& ascend = Get(catalog, "ascend_910c");
  v1::OperatorEfficiency decode =
      EffectiveEfficiency(ascend, v1::OPERATOR_CLASS_ATTENTION_DECODE);
  EXPECT_DOUBLE_EQ(decode.compute(), 0.7);  // msmodeling chip-wide
  EXPECT_DOUBLE_EQ(decode.memory(), 0.6);   // msmodeling chip-wide
  EXPECT_FALSE(decode.has_floor_us());
  EXPECT_THAT(decode.source(), HasSubstr("msmodeling"));
  // AMLA's 86.8 % of peak is MLA's absorbed decode's own (its mla_decode
  // entry), not GQA decode's.
  EXPECT_DOUBLE_EQ(
      ResolveEfficiency(OperatorModelOptions(), ascend,
                        v1::OPERATOR_CLASS_ATTENTION_DECODE, "mla_decode")
          .compute,
      0.868);
  v1::OperatorEfficiency gemm =
      EffectiveEfficiency(ascend, v1::OPERATOR_CLASS_GEMM);
  EXPECT_DOUBLE_EQ(gemm.compute(), 0.7);
  EXPECT_DOUBLE_EQ(gemm.floor_us(), 5);
  EXPECT_EQ(gemm.op(), v1::OPERATOR_CLASS_GEMM);
  // H100 carries the efficiencies fitted to its measured kernels
  // (data/calibration/fits/); a chip nobody measured, such as H200, has no
  // GEMM entry and is left to the cost model's defaults.
  v1::OperatorEfficiency h100 =
      EffectiveEfficiency(Get(catalog, "h100"), v1::OPERATOR_CLASS_GEMM);
  EXPECT_DOUBLE_EQ(h100.compute(), 0.725);
  EXPECT_THAT(h100.source(), HasSubstr("calibrate fit"));
  v1::OperatorEfficiency h200 =
      EffectiveEfficiency(Get(catalog, "h200"), v1::OPERATOR_CLASS_GEMM);
  EXPECT_FALSE(h200.has_compute());
  EXPECT_FALSE(h200.has_memory());
}

// The fused-MoE entries adopted per serving framework on H100 (each met the
// leave-one-expert-shape-out goal, docs/calibration.md §4.4): a vLLM pool
// prices its routed experts with vLLM's Triton fit, whose permutation
// traffic is on every pair of the layer; chips and frameworks without an
// entry inherit the same fit as the `moe` default (docs/calibration.md §7),
// and H100's SGLang (held out 15.1 %, not adopted) takes it too.
TEST(ChipCatalogTest, FusedMoeEntriesPerFramework) {
  const ChipCatalog catalog = ShippedChips();
  OperatorModelOptions vllm;
  vllm.framework = "vllm";
  const ClassEfficiency h100_vllm = ResolveEfficiency(
      vllm, Get(catalog, "h100"), v1::OPERATOR_CLASS_MOE, "moe_experts");
  EXPECT_DOUBLE_EQ(h100_vllm.latency_s, 39.4e-6);
  EXPECT_DOUBLE_EQ(h100_vllm.layer_pair_bytes, 9.85);
  OperatorModelOptions trtllm;
  trtllm.framework = "trtllm";
  EXPECT_DOUBLE_EQ(ResolveEfficiency(trtllm, Get(catalog, "h100"),
                                     v1::OPERATOR_CLASS_MOE, "moe_experts")
                       .latency_s,
                   28.5e-6);
  // FP8 experts (block-scaled, as DeepSeek-V3 ships) take each
  // framework's own FP8 fit.
  EXPECT_DOUBLE_EQ(
      ResolveEfficiency(trtllm, Get(catalog, "h100"), v1::OPERATOR_CLASS_MOE,
                        "moe_experts", v1::DTYPE_FP8)
          .compute,
      0.424);
  EXPECT_DOUBLE_EQ(
      ResolveEfficiency(vllm, Get(catalog, "h100"), v1::OPERATOR_CLASS_MOE,
                        "moe_experts", v1::DTYPE_FP8)
          .latency_s,
      45.2e-6);
  OperatorModelOptions sglang;
  sglang.framework = "sglang";
  for (const auto& [chip, o] :
       {std::pair{"h200", vllm}, {"b200", trtllm}, {"h100", sglang}}) {
    const ClassEfficiency e =
        ResolveEfficiency(o, Get(catalog, chip), v1::OPERATOR_CLASS_MOE, "moe");
    EXPECT_DOUBLE_EQ(e.latency_s, h100_vllm.latency_s) << chip;
    EXPECT_DOUBLE_EQ(e.compute, h100_vllm.compute) << chip;
  }
}

// bf16 GEMMs per serving framework (docs/calibration.md §4.1): H100 and
// A100 carry each framework's fit on aiconfigurator's CUDA-graph tables;
// without a framework the Vidur fit (eager GEMMs, M tiles) applies; a chip
// nobody measured takes the H100 frameworks pooled, whatever its framework.
TEST(ChipCatalogTest, GemmEntriesPerFramework) {
  const ChipCatalog catalog = ShippedChips();
  auto gemm = [&](const char* chip, const char* framework) {
    OperatorModelOptions o;
    o.framework = framework;
    return ResolveEfficiency(o, Get(catalog, chip), v1::OPERATOR_CLASS_GEMM);
  };
  EXPECT_DOUBLE_EQ(gemm("h100", "").compute, 0.725);
  EXPECT_DOUBLE_EQ(gemm("h100", "").tile_overhead_rows, 24.9);
  EXPECT_DOUBLE_EQ(gemm("h100", "trtllm").compute, 0.793);
  EXPECT_DOUBLE_EQ(gemm("h100", "vllm").compute, 0.814);
  EXPECT_DOUBLE_EQ(gemm("h100", "sglang").compute, 0.771);
  for (const char* fw : {"trtllm", "vllm", "sglang"}) {
    // Set to 0, not inherited from the framework-free entry.
    EXPECT_EQ(gemm("h100", fw).tile_overhead_rows, 0) << fw;
  }
  EXPECT_DOUBLE_EQ(gemm("a100", "").compute, 0.735);
  EXPECT_DOUBLE_EQ(gemm("a100", "vllm").compute, 0.832);
  EXPECT_DOUBLE_EQ(gemm("a100", "sglang").tile_overhead_rows, 8.59);
  const ClassEfficiency pooled =
      OperatorModelOptions().efficiency[v1::OPERATOR_CLASS_GEMM];
  EXPECT_DOUBLE_EQ(pooled.compute, 0.793);
  for (const char* fw : {"", "trtllm", "vllm", "sglang"}) {
    EXPECT_DOUBLE_EQ(gemm("h200", fw).compute, pooled.compute) << fw;
    EXPECT_DOUBLE_EQ(gemm("h200", fw).memory, pooled.memory) << fw;
  }
  // FP8 GEMMs: H100's per-tensor fp8 fits per framework (after its bf16
  // entries); without a framework, and on a chip nobody measured, the H100
  // fp8 tables pooled (operator_options.cc ApplyFp8GemmDefault).
  auto fp8 = [&](const char* chip, const char* framework) {
    OperatorModelOptions o;
    o.framework = framework;
    return ResolveEfficiency(o, Get(catalog, chip), v1::OPERATOR_CLASS_GEMM,
                             v1::DTYPE_FP8);
  };
  EXPECT_DOUBLE_EQ(fp8("h100", "trtllm").compute, 0.648);
  EXPECT_DOUBLE_EQ(fp8("h100", "vllm").compute, 0.643);
  EXPECT_DOUBLE_EQ(fp8("h100", "sglang").compute, 0.611);
  EXPECT_DOUBLE_EQ(fp8("h100", "sglang").tile_overhead_rows, 64);
  for (const char* fw : {"", "trtllm", "vllm", "sglang"}) {
    EXPECT_DOUBLE_EQ(fp8("h100", "").compute, 0.707) << fw;
    EXPECT_DOUBLE_EQ(fp8("h200", fw).compute, 0.707) << fw;
  }
}

TEST(ChipCatalogTest, NegativeBandwidthNamesFileLineAndField) {
  EXPECT_EQ(LoadError("negative_bandwidth"),
            kBadDir +
                "/negative_bandwidth/chips/neg_bw.txtpb:6:1: field "
                "'memory_bandwidth_tbps' must be > 0 (got -1)");
}

TEST(ChipCatalogTest, OneEfficiencyEntryPerClassAndFramework) {
  v1::Chip chip = testutil::FindOrFail(ShippedChips(), "h100");
  chip.clear_efficiency();
  v1::OperatorEfficiency* e = chip.add_efficiency();
  e->set_op(v1::OPERATOR_CLASS_ATTENTION_DECODE);
  e = chip.add_efficiency();
  e->set_op(v1::OPERATOR_CLASS_ATTENTION_DECODE);
  e->set_framework("vllm");
  EXPECT_TRUE(ValidateChip(chip, "h100.txtpb").ok());
  *chip.add_efficiency() = *e;
  absl::Status twice = ValidateChip(chip, "h100.txtpb");
  EXPECT_THAT(twice.message(),
              HasSubstr("efficiency[2].op': OPERATOR_CLASS_ATTENTION_DECODE "
                        "(framework vllm) already has an efficiency entry"));
  chip.mutable_efficiency(2)->set_framework("tgi");
  absl::Status unknown = ValidateChip(chip, "h100.txtpb");
  EXPECT_THAT(unknown.message(),
              HasSubstr("efficiency[2].framework': 'tgi' is not a serving "
                        "framework"));
}

// A kernel is a lower-case name on one class's or operator's entry; a class
// may have one entry per kernel.
TEST(ChipCatalogTest, AlternativeKernelEntriesAreChecked) {
  ChipCatalog catalog = ShippedChips();
  const v1::Chip& ascend = Get(catalog, "ascend_910c");
  EXPECT_THAT(ChipKernels(ascend), ::testing::ElementsAre("flashmla"));
  OperatorModelOptions flashmla;
  flashmla.kernels = {"flashmla"};
  EXPECT_DOUBLE_EQ(
      ResolveEfficiency(flashmla, ascend, v1::OPERATOR_CLASS_ATTENTION_DECODE,
                        "mla_decode")
          .compute,
      0.667);
  v1::Chip chip = testutil::FindOrFail(ShippedChips(), "h100");
  chip.clear_efficiency();
  v1::OperatorEfficiency* e = chip.add_efficiency();
  e->set_op(v1::OPERATOR_CLASS_ATTENTION_PREFILL);
  e = chip.add_efficiency();
  e->set_op(v1::OPERATOR_CLASS_ATTENTION_PREFILL);
  e->set_kernel("fa2");
  EXPECT_TRUE(ValidateChip(chip, "h100.txtpb").ok());
  *chip.add_efficiency() = *e;
  EXPECT_THAT(ValidateChip(chip, "h100.txtpb").message(),
              HasSubstr("efficiency[2].op': OPERATOR_CLASS_ATTENTION_PREFILL "
                        "(kernel fa2) already has an efficiency entry"));
  chip.mutable_efficiency(2)->set_kernel("FA-2");
  EXPECT_THAT(ValidateChip(chip, "h100.txtpb").message(),
              HasSubstr("efficiency[2].kernel': 'FA-2' is not a lower-case "
                        "name"));
  chip.mutable_efficiency(2)->set_kernel("fa3");
  chip.mutable_efficiency(2)->set_op(v1::OPERATOR_CLASS_UNSPECIFIED);
  EXPECT_THAT(ValidateChip(chip, "h100.txtpb").message(),
              HasSubstr("efficiency[2].kernel': a chip-wide entry"));
  chip.mutable_efficiency(2)->set_op(v1::OPERATOR_CLASS_ATTENTION_DECODE);
  v1::OperatorEfficiency* sub = chip.mutable_efficiency(2)->add_operators();
  sub->set_op_name("mla_decode");
  sub->set_kernel("Flash MLA");
  EXPECT_THAT(ValidateChip(chip, "h100.txtpb").message(),
              HasSubstr("efficiency[2].operators[0].kernel': 'Flash MLA'"));
  // One operator entry per operator and kernel.
  sub->set_kernel("flashmla");
  EXPECT_TRUE(ValidateChip(chip, "h100.txtpb").ok());
  v1::OperatorEfficiency* twin = chip.mutable_efficiency(2)->add_operators();
  *twin = *sub;
  EXPECT_THAT(ValidateChip(chip, "h100.txtpb").message(),
              HasSubstr("efficiency[2].operators[1].op_name': 'mla_decode' "
                        "(kernel flashmla) already has an efficiency entry"));
  twin->clear_kernel();
  EXPECT_TRUE(ValidateChip(chip, "h100.txtpb").ok());
}

// An efficiency entry's dtype needs the chip's peak for it (an FP8 entry
// on a chip without fp8_tflops would never apply: its 8-bit GEMMs are priced
// at another precision).
TEST(ChipCatalogTest, DtypeEntryWithoutItsPeakNamesFileLineAndField) {
  EXPECT_EQ(LoadError("fp8_efficiency_without_peak"),
            kBadDir +
                "/fp8_efficiency_without_peak/chips/no_fp8.txtpb:19:3: field "
                "'efficiency[1].dtype': DTYPE_FP8 but the chip has no "
                "fp8_tflops");
  // One entry per class, framework and dtype; a dtype-free and an FP8 entry
  // of one class are two.
  v1::Chip chip = testutil::FindOrFail(ShippedChips(), "h100");
  chip.clear_efficiency();
  v1::OperatorEfficiency* e = chip.add_efficiency();
  e->set_op(v1::OPERATOR_CLASS_GEMM);
  e = chip.add_efficiency();
  e->set_op(v1::OPERATOR_CLASS_GEMM);
  e->set_dtype(v1::DTYPE_FP8);
  EXPECT_TRUE(ValidateChip(chip, "h100.txtpb").ok());
  *chip.add_efficiency() = *e;
  EXPECT_THAT(ValidateChip(chip, "h100.txtpb").message(),
              HasSubstr("efficiency[2].op': OPERATOR_CLASS_GEMM (DTYPE_FP8) "
                        "already has an efficiency entry"));
  chip.mutable_efficiency(2)->set_dtype(v1::DTYPE_FP16);
  EXPECT_THAT(ValidateChip(chip, "h100.txtpb").message(),
              HasSubstr("efficiency[2].dtype': DTYPE_FP16 is not a precision "
                        "the cost model prices"));
  // FP4 entries are priced (FP4 weights' FFN GEMMs) where the chip has the
  // peak: H100 has none.
  chip.mutable_efficiency(2)->set_dtype(v1::DTYPE_FP4);
  EXPECT_THAT(ValidateChip(chip, "h100.txtpb").message(),
              HasSubstr("efficiency[2].dtype': DTYPE_FP4 but the chip has no "
                        "fp4_tflops"));
  chip.set_fp4_tflops(100);
  EXPECT_TRUE(ValidateChip(chip, "h100.txtpb").ok());
}

TEST(ChipCatalogTest, MissingFieldSaysMissing) {
  EXPECT_EQ(
      LoadError("missing_field"),
      kBadDir + "/missing_field/chips/no_tdp.txtpb: field 'tdp_w' is missing");
}

TEST(ChipCatalogTest, UnknownFieldIsAParseErrorWithPosition) {
  std::string error = LoadError("unknown_field");
  EXPECT_THAT(error, HasSubstr(kBadDir + "/unknown_field/chips/typo.txtpb:9:"));
  EXPECT_THAT(error, HasSubstr("tdp_watts"));
}

TEST(ChipCatalogTest, DuplicateNameNamesBothFiles) {
  EXPECT_EQ(
      LoadError("duplicate_name"),
      kBadDir +
          "/duplicate_name/chips/b.txtpb:3:1: name 'twin' already defined in " +
          kBadDir + "/duplicate_name/chips/a.txtpb");
}

TEST(ChipCatalogTest, BadEfficiencyPointsAtItsOwnEntry) {
  // The first entry's `compute` is on line 13; the bad one is on line 21.
  EXPECT_EQ(
      LoadError("bad_efficiency"),
      kBadDir +
          "/bad_efficiency/chips/eff.txtpb:21:3: field 'efficiency[1].compute' "
          "must be in (0, 1] (got 1.5)");
}

TEST(ChipCatalogTest, ValidateListsEveryProblem) {
  v1::Chip chip;
  chip.set_bf16_tflops(-5);
  chip.set_sram_mb(-1);
  absl::Status status = ValidateChip(chip, "/nonexistent.txtpb");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  const std::string message(status.message());
  EXPECT_THAT(
      message,
      HasSubstr(
          "/nonexistent.txtpb: field 'bf16_tflops' must be > 0 (got -5)"));
  EXPECT_THAT(message,
              HasSubstr("/nonexistent.txtpb: field 'tdp_w' is missing"));
  EXPECT_THAT(message, HasSubstr("field 'scale_out_gbytes_per_s' is missing"));
  EXPECT_THAT(message, HasSubstr("field 'sram_mb' must be >= 0 (got -1)"));
}

// Regression (issue 16): finite values that pass a "> 0" check but make
// every time absurd (1e-300 GB/s, 1e-300 TFLOP/s) or are not numbers.
TEST(ChipCatalogTest, ValuesOutsideTheirSanityRangeAreRefused) {
  for (auto [field, value] : std::vector<std::pair<std::string, double>>{
           {"scale_up_gbytes_per_s", 1e-300},
           {"bf16_tflops", 1e-300},
           {"memory_bandwidth_tbps", 1e300},
           {"tdp_w", std::nan("")}}) {
    v1::Chip chip = Get(ShippedChips(), "h100");
    const auto* descriptor = v1::Chip::descriptor()->FindFieldByName(field);
    chip.GetReflection()->SetDouble(&chip, descriptor, value);
    absl::Status status = ValidateChip(chip, "/nonexistent.txtpb");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_THAT(status.message(),
                HasSubstr("/nonexistent.txtpb: field '" + field + "'"));
  }
}

// Regression (issue 16): the fitted terms of efficiency entries, their
// all-reduce lines and prices took any finite number (a negative latency, a
// tile of 1e-300 rows, a price of 1e300 USD); the absurd ones ended the run
// only at SimGrid's wait, without naming the file or the field.
TEST(ChipCatalogTest, FittedTermsAndPricesOutsideTheirRangeAreRefused) {
  const v1::Chip h100 = Get(ShippedChips(), "h100");
  int tiled = -1, collective = -1, moe = -1;
  for (int i = 0; i < h100.efficiency_size(); ++i) {
    const v1::OperatorEfficiency& e = h100.efficiency(i);
    if (tiled < 0 && e.tile_q_rows() > 0) tiled = i;
    if (collective < 0 && e.collective_fits_size() > 0) collective = i;
    if (moe < 0 && e.operators_size() > 0 &&
        e.operators(0).has_local_pair_bytes()) {
      moe = i;
    }
  }
  ASSERT_GE(tiled, 0);
  ASSERT_GE(collective, 0);
  ASSERT_GE(moe, 0);
  struct Case {
    std::function<void(v1::Chip*)> spoil;
    std::string field;  // expected as "field '<field>'"
  };
  const std::string t = absl::StrCat("efficiency[", tiled, "]");
  const std::string c = absl::StrCat("efficiency[", collective, "]");
  const std::string m = absl::StrCat("efficiency[", moe, "]");
  const std::vector<Case> cases = {
      {[&](v1::Chip* x) { x->mutable_efficiency(tiled)->set_latency_us(-1); },
       t + ".latency_us"},
      {[&](v1::Chip* x) {
         x->mutable_efficiency(tiled)->set_unit_latency_us(1e300);
       },
       t + ".unit_latency_us"},
      {[&](v1::Chip* x) {
         x->mutable_efficiency(tiled)->set_tile_q_rows(1e-300);
       },
       t + ".tile_q_rows"},
      {[&](v1::Chip* x) { x->mutable_efficiency(tiled)->set_tile_kv_rows(-1); },
       t + ".tile_kv_rows"},
      {[&](v1::Chip* x) {
         x->mutable_efficiency(tiled)->set_cache_speedup(0.5);
       },
       t + ".cache_speedup"},
      {[&](v1::Chip* x) {
         x->mutable_efficiency(moe)->mutable_operators(0)->set_local_pair_bytes(
             -1);
       },
       m + ".operators[0].local_pair_bytes"},
      {[&](v1::Chip* x) {
         x->mutable_efficiency(collective)
             ->mutable_collective_fits(0)
             ->set_bus_efficiency(-1);
       },
       c + ".collective_fits[0].bus_efficiency"},
      {[&](v1::Chip* x) {
         x->mutable_efficiency(collective)
             ->mutable_collective_fits(0)
             ->set_latency_us(1e300);
       },
       c + ".collective_fits[0].latency_us"},
      {[&](v1::Chip* x) {
         x->mutable_pricing()->mutable_purchase_usd()->set_value(1e300);
       },
       "pricing.purchase_usd.value"},
  };
  for (const Case& k : cases) {
    v1::Chip chip = h100;
    k.spoil(&chip);
    absl::Status status = ValidateChip(chip, "/nonexistent.txtpb");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << k.field;
    EXPECT_THAT(status.message(),
                HasSubstr("/nonexistent.txtpb: field '" + k.field + "'"));
  }
}

TEST(ChipCatalogTest, DieThatDoesNotFitTheWaferIsRejected) {
  v1::Chip chip = Get(ShippedChips(), "h100");
  chip.mutable_die_cost()->set_die_area_mm2(60000);
  absl::Status status = ValidateChip(chip, "/nonexistent.txtpb");
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("does not fit a 300 mm wafer"));
}

TEST(ChipCatalogTest, UserFolderOverridesShippedChip) {
  absl::StatusOr<ChipCatalog> catalog =
      LoadChipCatalog(kDataDir, {kBadDir + "/user_chips"});
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_EQ(catalog->size(), ShippedChips().size());  // replaced, not added
  EXPECT_EQ(Get(*catalog, "h100").tdp_w(), 650);
  // No die_cost in the override: cost unknown.
  EXPECT_EQ(ManufacturingCostUsd(Get(*catalog, "h100")), 0);
}

TEST(ChipCatalogTest, MissingFolderIsNotFound) {
  absl::StatusOr<ChipCatalog> catalog =
      LoadChipCatalog(kBadDir + "/no_such_folder");
  EXPECT_EQ(catalog.status().code(), absl::StatusCode::kNotFound);
}

// The shipped chip and model files give the same SPAD Table 3 speed ratios
// as the inline fixtures of operator_model_test.cc.
TEST(ChipCatalogTest, ShippedChipsGiveSpadTable3SpeedRatios) {
  absl::StatusOr<ChipCatalog> chips = LoadChipCatalog(kDataDir);
  ASSERT_TRUE(chips.ok()) << chips.status();
  absl::StatusOr<workloads::ModelCatalog> models =
      workloads::LoadModelCatalog(kDataDir);
  ASSERT_TRUE(models.ok()) << models.status();
  const v1::Model& bloom = **models->Find("bloom-176b");
  auto make = [&](const char* chip) {
    return std::move(*OperatorModel::Create(bloom, **chips->Find(chip), 8, 1));
  };
  auto h100 = make("h100");
  auto pre = make("spad_prefill");
  auto dec = make("spad_decode");
  BatchShape p;
  p.AddPrefillChunk(1500, 0);
  BatchShape d;
  for (int i = 0; i < 64; ++i) d.AddDecode(1500);
  EXPECT_NEAR(h100->IterationSeconds(p) / pre->IterationSeconds(p), 1.08,
              0.15 * 1.08);
  EXPECT_NEAR(h100->IterationSeconds(p) / dec->IterationSeconds(p), 0.69,
              0.15 * 0.69);
  EXPECT_NEAR(h100->IterationSeconds(d) / dec->IterationSeconds(d), 0.97,
              0.15 * 0.97);
  const double pre_decode =
      h100->IterationSeconds(d) / pre->IterationSeconds(d);
  EXPECT_GT(pre_decode, 0.61);
  EXPECT_LT(pre_decode, 0.80);
}

}  // namespace
}  // namespace fleetsim::hardware
