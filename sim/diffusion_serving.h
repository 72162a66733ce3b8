// File: sim/diffusion_serving.h
//
// Serving a masked diffusion LM (Cluster.diffusion_serving; LLaDA, Nie et
// al. 2025, arXiv:2502.09992): the cluster's settings checked, and the
// arithmetic of one request's forward passes. A request's answer is a
// canvas of L mask tokens after its P prompt tokens, denoised in blocks of
// B from left to right; each denoising step is a forward pass in which
// every computed (query) token attends to the whole sequence. What a pass
// computes depends on the cache (Fast-dLLM, Wu et al. 2025,
// arXiv:2505.22618):
//   NONE    every pass computes all P + L tokens;
//   PREFIX  the block's first pass computes all P + L (the refresh); its
//           other passes the current block and every later block;
//   DUAL    the refresh, then the current block alone.
// k tokens are finalised per step on average (parallel decoding), so a
// block takes S = ceil(B / k) steps. ODB-dLLM (Wei et al. 2025,
// arXiv:2511.21759) adds two mechanisms: adaptive length (the canvas
// shrinks after the first pass to the answer rounded up to whole blocks)
// and jump-share speculative steps (a cached pass also scores c copies of
// the block and completes j steps on average, j an input).
//
// Passes are counted from the expectation, not drawn, as speculative
// decoding's tokens are (sim/speculative_decoding.h): a block takes
// 1 + ceil((S - 1) / j) passes with a cache (the refresh does one step),
// S without.
#ifndef FLEETSIM_SIM_DIFFUSION_SERVING_H_
#define FLEETSIM_SIM_DIFFUSION_SERVING_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "fleetsim/v1/cluster.pb.h"

namespace fleetsim::sim {

struct FleetSpec;

// One forward pass of one request: `query_tokens` computed, each attending
// to `sequence_tokens` (bidirectional), logits for every computed token.
struct DiffusionPass {
  int64_t query_tokens = 0;
  int64_t sequence_tokens = 0;
};

// Cluster.diffusion_serving, checked.
struct DiffusionServingSpec {
  int canvas_tokens = 0;  // L
  int block_tokens = 0;   // B
  v1::DiffusionCache cache = v1::DIFFUSION_CACHE_UNSPECIFIED;
  double tokens_per_step = 1;  // k
  bool adaptive_length = false;
  int speculative_copies = 0;  // c
  double steps_per_pass = 1;   // j
  // The model's max_context: prompt + canvas must fit it.
  int64_t max_sequence_tokens = 0;

  // Denoising steps per block, ceil(B / k).
  int StepsPerBlock() const;
  // Forward passes per block (see the file comment).
  int PassesPerBlock() const;
  // The canvas after the first pass for an answer of `output_tokens`: L,
  // or with adaptive length the answer rounded up to blocks (at most L).
  int64_t FinalCanvasTokens(int64_t output_tokens) const;
  // Passes a request with an answer of `output_tokens` takes.
  int64_t TotalPasses(int64_t output_tokens) const;
  // Pass `index` (0-based) of a request of `prompt_tokens` and
  // `output_tokens`. REQUIRES: index < TotalPasses(output_tokens).
  DiffusionPass Pass(int64_t index, int64_t prompt_tokens,
                     int64_t output_tokens) const;
  // Answer tokens the user has after `passes` passes: those of the blocks
  // finished (a block streams once all its tokens are final), the whole
  // answer only once the last pass ran (the canvas's later blocks are
  // denoised too), so fewer than `output_tokens` before that.
  int64_t TokensAfterPasses(int64_t passes, int64_t output_tokens) const;
  // Tokens whose K/V a request holds from admission through its first
  // pass: none without a cache, prompt + canvas with one (the refresh
  // caches the whole sequence).
  int64_t HeldTokens(int64_t prompt_tokens) const;
  // And after its first pass: with adaptive length the canvas has shrunk
  // to FinalCanvasTokens, and the dropped blocks' K/V is freed.
  int64_t HeldTokensAfterFirstPass(int64_t prompt_tokens,
                                   int64_t output_tokens) const;
};

// Checks Cluster.diffusion_serving against the fleet's model and applies
// it to every pool (PoolSpec::diffusion). InvalidArgument naming `origin`,
// the line and the field: a diffusion model without diffusion_serving or
// the reverse, cache unset, canvas_tokens or block_tokens unset or the
// canvas not a multiple of the block, tokens_per_step above the block, a
// canvas that leaves no room for a prompt in the model's max_context,
// speculative_copies without a cache, steps_per_pass without copies or
// above 1 + copies. Unimplemented with disaggregated pools, the mixed pool,
// speculative decoding, test-time scaling, prefix caching or an iteration
// table.
absl::Status ApplyDiffusionServing(const v1::Cluster& cluster,
                                   const std::string& origin, FleetSpec* fleet);

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_DIFFUSION_SERVING_H_
