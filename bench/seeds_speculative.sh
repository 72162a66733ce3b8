#!/usr/bin/env bash
# Speculative decoding (Leviathan et al. 2023, "Fast Inference from
# Transformers via Speculative Decoding", arXiv:2211.17192) reproduced from
# fleetsim replays: Llama-3-8B on one H100, Llama-3.2-1B drafting.
#  (a) a lone request (512-token prompt, 257 output tokens): the replayed
#      speed-up (mean TPOT without / with drafting) beside Theorem 3.8's
#      (1 - a^(k+1)) / ((1 - a)(c k + 1)), with c = draft step / target
#      step from fleetsim's own cost model (`fleetsim estimate`), and beside
#      E / (c k + v), which also charges the verify pass its cost v (in
#      target steps) as the replay does;
#  (b) the gain fading as load, and with it the decode batch, grows
#      (Poisson arrivals of the same request at rising rates).
# Both for the serving stack fleetsim is calibrated on (vLLM-like, 154.5 us
# per layer per iteration; docs/calibration.md §6) and for a CUDA-graph
# stack (framework_layer_overhead_us: 0, kernels only).
#   bench/seeds_speculative.sh [build-dir]
# OUT keeps the clusters, traces and summaries.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=llama-3-8b
source bench/seeds_decoding_common.sh
PROMPT=512
OUTPUT=257
CONTEXT=$((PROMPT + OUTPUT / 2))  # a lone request's mean decode context

cluster() {  # NAME STACK [K ALPHA]
  local file="$OUT/$1.txtpb"
  {
    echo "name: \"$1\""
    echo 'pools { role: POOL_ROLE_COLOCATED machine { chip: "h100" chips_per_machine: 1 } machines: 1 tp: 1 }'
    [[ $2 == graphs ]] && echo 'framework_layer_overhead_us: 0'
    if [[ $# -ge 4 ]]; then
      echo "speculative_decoding { draft_model: \"llama-3.2-1b\" draft_tokens: $3 acceptance_rate: $4 }"
    fi
  } >"$file"
  echo "$file"
}

write_traces "$PROMPT" "$OUTPUT"

estimate() {  # NAME MODEL BATCH-FLAGS...
  local name=$1 model=$2
  shift 2
  "$BIN" estimate --model "$model" --chip h100 --tp 1 "$@" --json \
    >"$OUT/$name.json"
}
estimate target_decode llama-3-8b --decode "1@$CONTEXT"
estimate draft_decode llama-3.2-1b --decode "1@$CONTEXT"
for k in 2 4 8; do
  estimate "target_verify_k$k" llama-3-8b --prefill "$((k + 1)):$CONTEXT"
done

STACKS="vllm graphs"
ALPHAS="0.6 0.8 0.9"
KS="2 4 8"
for stack in $STACKS; do
  replay "lone_${stack}_plain" "$(cluster "plain_$stack" "$stack")" \
    --trace "$OUT/lone.csv"
  for k in $KS; do
    for a in $ALPHAS; do
      replay "lone_${stack}_k${k}_a$a" \
        "$(cluster "spec_${stack}_k${k}_a$a" "$stack" "$k" "$a")" \
        --trace "$OUT/lone.csv"
    done
  done
done

# (b): the same request at rising Poisson rates, k = 4, alpha = 0.8.
RATES="0.5 2 5 10 20 40"
load_sweep spec k4_a0.8

python3 - "$OUT" "$STACKS" "$KS" "$ALPHAS" "$RATES" <<'PY'
import json, sys
out, stacks, ks, alphas, rates = sys.argv[1], *[a.split() for a in sys.argv[2:]]
def summary(name):
    return json.load(open(f"{out}/{name}/summary.json"))
def est(name, field):
    return json.load(open(f"{out}/{name}.json"))[field]
# The vLLM-like stack's iteration includes the serving overhead; the
# CUDA-graph stack's is the kernels alone.
field = {"vllm": "iteration_s", "graphs": "kernel_s"}
print("(a) lone request, Llama-3-8B + Llama-3.2-1B draft on one H100\n")
print("| stack | k | alpha | E tokens/step | c | v | Leviathan Thm 3.8 | E/(ck+v) | fleetsim replay |")
print("|---|---|---|---|---|---|---|---|---|")
for stack in stacks:
    t = est("target_decode", field[stack])
    c = est("draft_decode", field[stack]) / t
    plain = summary(f"lone_{stack}_plain")["tpot_s"]["mean"]
    for k in map(int, ks):
        v = est(f"target_verify_k{k}", field[stack]) / t
        for a in map(float, alphas):
            e = (1 - a ** (k + 1)) / (1 - a)
            spec = summary(f"lone_{stack}_k{k}_a{a:g}")["tpot_s"]["mean"]
            print(f"| {stack} | {k} | {a:g} | {e:.3f} | {c:.3f} | {v:.3f} | "
                  f"{e / (c * k + 1):.3f}x | {e / (c * k + v):.3f}x | {plain / spec:.3f}x |")
print("\n(b) k = 4, alpha = 0.8, Poisson arrivals of the same request (60 s)\n")
print("| stack | rate req/s | mean batch plain / spec | TPOT ms plain / spec | speed-up |")
print("|---|---|---|---|---|")
for stack in stacks:
    for rate in rates:
        p = summary(f"load_{stack}_plain_r{rate}")
        s = summary(f"load_{stack}_spec_r{rate}")
        pb = p["pools"][0]["mean_batch_size"]
        sb = s["pools"][0]["mean_batch_size"]
        pt, st = p["tpot_s"]["mean"], s["tpot_s"]["mean"]
        print(f"| {stack} | {rate} | {pb:.1f} / {sb:.1f} | {pt * 1e3:.2f} / {st * 1e3:.2f} | {pt / st:.2f}x |")
PY
