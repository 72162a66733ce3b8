#!/usr/bin/env bash
# DeepSeek-V3 in FP8, disaggregated on 8 x H200 machines (one TP8 prefill
# machine), its decode as EP8 inside one machine, EP8 on two machines (two
# instances) or one EP16 instance over both (the all-to-all's cross-machine
# share as SimGrid communications on the scale-out links, shared with KV
# transfers; docs/simulator.md "Expert parallelism across machines"), on
# the Azure 2023 conversation trace. Prints per layout TPOT, the KV transfer
# time, the decode pool's time in the cross-machine exchange, SimGrid events
# and the replay's CPU seconds (user + system, /usr/bin/time), runs
# interleaved. NIC=25 replaces the machines' 400 GB/s scale-out NICs by
# 25 GB/s to make the links matter.
#   bench/ep_across_machines.sh [build-dir]
# RATE (6 req/s), DURATION (1800 s), REPS (2), OUT (kept outputs).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build}/fleetsim
OUT=${OUT:-$(mktemp -d)}
RATE=${RATE:-6}
DURATION=${DURATION:-1800}
REPS=${REPS:-2}
mkdir -p "$OUT"
EP16="$OUT/ep16.txtpb"
EP8="$OUT/ep8.txtpb"
nic='machine { chip: "h200" }'
if [[ -n "${NIC:-}" ]]; then
  nic="machine { chip: \"h200\" scale_out_gbytes_per_s: $NIC }"
fi
sed "s/machine { chip: \"h200\" }/$nic/" \
  data/clusters/deepseek_v3_fp8_h200_ep16_pd.txtpb >"$EP16"
sed 's/ep: 16/ep: 8/' "$EP16" >"$EP8"

run() {  # NAME CLUSTER DECODE-MACHINES
  local out="$OUT/$(echo "$1" | tr -cd 'A-Za-z0-9')"
  rm -rf "$out"
  /usr/bin/time -f "%U %S" -o "$out.time" "$BIN" replay --cluster "$2" \
    --model deepseek-v3 --trace data/traces/azure_2023_conv.csv \
    --rate "$RATE" --duration "$DURATION" --pool "decode=$3" \
    --out "$out" >/dev/null 2>"$out.log"
  python3 - "$1" "$out" <<'PY'
import json, sys
name, out = sys.argv[1], sys.argv[2]
s = json.load(open(out + "/summary.json"))
user, system = open(out + ".time").read().split()
decode = [p for p in s["pools"] if p["role"] == "decode"][0]
print(f"| {name} | {int(s['completed'])} | {s['tpot_s']['mean'] * 1e3:.2f} | "
      f"{s['tpot_s']['p90'] * 1e3:.2f} | {s['kv_transfer_s']['mean'] * 1e3:.2f} | "
      f"{s['kv_transfer_s']['p90'] * 1e3:.2f} | {decode['mean_batch_size']:.1f} | "
      f"{decode.get('all_to_all_scale_out_s', 0):.1f} | {int(s['events'])} | "
      f"{float(user) + float(system):.2f} |")
PY
}

echo "| decode layout | completed | TPOT mean ms | TPOT p90 ms | KV transfer mean ms | KV p90 ms | mean batch | exchange instance-s | events | CPU s |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for _ in $(seq "$REPS"); do
  run "EP8, 1 decode machine" "$EP8" 1
  run "EP8, 2 decode machines" "$EP8" 2
  run "EP16 over 2 machines" "$EP16" 2
done
