#!/usr/bin/env bash
# Test-time scaling's synchronisation bottleneck (ATTS, "Asynchronous
# Test-Time Scaling via Conformal Prediction", arXiv:2509.15148) reproduced
# from fleetsim replays: Llama-3-8B on one H100, every request answered by N
# samples of its prompt (prompt KV shared) in R sequential rounds, with a
# barrier at every round (synchronous: each round waits for the slowest
# sample) or none (asynchronous). Both modes replay the same draws of each
# sample's tokens per round, so they generate the same tokens: equal budget.
#  (a) throughput: a burst of BURST requests, output tokens per second of
#      the whole run, async over sync, for N, R and the per-round length
#      spread (an ASSUMPTION of fleetsim's, docs/seeds.md);
#  (b) latency: a lone request's end-to-end time, sync over async;
#  (a) and (b) again with ATTS's scoring pass between rounds
#      (TestTimeScaling.score_between_rounds: each sample's round tokens
#      read by the served model as a prefill chunk over its KV).
# Requests with a sample past the model's max_context are rejected (the
# default context limit) and counted in the table; both modes reject the
# same ones.
#   bench/seeds_tts.sh [build-dir]
# OUT keeps the clusters, traces and summaries.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build}/fleetsim
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
PROMPT=512
OUTPUT=1024  # each sample's tokens over all its rounds, on average
BURST=256
SAMPLES="4 8 16"
ROUNDS="1 2 4 8"
SPREADS="0.25 0.5 1"

cluster() {  # NAME SAMPLES ROUNDS BARRIER SPREAD SCORE
  local file="$OUT/$1.txtpb"
  {
    echo "name: \"$1\""
    echo 'pools { role: POOL_ROLE_COLOCATED machine { chip: "h100" chips_per_machine: 1 } machines: 1 tp: 1 }'
    echo "test_time_scaling { samples: $2 rounds: $3 barrier: TEST_TIME_SCALING_BARRIER_$4 length_spread: $5 score_between_rounds: $6 }"
  } >"$file"
  echo "$file"
}

trace() {  # NAME REQUESTS
  {
    echo arrived_at,num_prefill_tokens,num_decode_tokens
    for ((i = 0; i < $2; i++)); do echo "0,$PROMPT,$OUTPUT"; done
  } >"$OUT/$1.csv"
}
trace burst "$BURST"
trace lone 1

for n in $SAMPLES; do
  for r in $ROUNDS; do
    for s in $SPREADS; do
      for score in false true; do
        for barrier in SYNCHRONOUS ASYNCHRONOUS; do
          name="n${n}_r${r}_s${s}_score_${score}_$barrier"
          file=$(cluster "$name" "$n" "$r" "$barrier" "$s" "$score")
          for t in burst lone; do
            "$BIN" replay --model llama-3-8b --cluster "$file" \
              --trace "$OUT/$t.csv" --seed 1 --out "$OUT/${t}_$name" \
              >"$OUT/${t}_$name.log" 2>&1
          done
        done
      done
    done
  done
done

python3 - "$OUT" "$SAMPLES" "$ROUNDS" "$SPREADS" "$BURST" <<'PY'
import json, sys
out, burst = sys.argv[1], sys.argv[5]
samples, rounds, spreads = (a.split() for a in sys.argv[2:5])
def summary(name):
    return json.load(open(f"{out}/{name}/summary.json"))
print("Llama-3-8B, one H100; 512-token prompts, 1,024 tokens per sample on average")
print(f"over ctx: burst requests (of {burst}) rejected for a sample past max_context\n")
print("| N | R | spread | over ctx | burst tok/s sync / async | async/sync | "
      "mean batch sync / async | lone e2e s sync / async | sync/async | "
      "scored: burst tok/s sync / async | async/sync | lone e2e s sync / async |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
def pair(name):
    """Sync and async burst and lone summaries of one configuration."""
    b = [summary(f"burst_{name}_{x}") for x in ("SYNCHRONOUS", "ASYNCHRONOUS")]
    l = [summary(f"lone_{name}_{x}") for x in ("SYNCHRONOUS", "ASYNCHRONOUS")]
    tokens = [x["output_tokens_per_s"] * x["simulated_s"] for x in b]
    assert abs(tokens[0] - tokens[1]) < 1e-6 * tokens[1], name  # equal budget
    assert b[0]["rejected_over_context"] == b[1]["rejected_over_context"], name
    return b, l
for n in samples:
    for r in rounds:
        for s in spreads:
            (bs, ba), (ls, la) = pair(f"n{n}_r{r}_s{s}_score_false")
            (cs, ca), (ms, ma) = pair(f"n{n}_r{r}_s{s}_score_true")
            assert cs["rejected_over_context"] == bs["rejected_over_context"]
            ts, ta = bs["output_tokens_per_s"], ba["output_tokens_per_s"]
            es, ea = ls["e2e_s"]["mean"], la["e2e_s"]["mean"]
            us, ua = cs["output_tokens_per_s"], ca["output_tokens_per_s"]
            fs, fa = ms["e2e_s"]["mean"], ma["e2e_s"]["mean"]
            print(f"| {n} | {r} | {s} | {bs['rejected_over_context']} | {ts:,.0f} / {ta:,.0f} | {ta / ts:.2f}x | "
                  f"{bs['pools'][0]['mean_batch_size']:.0f} / {ba['pools'][0]['mean_batch_size']:.0f} | "
                  f"{es:.2f} / {ea:.2f} | {es / ea:.2f}x | "
                  f"{us:,.0f} / {ua:,.0f} | {ua / us:.2f}x | {fs:.2f} / {fa:.2f} |")
PY
