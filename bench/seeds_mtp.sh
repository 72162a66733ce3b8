#!/usr/bin/env bash
# DeepSeek-V3's multi-token prediction served as a speculative draft
# (arXiv:2412.19437 §2.2 and §5.4.3: second-token acceptance 85-90 %,
# ~1.8x tokens per second) reproduced from fleetsim replays of DeepSeek-V3
# in FP8 on one 8 x H200 machine (TP8), the MTP module drafting:
#  (a) a lone request (1,000-token prompt, 257 output tokens): the replayed
#      speed-up (mean TPOT without / with MTP) beside E x (plain step / MTP
#      step), both steps from `fleetsim estimate` at the request's mean
#      context, E = 1 + a_1 + a_1 a_2 + ... the tokens a step emits;
#  (b) the gain as load, and with it the decode batch, grows (Poisson
#      arrivals of the same request at rising rates), k = 1, a = 0.85.
# Both for the serving stack fleetsim is calibrated on (vLLM-like, 154.5 us
# per layer per iteration; docs/calibration.md §6) and for a CUDA-graph
# stack (framework_layer_overhead_us: 0, kernels only). The acceptance is
# an input, never fitted: DeepSeek's 0.85-0.9 for the module's first token;
# k = 2 reuses the one module with a second-token acceptance of 0.6 (an
# ASSUMPTION: DeepSeek reports none).
#   bench/seeds_mtp.sh [build-dir]
# OUT keeps the clusters, traces and summaries.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=deepseek-v3
source bench/seeds_decoding_common.sh
PROMPT=1000
OUTPUT=257
CONTEXT=$((PROMPT + OUTPUT / 2))  # a lone request's mean decode context

cluster() {  # NAME STACK [K ACCEPTANCE-FIELD]
  local file="$OUT/$1.txtpb"
  {
    echo "name: \"$1\""
    echo 'pools { role: POOL_ROLE_COLOCATED machine { chip: "h200" } machines: 1 tp: 8'
    echo '  weight_dtype: DTYPE_FP8 batching { max_batch_tokens: 2048 } }'
    [[ $2 == graphs ]] && echo 'framework_layer_overhead_us: 0'
    if [[ $# -ge 4 ]]; then
      echo "speculative_decoding { multi_token_prediction: true draft_tokens: $3 $4 }"
    fi
  } >"$file"
  echo "$file"
}

write_traces "$PROMPT" "$OUTPUT"

estimate() {  # NAME [flags...]
  local name=$1
  shift
  "$BIN" estimate --model deepseek-v3 --chip h200 --tp 8 --weight-dtype fp8 \
    --decode "1@$CONTEXT" "$@" --json >"$OUT/$name.json"
}

# name | k | the cluster's acceptance field
VARIANTS=(
  "k1_a0.80|1|acceptance_rate: 0.80"
  "k1_a0.85|1|acceptance_rate: 0.85"
  "k1_a0.90|1|acceptance_rate: 0.90"
  "k2_a0.85_0.6|2|acceptance_by_position: [0.85, 0.6]"
)
STACKS="vllm graphs"
estimate plain
for v in "${VARIANTS[@]}"; do
  IFS='|' read -r name k _ <<<"$v"
  # A step's time does not depend on what is accepted: any acceptance.
  estimate "mtp_$name" --mtp --draft-tokens "$k" --acceptance 0.5
done
for stack in $STACKS; do
  replay "lone_${stack}_plain" "$(cluster "plain_$stack" "$stack")" \
    --trace "$OUT/lone.csv"
  for v in "${VARIANTS[@]}"; do
    IFS='|' read -r name k field <<<"$v"
    replay "lone_${stack}_$name" \
      "$(cluster "mtp_${stack}_$name" "$stack" "$k" "$field")" \
      --trace "$OUT/lone.csv"
  done
done

# (b): the same request at rising Poisson rates, k = 1, a = 0.85.
RATES="0.2 1 2 4 8 16"
load_sweep mtp k1_a0.85

python3 - "$OUT" "$STACKS" "$RATES" "${VARIANTS[@]}" <<'PY'
import json, sys
out, stacks, rates = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
variants = [v.split("|") for v in sys.argv[4:]]
def summary(name):
    return json.load(open(f"{out}/{name}/summary.json"))
def est(name, field):
    return json.load(open(f"{out}/{name}.json"))[field]
def tokens_per_step(k, field):
    values = [float(x) for x in field.split(":", 1)[1].strip(" []").split(",")]
    if field.startswith("acceptance_rate"):
        values = values * k  # a constant rate for each of the k drafts
    e, p = 1.0, 1.0
    for a in values:
        p *= a
        e += p
    return e
# The vLLM-like stack's iteration includes the serving overhead; the
# CUDA-graph stack's is the kernels alone.
field = {"vllm": "iteration_s", "graphs": "kernel_s"}
print("(a) lone request, DeepSeek-V3 FP8 on 8 x H200 (TP8), the MTP module drafting\n")
print("| stack | k | acceptance | E tokens/step | plain step ms | MTP step ms | E x plain / MTP | fleetsim replay |")
print("|---|---|---|---|---|---|---|---|")
for stack in stacks:
    plain_step = est("plain", field[stack])
    plain = summary(f"lone_{stack}_plain")["tpot_s"]["mean"]
    for name, k, acc in variants:
        e = tokens_per_step(int(k), acc)
        step = est(f"mtp_{name}", field[stack])
        spec = summary(f"lone_{stack}_{name}")["tpot_s"]["mean"]
        print(f"| {stack} | {k} | {acc.split(':', 1)[1].strip()} | {e:.3f} | "
              f"{plain_step * 1e3:.2f} | {step * 1e3:.2f} | "
              f"{e * plain_step / step:.3f}x | {plain / spec:.3f}x |")
print("\n(b) k = 1, acceptance 0.85, Poisson arrivals of the same request (60 s)\n")
print("| stack | rate req/s | mean batch plain / MTP | TPOT ms plain / MTP | speed-up |")
print("|---|---|---|---|---|")
for stack in stacks:
    for rate in rates:
        p = summary(f"load_{stack}_plain_r{rate}")
        s = summary(f"load_{stack}_mtp_r{rate}")
        pb = p["pools"][0]["mean_batch_size"]
        sb = s["pools"][0]["mean_batch_size"]
        pt, st = p["tpot_s"]["mean"], s["tpot_s"]["mean"]
        print(f"| {stack} | {rate} | {pb:.1f} / {sb:.1f} | {pt * 1e3:.2f} / {st * 1e3:.2f} | {pt / st:.2f}x |")
PY
