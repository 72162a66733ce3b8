#!/usr/bin/env bash
# CCA / CCGQA (Figliolia et al., "Compressed Convolutional Attention:
# Efficient Attention in a Compressed Latent Space", arXiv:2510.04476)
# reproduced from fleetsim's cost model and planner, with the catalog's
# zaya1-ccgqa (8x KV compression) and its MHA and GQA twins (same body).
#  (a) the paper's ~1.7x faster prefill attention at 16k tokens on H100
#      than MHA: `fleetsim estimate` of one 16,384-token prompt on one
#      H100, attention time of CCGQA beside the MHA twin's (attn_prefill
#      alone; with CCA's convolutions; the whole attention block, its
#      projections included), and at 4k and 32k for the trend;
#  (b) the fleet effect of the smaller KV: `fleetsim plan` of a
#      disaggregated H100 fleet (TP1) for a fixed long-context trace
#      (8,192-token prompts, 1,024 output tokens; Poisson arrivals, seed 1,
#      60 s) under one SLO (TTFT p99 5 s, TPOT p90 50 ms) at rising rates:
#      decode machines, the decode pool's mean batch and peak KV use.
#   bench/seeds_cca.sh [build-dir]
# OUT keeps the estimates, the trace and the plans.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build}/fleetsim
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
MODELS="zaya1-mha-twin zaya1-gqa-twin zaya1-ccgqa"
PROMPTS="4096 16384 32768"
RATES="20 40 80"
SLO=ttft_p99=5s,tpot_p90=50ms

for model in $MODELS; do
  for tokens in $PROMPTS; do
    "$BIN" estimate --model "$model" --chip h100 --tp 1 --prefill "$tokens" \
      --json >"$OUT/${model}_prefill$tokens.json"
  done
done

{
  echo arrived_at,num_prefill_tokens,num_decode_tokens
  for ((i = 0; i < 50; i++)); do echo "0,8192,1024"; done
} >"$OUT/long.csv"
for rate in $RATES; do
  for model in $MODELS; do
    "$BIN" plan --model "$model" --trace "$OUT/long.csv" --rate "$rate" \
      --duration 60 --seed 1 --slo "$SLO" --chips h100 \
      --modes disaggregated --tp-options 1 --objective capex --jobs 1 \
      --out "$OUT/plan_${model}_r$rate" >"$OUT/plan_${model}_r$rate.log" 2>&1
  done
done

python3 - "$OUT" "$MODELS" "$PROMPTS" "$RATES" <<'PY'
import json, sys
out, models, prompts, rates = sys.argv[1], *[a.split() for a in sys.argv[2:]]
mha = models[0]
# The attention block: CCA's down-projection (qkv_proj), convolutions,
# rotary, the attention itself and the up-projection (o_proj).
BLOCK = ("qkv_proj", "cca_conv", "rotary", "attn_prefill", "o_proj")
def ops(model, tokens):
    e = json.load(open(f"{out}/{model}_prefill{tokens}.json"))
    times = {}
    for op in e["operators"]:
        times[op["name"]] = times.get(op["name"], 0) + op["seconds"]
    return times, e["iteration_s"]
print("(a) one prompt on one H100 (TP1): MHA twin's time / this model's\n")
print("| prompt | model | attn_prefill ms | + cca_conv ms | attention block ms | iteration ms | attn_prefill | attn + conv | block | iteration |")
print("|---|---|---|---|---|---|---|---|---|---|")
for tokens in prompts:
    base, base_it = ops(mha, tokens)
    base_attn = base["attn_prefill"] + base.get("cca_conv", 0)
    base_block = sum(base.get(n, 0) for n in BLOCK)
    for model in models:
        t, it = ops(model, tokens)
        attn = t["attn_prefill"] + t.get("cca_conv", 0)
        block = sum(t.get(n, 0) for n in BLOCK)
        print(f"| {tokens} | {model} | {t['attn_prefill'] * 1e3:.2f} | {attn * 1e3:.2f} | "
              f"{block * 1e3:.2f} | {it * 1e3:.2f} | {base['attn_prefill'] / t['attn_prefill']:.2f}x | "
              f"{base_attn / attn:.2f}x | {base_block / block:.2f}x | {base_it / it:.2f}x |")
print("\n(b) plan, disaggregated H100 TP1, 8192 + 1024 tokens, TTFT p99 5 s, TPOT p90 50 ms\n")
print("| rate req/s | model | prefill + decode machines | decode mean batch | decode peak KV | TPOT p90 ms | capex (H100 machines) |")
print("|---|---|---|---|---|---|---|")
for rate in rates:
    for model in models:
        plan = json.load(open(f"{out}/plan_{model}_r{rate}/plan.json"))
        rec = plan["recommended"]
        pools = {p["role"]: p for p in rec["result"]["pools"]}
        machines = {p["role"]: p["machines"] for p in rec["pools"]}
        dec = pools["decode"]
        print(f"| {rate} | {model} | {machines.get('prefill', 0)} + {machines.get('decode', 0)} | "
              f"{dec['mean_batch_size']:.1f} | {100 * dec['peak_kv_fraction']:.0f} % | "
              f"{rec['result']['tpot_s']['p90'] * 1e3:.1f} | {rec['cost']:g} |")
PY
