#!/usr/bin/env bash
# The MPI pool (issue 17): one fixed search, `fleetsim plan` at a search
# width of 4 simulations per round (--jobs 4), run by the local fork pool
# and by `mpirun -np N` with 1, 2 and 4 worker ranks (N = 2, 3, 5: rank 0
# only searches). Prints wall time, CPU-s (mpirun and every rank and child),
# the speed-up against 1 worker, simulations in flight on average and the
# MPI path's overhead per simulation (round trip from rank 0 less the
# simulation child's own time, as the pool's "[mpi]" line reports it), and
# checks that every plan.json equals the local one, wall times aside.
#
# On a machine with fewer cores than ranks + simulations (this one has 2)
# the ranks are oversubscribed: the table then shows the MPI path's
# overhead, not a speed-up. On a cluster, run with one rank per core.
#   bench/mpi_scaling.sh [build-dir]          (default: build)
# DURATION (simulated seconds per candidate, default 300), WORKERS
# (default "1 2 4").
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-build}/fleetsim")
DURATION=${DURATION:-300}
WORKERS=${WORKERS:-1 2 4}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
command -v mpirun >/dev/null || { echo "mpirun not found (apt-get install openmpi-bin)" >&2; exit 1; }
ROOT=""
[ "$(id -u)" -ne 0 ] || ROOT=--allow-run-as-root

ARGS=(plan --model llama-2-70b --trace data/traces/azure_2023_conv.csv
  --rate 3 --duration "$DURATION" --slo normal --chips h100,a100
  --budget-machines 16 --jobs 4)

# run NAME COMMAND...: prints "wall_s cpu_s", keeps the log and plan.
run() {
  local name=$1
  shift
  /usr/bin/time -o "$WORK/$name.time" -f "%e %U %S" "$@" \
    --out "$WORK/$name" >"$WORK/$name.log" 2>&1 || {
    cat "$WORK/$name.log" >&2
    exit 1
  }
  read -r wall user sys <"$WORK/$name.time"
  python3 -c "print($wall, round($user + $sys, 2))"
}

strip_wall() {
  sed -E 's/"wall_s": *[0-9.e+-]+/"wall_s": WALL/g' "$1/plan.json"
}

echo "fleetsim plan ${ARGS[*]:1}"
echo "$(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg) at start"
echo
echo "| pool | ranks | wall s | CPU-s | speed-up vs 1 worker | simulations | in flight (mean) | MPI overhead ms/simulation | MB sent | plan.json = local |"
echo "|---|---|---|---|---|---|---|---|---|---|"
read -r wall cpu <<<"$(run local "$BIN" "${ARGS[@]}")"
sims=$(python3 -c "import json; print(json.load(open('$WORK/local/plan.json'))['simulations'])")
echo "| local --jobs 4 | 1 | $wall | $cpu | | $sims | | | | |"
base=""
for w in $WORKERS; do
  np=$((w + 1))
  read -r wall cpu <<<"$(run "np$np" mpirun $ROOT --oversubscribe -np "$np" "$BIN" "${ARGS[@]}")"
  [ -n "$base" ] || base=$wall
  line=$(grep -o '\[mpi\].*' "$WORK/np$np.log")
  same=no
  cmp -s <(strip_wall "$WORK/local") <(strip_wall "$WORK/np$np") && same=yes
  python3 - "$line" <<PY
import re, sys
m = re.search(r"(\d+) simulations on (\d+) worker rank\(s\): ([\d.]+) in flight on average, ([\d.]+) ms MPI overhead per simulation, ([\d.]+) MB sent", sys.argv[1])
sims, workers, flight, overhead, mb = m.groups()
print("| mpirun -np $np | $np | $wall | $cpu | %.2fx | %s | %s of %s | %s | %s | $same |" % ($base / $wall, sims, flight, workers, overhead, mb))
PY
done
