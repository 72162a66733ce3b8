#!/usr/bin/env bash
# Prints a SHA-256 digest of every output of the bundled examples (the
# README's replays and plan, the quick-start replay, each bundled cluster),
# so a refactor can show its outputs are byte-identical: run it before and
# after and diff the two listings. Wall-clock fields, and inputs.json's
# command line and build, are dropped from JSON before hashing (they differ
# run to run); everything else is hashed as written.
#   bench/output_digest.sh [build-dir] [work-dir]
# FULL=1 also runs bench/spad_table4.sh (normal, 120 s windows) and hashes
# its plans.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build}/fleetsim
WORK=${2:-$(mktemp -d)}
mkdir -p "$WORK"

run() {  # run NAME ARGS...: one fleetsim invocation writing into $WORK/NAME
  local name=$1
  shift
  "$BIN" "$@" --out "$WORK/$name" >"$WORK/$name.log" 2>&1 ||
    echo "$name: exit $? (see $WORK/$name.log)"
}

run quickstart replay --cluster data/clusters/default.txtpb --model bloom-176b \
  --trace data/traces/azure_2023_conv.csv --duration 600
run replay_spad replay --cluster data/clusters/spad.txtpb --model bloom-176b \
  --trace data/traces/azure_2023_code.csv --rate 70 --duration 120 --slo normal \
  --cost-basis die
run replay_colocated replay --cluster data/clusters/colocated_h100.txtpb \
  --model bloom-176b --trace data/traces/azure_2023_conv.csv --rate 20 \
  --duration 120 --slo normal
run replay_splitwise_table replay --cluster data/clusters/splitwise_h100.txtpb \
  --model bloom-176b --trace data/traces/azure_2023_code.csv --rate 70 \
  --duration 120 --slo splitwise --iteration-table data/splitwise/perf_model.csv
run replay_hetero replay --cluster data/clusters/splitwise_h100_a100.txtpb \
  --model bloom-176b --trace data/traces/azure_2023_conv.csv --rate 70 \
  --duration 120 --slo normal
run plan_readme plan --model bloom-176b --trace data/traces/azure_2023_code.csv \
  --rate 70 --duration 120 --slo normal --chips h100,a100,spad_prefill,spad_decode \
  --cost-basis die
if [ "${FULL:-0}" = 1 ]; then
  OUT="$WORK/spad_table4" bench/spad_table4.sh normal 120 "$(dirname "$BIN")" \
    >"$WORK/spad_table4.txt"
fi

# Wall-clock fields vary between runs, and inputs.json's invocation (the
# --out folder in its command line) and build differ by where and what was
# built; drop them so the digest is stable.
strip_wall() {
  python3 -c '
import json, sys
VOLATILE = {"command_line", "commit", "fleetsim_version", "release"}
def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items()
                if "wall" not in k and k not in VOLATILE}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x
print(json.dumps(strip(json.load(open(sys.argv[1]))), sort_keys=True))' "$1"
}
cd "$WORK"
find . -type f \( -name '*.csv' -o -name '*.json' \) | sort | while read -r f; do
  case "$f" in
    *.json) echo "$(strip_wall "$f" | sha256sum | cut -c1-16)  $f" ;;
    *) echo "$(sha256sum <"$f" | cut -c1-16)  $f" ;;
  esac
done
