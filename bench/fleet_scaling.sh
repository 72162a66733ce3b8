#!/usr/bin/env bash
# Replay cost against fleet size and against requests, in one run. The
# fleet axis scales SplitwiseSim's disaggregated BLOOM-176B setup (40
# prefill + 40 decode DGX-H100 at 70 req/s) by K = 1, 10, 100 machines at
# K x the rate for the same DURATION, so every machine sees the same
# requests; each row is then set beside the same number of requests on the
# 1x fleet (the 1x rate for K x DURATION). Ratios: "per request vs 40+40"
# (the fleet axis at the same requests per machine: near 1 when cost is
# flat in machines), "CPU vs fewest requests" (the requests axis on the 1x
# fleet: K when cost is linear in requests) and "fleet / same requests"
# (the K x fleet against as many requests on the 1x fleet).
#   bench/fleet_scaling.sh [build-dir]        (default: build)
# DURATION (default 60 s; 600 is issue 18's 4,000+4,000-machine goal run,
# ~15 minutes on a loaded 2-core machine), TRACE (code|conv, default
# code), SCALES (default "1 10 100"), RUNS (default 1: the best of RUNS).
# BASELINE=other-build-dir also runs that build's fleetsim on each row's
# fleet, right after this one's (interleaved, so load affects both alike),
# and adds its CPU-s and peak RSS and the ratio of the two: how to compare
# an old and a new binary on a loaded machine.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build}/fleetsim
BASELINE=${BASELINE:-}
DURATION=${DURATION:-60}
TRACE=${TRACE:-code}
SCALES=${SCALES:-1 10 100}
RUNS=${RUNS:-1}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# measure PREFILL DECODE RATE DURATION [BINARY]: prints "cpu_s rss_mib
# requests", the best CPU time of RUNS runs (and that run's peak RSS).
measure() {
  local best="" rss="" requests="" bin=${5:-$BIN}
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -o "$WORK/time" -f "%U %S %M" "$bin" replay \
      --cluster data/clusters/splitwise_h100.txtpb --model bloom-176b \
      --trace "data/traces/azure_2023_$TRACE.csv" --seed 1 \
      --pool "prefill=$1" --pool "decode=$2" --rate "$3" --duration "$4" \
      --out "$WORK/out" >/dev/null 2>&1
    read -r user sys kib <"$WORK/time"
    local cpu
    cpu=$(python3 -c "print('%.3f' % ($user + $sys))")
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $cpu < $best else 1)"; then
      best=$cpu
      rss=$((kib / 1024))
      requests=$(python3 -c "import json; print(json.load(open('$WORK/out/summary.json'))['requests'])")
    fi
  done
  echo "$best $rss $requests"
}

echo "Trace azure_2023_$TRACE, $DURATION s per fleet, best of $RUNS; $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg) at start"
echo
header="| machines (P+D) | req/s | requests | CPU-s | CPU-us/request | per request vs 40+40 | peak RSS MiB | same requests on 40+40: CPU-s | CPU vs fewest requests | peak RSS MiB | fleet / same requests |"
rule="|---|---|---|---|---|---|---|---|---|---|---|"
if [ -n "$BASELINE" ]; then
  header="$header baseline CPU-s | baseline peak RSS MiB | CPU / baseline |"
  rule="$rule---|---|---|"
fi
echo "$header"
echo "$rule"
first=""
for k in $SCALES; do
  read -r cpu rss requests <<<"$(measure $((40 * k)) $((40 * k)) $((70 * k)) "$DURATION")"
  old=""
  if [ -n "$BASELINE" ]; then
    read -r cpu0 rss0 _ <<<"$(measure $((40 * k)) $((40 * k)) $((70 * k)) "$DURATION" "$BASELINE/fleetsim")"
    old=$(python3 -c "print(' %.2f | %d | %.2fx |' % ($cpu0, $rss0, $cpu / $cpu0))")
  fi
  read -r cpu1 rss1 requests1 <<<"$(measure 40 40 70 $((DURATION * k)))"
  [ -n "$first" ] || first="$cpu $requests $cpu1"
  python3 -c "
k, cpu, rss, req, cpu1, rss1, req1 = $k, $cpu, $rss, $requests, $cpu1, $rss1, $requests1
cpu_a, req_a, cpu1_a = ${first// /, }
print('| %d+%d | %d | %d | %.2f | %.1f | %.2fx | %d | %.2f | %.1fx | %d | %.2fx |' % (
    40 * k, 40 * k, 70 * k, req, cpu, 1e6 * cpu / req,
    (cpu / req) / (cpu_a / req_a), rss, cpu1, cpu1 / cpu1_a, rss1,
    (cpu / req) / (cpu1 / req1)), end='')
print('$old')"
done
echo
echo "load $(cut -d' ' -f1 /proc/loadavg) at end"
