#!/usr/bin/env bash
# Diffusion LLM serving reproduced from fleetsim replays (docs/seeds.md):
# LLaDA-8B (arXiv:2502.09992) on one H100, every denoising step a
# bidirectional forward pass priced by the operator cost model and batched
# by the batch scheduler (docs/simulator.md "Diffusion LLMs").
#  (a) "How efficient are diffusion language models?" (arXiv:2510.18480):
#      output tokens per second of a burst of B requests on a batch cap of B
#      (B = 1..64), LLaDA-8B served vanilla (no cache, one token a step),
#      with Fast-dLLM's dual cache (arXiv:2505.22618), with parallel
#      decoding (K tokens a step, no cache), and with both (Fast-dLLM),
#      beside Llama-3-8B generating the same tokens autoregressively;
#  (b) ODB-dLLM (arXiv:2511.21759) at batch 1 on its setting (a 1,024-token
#      canvas in blocks of 32, vanilla at 1,024 steps): the latency of
#      vanilla, Fast-dLLM (dual cache + K tokens a step), Fast-dLLM with
#      adaptive length, and with adaptive length and jump-share steps
#      (3 copies, J steps a pass), for answers of 128..768 tokens.
# Both on the vLLM-like stack (the default serving overhead) and on a
# CUDA-graph stack (framework_layer_overhead_us: 0).
# ASSUMPTIONS (inputs, not measured here): K, J, the prompt lengths and the
# answer lengths; change them below.
#   bench/seeds_dllm.sh [build-dir]
# OUT keeps the clusters, traces and summaries.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build}/fleetsim
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
K=3              # tokens finalised per step under parallel decoding
J=2              # denoising steps one jump-share pass completes
PROMPT_A=256     # (a): prompt and canvas (= the AR model's output)
CANVAS_A=256
BATCHES="1 2 4 8 16 32 64"
PROMPT_B=512     # (b): prompt; canvas 1,024 as in ODB-dLLM's scripts
ANSWERS="128 256 512 768"
STACKS="vllm graphs"

cluster() {  # NAME STACK BATCH [DIFFUSION_SERVING...]
  local file="$OUT/$1.txtpb"
  {
    echo "name: \"$1\""
    [ "$2" = graphs ] && echo "framework_layer_overhead_us: 0"
    echo "pools { role: POOL_ROLE_COLOCATED machine { chip: \"h100\" chips_per_machine: 1 } machines: 1 tp: 1 batching { max_batch_size: $3 } }"
    [ $# -gt 3 ] && echo "diffusion_serving { ${*:4} }"
  } >"$file"
  echo "$file"
}

trace() {  # NAME REQUESTS PROMPT OUTPUT
  {
    echo arrived_at,num_prefill_tokens,num_decode_tokens
    for ((i = 0; i < $2; i++)); do echo "0,$3,$4"; done
  } >"$OUT/$1.csv"
}

replay() {  # MODEL CLUSTER TRACE RUN
  "$BIN" replay --model "$1" --cluster "$2" --trace "$OUT/$3.csv" --seed 1 \
    --out "$OUT/$4" >"$OUT/$4.log" 2>&1
}

A="canvas_tokens: $CANVAS_A block_tokens: 32"
declare -A MODES_A=(
  [vanilla]="$A cache: DIFFUSION_CACHE_NONE"
  [dual]="$A cache: DIFFUSION_CACHE_DUAL"
  [parallel]="$A cache: DIFFUSION_CACHE_NONE tokens_per_step: $K"
  [fast]="$A cache: DIFFUSION_CACHE_DUAL tokens_per_step: $K"
)
for s in $STACKS; do
  for b in $BATCHES; do
    trace "a_$b" "$b" "$PROMPT_A" "$CANVAS_A"
    replay llama-3-8b "$(cluster "a_ar_${s}_$b" "$s" "$b")" "a_$b" "a_ar_${s}_$b"
    for m in "${!MODES_A[@]}"; do
      replay llada-8b "$(cluster "a_${m}_${s}_$b" "$s" "$b" "${MODES_A[$m]}")" \
        "a_$b" "a_${m}_${s}_$b"
    done
  done
done

B="canvas_tokens: 1024 block_tokens: 32"
declare -A MODES_B=(
  [vanilla]="$B cache: DIFFUSION_CACHE_NONE"
  [fast]="$B cache: DIFFUSION_CACHE_DUAL tokens_per_step: $K"
  [alp]="$B cache: DIFFUSION_CACHE_DUAL tokens_per_step: $K adaptive_length: true"
  [odb]="$B cache: DIFFUSION_CACHE_DUAL tokens_per_step: $K adaptive_length: true speculative_copies: 3 steps_per_pass: $J"
)
for s in $STACKS; do
  for n in $ANSWERS; do
    trace "b_$n" 1 "$PROMPT_B" "$n"
    for m in "${!MODES_B[@]}"; do
      replay llada-8b "$(cluster "b_${m}_${s}_$n" "$s" 1 "${MODES_B[$m]}")" \
        "b_$n" "b_${m}_${s}_$n"
    done
  done
done

python3 - "$OUT" "$BATCHES" "$ANSWERS" "$STACKS" "$K" "$J" <<'PY'
import json, sys
out, batches, answers, stacks = sys.argv[1], *[a.split() for a in sys.argv[2:5]]
k, j = sys.argv[5], sys.argv[6]
def summary(name):
    s = json.load(open(f"{out}/{name}/summary.json"))
    assert int(s.get("rejected", 0)) == 0, name  # int64 is a JSON string
    return s
label = {"vllm": "vLLM-like", "graphs": "CUDA graphs"}
print(f"(a) tokens/s, LLaDA-8B vs Llama-3-8B, one H100; 256-token prompt, "
      f"256 output tokens; K = {k}\n")
print("| stack | batch | AR | vanilla | dual cache | parallel | dual + parallel "
      "(Fast-dLLM) | Fast-dLLM / AR | Fast-dLLM / dual | dual / vanilla | "
      "Fast-dLLM / vanilla |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for s in stacks:
    for b in batches:
        t = {m: summary(f"a_{m}_{s}_{b}")["output_tokens_per_s"]
             for m in ("ar", "vanilla", "dual", "parallel", "fast")}
        print(f"| {label[s]} | {b} | {t['ar']:,.0f} | {t['vanilla']:,.0f} | "
              f"{t['dual']:,.0f} | {t['parallel']:,.0f} | {t['fast']:,.0f} | "
              f"{t['fast'] / t['ar']:.2f} | {t['fast'] / t['dual']:.2f}x | "
              f"{t['dual'] / t['vanilla']:.2f}x | "
              f"{t['fast'] / t['vanilla']:.2f}x |")
print(f"\n(b) batch 1, LLaDA-8B, one H100; 512-token prompt, 1,024-token "
      f"canvas in blocks of 32; K = {k}, J = {j}\n")
print("| stack | answer | vanilla s | Fast-dLLM s | + adaptive length s | "
      "ODB-dLLM s | ODB / vanilla | ODB / Fast-dLLM | adaptive / Fast-dLLM |")
print("|---|---|---|---|---|---|---|---|---|")
for s in stacks:
    for n in answers:
        e = {m: summary(f"b_{m}_{s}_{n}")["e2e_s"]["mean"]
             for m in ("vanilla", "fast", "alp", "odb")}
        print(f"| {label[s]} | {n} | {e['vanilla']:.2f} | {e['fast']:.3f} | "
              f"{e['alp']:.3f} | {e['odb']:.3f} | {e['vanilla'] / e['odb']:.0f}x | "
              f"{e['fast'] / e['odb']:.2f}x | {e['fast'] / e['alp']:.2f}x |")
PY
