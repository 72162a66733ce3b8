// Google Benchmark for the simulator's hot path: OperatorModel::
// IterationSeconds on the batches a replay sees (a prefill chunk, a decode
// batch, a mixed Sarathi batch), for a dense GQA model, BLOOM-176B and an
// MoE model. Run: build/operator_model_benchmark.
#include <memory>

#include "benchmark/benchmark.h"
#include "fleetsim/v1/chip.pb.h"
#include "fleetsim/v1/model.pb.h"
#include "hardware/operator_model.h"
#include "util/textproto.h"

namespace fleetsim::hardware {
namespace {

template <typename Message>
Message Load(const std::string& path) {
  Message m;
  absl::Status s =
      ReadTextProtoFile(std::string(FLEETSIM_SOURCE_DIR) + "/" + path, &m);
  if (!s.ok()) std::abort();
  return m;
}

BatchShape Mixed() {
  BatchShape b;
  b.AddPrefillChunk(512, 1024);
  for (int i = 0; i < 64; ++i) b.AddDecode(1500 + 7 * i);
  return b;
}

void Run(benchmark::State& state, const char* model, int tp, BatchShape batch) {
  auto m = OperatorModel::Create(
      Load<v1::Model>(model), Load<v1::Chip>("data/chips/h100.txtpb"), tp, 1);
  if (!m.ok()) std::abort();
  double sink = 0;
  for (auto _ : state) {
    batch.decode_context_tokens += 1;  // defeat hoisting
    sink += (*m)->IterationSeconds(batch);
  }
  benchmark::DoNotOptimize(sink);
}

void BM_Bloom176bTp8Mixed(benchmark::State& state) {
  Run(state, "data/models/bloom-176b.txtpb", 8, Mixed());
}
void BM_Llama70bTp4Decode(benchmark::State& state) {
  BatchShape b;
  for (int i = 0; i < 128; ++i) b.AddDecode(2000);
  Run(state, "data/models/llama-2-70b.txtpb", 4, b);
}
void BM_Llama70bTp4Prefill(benchmark::State& state) {
  BatchShape b;
  b.AddPrefillChunk(2048, 0);
  Run(state, "data/models/llama-2-70b.txtpb", 4, b);
}
void BM_Mixtral8x7bTp2Mixed(benchmark::State& state) {
  Run(state, "data/models/mixtral-8x7b.txtpb", 2, Mixed());
}
BENCHMARK(BM_Bloom176bTp8Mixed);
BENCHMARK(BM_Llama70bTp4Decode);
BENCHMARK(BM_Llama70bTp4Prefill);
BENCHMARK(BM_Mixtral8x7bTp2Mixed);

}  // namespace
}  // namespace fleetsim::hardware

BENCHMARK_MAIN();
