#!/usr/bin/env bash
# Fuzzes every libFuzzer target of a sanitized build for a bounded time:
#   tests/fuzz/run_fuzzers.sh BUILD_DIR [TOTAL_SECONDS]
# Targets run side by side, one per core, each for TOTAL_SECONDS x cores /
# targets (at most 30 s), from a scratch copy of its seed corpus
# (tests/fuzz/corpus/<target>/), so the repository is never written. A
# crash, leak, sanitizer report or timeout fails the run; the input that
# did it is printed (base64) with how to turn it into a regression input.
set -euo pipefail
build=$(cd "$1" && pwd)
total_s=${2:-180}
src=$(cd "$(dirname "$0")" && pwd)
cores=$(nproc)
targets=("$src"/corpus/*/)
per_target_s=$(( total_s * cores / ${#targets[@]} ))
[ "$per_target_s" -gt 30 ] && per_target_s=30
[ "$per_target_s" -lt 5 ] && per_target_s=5
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

fuzz_one() {  # target name; writes $scratch/NAME.log, returns its status
  local name=$1 out=$scratch/$1
  mkdir -p "$out/corpus" "$out/artifacts"
  "$build/tests/fuzz/$name" -max_total_time="$per_target_s" -timeout=20 \
    -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/" "$out/corpus" "$src/corpus/$name" \
    >"$scratch/$name.log" 2>&1
}
export -f fuzz_one
export build src scratch per_target_s

echo "fuzzing ${#targets[@]} targets for ${per_target_s} s each, ${cores} at a time"
failed=0
printf '%s\n' "${targets[@]}" | xargs -n1 basename |
  xargs -P "$cores" -I{} bash -c 'fuzz_one {} || touch "$scratch/{}.failed"'
for dir in "${targets[@]}"; do
  name=$(basename "$dir")
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' \
         "$scratch/$name.log" | grep -o '[0-9]*$' || echo "?")
  if [ -e "$scratch/$name.failed" ]; then
    failed=1
    echo "FAIL $name ($runs runs); last lines of its log:"
    tail -40 "$scratch/$name.log"
    for artifact in "$scratch/$name"/artifacts/*; do
      [ -e "$artifact" ] || continue
      echo "input $(basename "$artifact") (base64; decode it into" \
           "tests/fuzz/regressions/$name/ and add a test for the fix):"
      base64 -w0 "$artifact"; echo
    done
  else
    echo "ok   $name ($runs runs)"
  fi
done
exit $failed
