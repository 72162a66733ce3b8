#!/usr/bin/env bash
# The planner's early stop (PlanRequest.run_to_end) measured on the SPAD
# Table 4 search (bench/spad_table4.sh's: BLOOM-176B, four chips, colocated
# and disaggregated, 70 req/s): the same search run to the end and with
# early stops, interleaved ROUNDS times, printing CPU seconds (the planner
# and its simulation children), simulations run and stopped, and whether
# the two found the same fleets (recommended, cheapest, Pareto front, best
# per system).
#   bench/early_stop.sh [duration_s] [build-dir]
# TRACE (code|conv, default code), ROUNDS (default 1), SLO (default normal).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-120}
BIN=${2:-build}/fleetsim
TRACE=${TRACE:-code}
ROUNDS=${ROUNDS:-1}
SLO=${SLO:-normal}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
plan() {  # plan OUTDIR [extra flags]
  local dir=$1
  shift
  /usr/bin/time -f "%U %S %e" -o "$dir.time" "$BIN" plan --model bloom-176b \
    --trace "data/traces/azure_2023_$TRACE.csv" --rate 70 \
    --duration "$DURATION" --seed 1 --slo "$SLO" \
    --chips h100,a100,spad_prefill,spad_decode --cost-basis die \
    --jobs 2 --out "$dir" "$@" >"$dir.log" 2>&1 || true
}
for round in $(seq "$ROUNDS"); do
  plan "$OUT/full$round" --run-to-end
  plan "$OUT/early$round"
done
python3 - "$OUT" "$ROUNDS" <<'PY'
import json, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def fleets(plan):
    keep = {}
    for key in ("recommended", "cheapest", "lowest_tdp"):
        if key in plan:
            keep[key] = [(p["role"], p["chip"], p["machines"], p["tp"])
                         for p in plan[key]["pools"]]
    for key in ("pareto", "best_per_system"):
        keep[key] = [[(p["role"], p["chip"], p["machines"], p["tp"])
                      for p in f["pools"]] for f in plan.get(key, [])]
    return keep
print("| round | run | CPU-s | wall-s | simulations | stopped early |")
print("|---|---|---|---|---|---|")
cpu = {"full": 0.0, "early": 0.0}
same = True
for r in range(1, rounds + 1):
    found = {}
    for run in ("full", "early"):
        user, sys_s, wall = map(float, open(f"{out}/{run}{r}.time").read().split()[-3:])
        plan = json.load(open(f"{out}/{run}{r}/plan.json"))
        cpu[run] += user + sys_s
        found[run] = fleets(plan)
        print(f"| {r} | {run} | {user + sys_s:.1f} | {wall:.1f} | "
              f"{plan['simulations']} | {plan.get('simulations_stopped_early', 0)} |")
    same &= found["full"] == found["early"]
print(f"\nCPU ratio early/full: {cpu['early'] / cpu['full']:.2f}")
print("same fleets:", "yes" if same else "NO")
sys.exit(0 if same else 1)
PY
