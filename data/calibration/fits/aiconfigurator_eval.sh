#!/bin/sh
# Error of the chip catalog's cost model on the shipped aiconfigurator tables
# (data/calibration/aiconfigurator/), per chip, class and framework, as the
# markdown rows of docs/validation.md's kernel table. Usage:
#   data/calibration/fits/aiconfigurator_eval.sh [path/to/fleetsim]
# Columns: rows >= 10 us, median APE, p90 APE, median signed error; then
# the rows below 10 us and their median APE. A framework's table is priced
# with that framework's kernel set (calibrate eval --framework).
set -e
cd "$(dirname "$0")/../../.."
FLEETSIM=${1:-build/fleetsim}
D=data/calibration/aiconfigurator
row() {  # chip label file [where [framework]]
  "$FLEETSIM" calibrate eval --chip "$1" --json --profile "$3" --where "$4" \
    --framework "$5" 2>/dev/null |
    python3 -c '
import json, sys
text = sys.stdin.read()
if not text.strip():  # no row matched (eval fails on an empty selection)
    print("| %s | %s | 0 | - | - | - | - |" % (sys.argv[1], sys.argv[2]))
    sys.exit(0)
d = json.loads(text)
o = d["overall"]; r = o["rows"]; f = o["fast_rows"]
fast = "%d / %.1f" % (f["rows"], f["median_ape_pct"]) if f["rows"] else "0"
print("| %s | %s | %d | %.1f | %.1f | %+.1f | %s |" % (sys.argv[1], sys.argv[2],
      r["rows"], r["median_ape_pct"], r["p90_ape_pct"], r["median_signed_pct"], fast))
' "$1" "$2"
}
echo "| chip | table | rows >= 10 us | median APE % | p90 APE % | median signed % | rows < 10 us / median APE % |"
echo "|---|---|---:|---:|---:|---:|---:|"
for chip in h100 a100; do
  for fw in trtllm vllm sglang; do
    row $chip "attention prefill, $fw" $D/$chip/attention_prefill_$fw.csv.gz "" $fw
  done
  for fw in trtllm vllm sglang; do
    row $chip "attention decode, $fw" $D/$chip/attention_decode_$fw.csv.gz "" $fw
  done
  for p in $D/$chip/mla_decode_*.csv.gz; do
    fw=$(basename $p .csv.gz | sed 's/^mla_decode_//')
    row $chip "MLA decode (absorbed), $fw" $p "" $fw
  done
  for fw in trtllm vllm sglang; do
    row $chip "GEMM bf16, $fw" $D/$chip/gemm_bf16_$fw.csv.gz "" $fw
  done
  for fw in trtllm vllm sglang; do
    row $chip "MoE bf16 balanced, $fw" $D/$chip/moe_bf16_$fw.csv.gz "routing=balanced" $fw
    row $chip "MoE bf16 power-law, $fw" $D/$chip/moe_bf16_$fw.csv.gz "routing=power_law" $fw
  done
  [ $chip = h100 ] && for fw in trtllm vllm sglang; do
    row $chip "GEMM fp8 (per-tensor), $fw" $D/$chip/gemm_fp8_$fw.csv.gz "" $fw
  done
  for n in 2 4 8; do
    row $chip "NCCL all-reduce, $n GPUs" $D/$chip/nccl.csv.gz "op=all_reduce,ranks=$n"
  done
  row $chip "NCCL all-gather, 2-8 GPUs" $D/$chip/nccl.csv.gz "op=all_gather"
  for fw in trtllm vllm sglang; do
    row $chip "custom all-reduce (graph), $fw" $D/$chip/custom_allreduce_$fw.csv.gz \
      "kernel_source!=vllm_custom_eager|sglang_customallreduce_eager" $fw
  done
done
