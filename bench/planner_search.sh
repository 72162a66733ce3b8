#!/usr/bin/env bash
# The planner's search measured old binary against new on the SPAD Table 4
# search (bench/spad_table4.sh's: BLOOM-176B, h100, a100, spad_prefill and
# spad_decode, colocated and disaggregated, 70 req/s, --jobs 2), both
# traces, runs interleaved ROUNDS times on one machine. Prints per search
# the simulations run, those stopped early, CPU seconds (the planner and its
# simulation children), the new/old CPU ratio, and whether the two found
# the same fleets (recommended, cheapest, lowest TDP, Pareto front, best
# per system).
#   bench/planner_search.sh OLD_BUILD_DIR [NEW_BUILD_DIR] [duration_s]
# (NEW defaults to build, duration to 120 s.) ROUNDS (default 1), SLO
# (default normal), TRACES (default "code conv"), KEEP (a folder to keep
# the plans and logs in; default: removed), OLD_DATA (the data folder the
# old binary reads, when today's has fields it does not know; e.g.
# `mkdir /tmp/d && git archive d3314c3 data | tar -x -C /tmp/d`, then
# OLD_DATA=/tmp/d/data; default: its own).
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=${1:?usage: bench/planner_search.sh OLD_BUILD_DIR [NEW_BUILD_DIR] [duration_s]}/fleetsim
NEW=${2:-build}/fleetsim
DURATION=${3:-120}
ROUNDS=${ROUNDS:-1}
SLO=${SLO:-normal}
TRACES=${TRACES:-code conv}
if [ -n "${KEEP:-}" ]; then
  OUT=$KEEP
  mkdir -p "$OUT"
else
  OUT=$(mktemp -d)
  trap 'rm -rf "$OUT"' EXIT
fi
plan() {  # plan BINARY OUTDIR TRACE [DATA_DIR]
  FLEETSIM_DATA_DIR=${4:-${FLEETSIM_DATA_DIR:-}} /usr/bin/time -f "%U %S %e" -o "$2.time" "$1" plan --model bloom-176b \
    --trace "data/traces/azure_2023_$3.csv" --rate 70 \
    --duration "$DURATION" --seed 1 --slo "$SLO" \
    --chips h100,a100,spad_prefill,spad_decode --cost-basis die \
    --jobs 2 --out "$2" >"$2.log" 2>&1 || true
}
echo "$(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg) at start; ${DURATION} s windows"
for round in $(seq "$ROUNDS"); do
  for trace in $TRACES; do
    plan "$OLD" "$OUT/old-$trace-$round" "$trace" "${OLD_DATA:-}"
    plan "$NEW" "$OUT/new-$trace-$round" "$trace"
  done
done
python3 - "$OUT" "$ROUNDS" "$TRACES" <<'PY'
import json, sys
out, rounds, traces = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
def fleets(plan):
    pools = lambda f: [(p["role"], p["chip"], p["machines"], p["tp"]) for p in f["pools"]]
    keep = {k: pools(plan[k]) for k in ("recommended", "cheapest", "lowest_tdp") if k in plan}
    for k in ("pareto", "best_per_system"):
        keep[k] = [pools(f) for f in plan.get(k, [])]
    return keep
print("| round | trace | binary | simulations | stopped early | CPU-s | wall-s | CPU new/old | same fleets |")
print("|---|---|---|---|---|---|---|---|---|")
total = {"old": 0.0, "new": 0.0}
same_all = True
for r in range(1, rounds + 1):
    for trace in traces:
        cpu, found = {}, {}
        for run in ("old", "new"):
            base = f"{out}/{run}-{trace}-{r}"
            user, sys_s, wall = map(float, open(f"{base}.time").read().split()[-3:])
            try:
                plan = json.load(open(f"{base}/plan.json"))
            except FileNotFoundError:
                sys.exit(f"{run} {trace}: no plan.json; see its log:\n" + open(f"{base}.log").read())
            cpu[run] = user + sys_s
            total[run] += cpu[run]
            found[run] = fleets(plan)
            same = found["old"] == found["new"] if run == "new" else None
            same_all &= same is not False
            print(f"| {r} | {trace} | {run} | {plan['simulations']} | "
                  f"{plan.get('simulations_stopped_early', 0)} | {cpu[run]:.1f} | {wall:.1f} | "
                  + (f"{cpu['new'] / cpu['old']:.2f} | {'yes' if same else 'NO'} |" if run == "new" else " | |"))
print(f"\nCPU new/old over every search: {total['new'] / total['old']:.2f}")
print("same fleets:", "yes" if same_all else "NO")
sys.exit(0 if same_all else 1)
PY
