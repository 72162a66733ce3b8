#!/usr/bin/env bash
# Replay speed and memory on the issue-3 scenario: Azure 2023 conversation
# lengths resampled at 70 req/s, BLOOM-176B, 40 prefill + 40 decode DGX-H100
# machines. Prints one table row per configuration. Reference points measured
# on the same 2-core machine kind: SplitwiseSim (Mutinifni/splitwise-sim @
# 8f99e7d, Python) 38.7 CPU-s for the same 600 s run (41,975 requests);
# Vidur (microsoft/vidur) ~1,200 requests per CPU-second.
#   bench/replay_benchmark.sh [build-dir]     (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build}/fleetsim
RUNS=${RUNS:-3}
common=(replay --cluster data/clusters/splitwise_h100.txtpb --pool prefill=40
        --pool decode=40 --model bloom-176b --trace data/traces/azure_2023_conv.csv
        --rate 70 --seed 1)

# Runs one configuration RUNS times; prints the best CPU time's row.
run() {
  local label=$1; shift
  local best_cpu=999999 best_line=""
  for _ in $(seq "$RUNS"); do
    local out err
    out=$(mktemp -d)
    err=$( { /usr/bin/time -f "%U %S %M" "$BIN" "${common[@]}" "$@" --out "$out" >/dev/null; } 2>&1 )
    local events requests p99_ttft p99_tbt
    events=$(grep -o '"events": [0-9]*' "$out/summary.json" | grep -o '[0-9]*$')
    requests=$(grep -o '"requests": [0-9]*' "$out/summary.json" | grep -o '[0-9]*$')
    p99_ttft=$(python3 -c "import json;d=json.load(open('$out/summary.json'));print('%.5f %.5f'%(d['ttft_s']['p99'],d['tbt_s']['p99']))")
    read -r user sys rss <<<"$(echo "$err" | tail -1)"
    local cpu
    cpu=$(python3 -c "print('%.3f' % ($user + $sys))")
    if python3 -c "import sys; sys.exit(0 if $cpu < $best_cpu else 1)"; then
      best_cpu=$cpu
      best_line=$(python3 -c "
cpu=$cpu; req=$requests; ev=$events
print('| %-28s | %8d | %9d | %7.3f | %10.0f | %10.0f | %6.0fx | %7.1f | %s |' % (
  '$label', req, ev, cpu, req/cpu, ev/cpu, 38.7/cpu*req/41975, $rss/1024, '$p99_ttft'))")
    fi
    rm -rf "$out"
  done
  echo "$best_line"
}

echo "| configuration                | requests |    events |   CPU-s |  req/CPU-s | events/CPU-s | vs SplitwiseSim | RSS MiB | p99 TTFT, p99 TBT (s) |"
echo "|---|---|---|---|---|---|---|---|---|"
run "600 s (default)" --duration 600
run "600 s, exact decode (stride 1)" --duration 600 --decode-stride 1
run "600 s, no decode runs" --duration 600 --decode-stride 1 --max-decode-run 1
run "6000 s (10x requests)" --duration 6000
