#!/usr/bin/env bash
# Regenerates the Vidur-derived tables in this folder from a copy of
# microsoft/vidur's profiling data (see README.md for provenance).
#   usage: data/calibration/import_vidur.sh FLEETSIM_BINARY VIDUR_PROFILING_DIR
# VIDUR_PROFILING_DIR is laid out as vidur's data/profiling/ at commit $commit
# below (compute/, network/), plus legacy_acb95f6/a100/attention.csv: the
# repository's data/profiling/compute/a100/codellama/CodeLlama-34b-Instruct-hf/
# attention.csv at commit $legacy.
set -euo pipefail
if [[ $# -ne 2 ]]; then
  echo "usage: $0 FLEETSIM_BINARY VIDUR_PROFILING_DIR" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
fleetsim="$1"
vidur="$2"
commit=7d47513363ec447a741ac5e47241580b47724fbf
legacy=acb95f6cd118071401fa805a0b0bc11bd2018fc6
ppo=4   # points per octave kept from Vidur's dense sweeps

import() {  # format chip in out source_commit source_path
  "$fleetsim" calibrate import --format "$1" --chip "$2" --in "$3" --out "$4" \
    --points_per_octave "$ppo" --source_commit "$5" --source_path "$6" >/dev/null
  echo "$4: $(grep -vc '^#' "$4") lines"
}

for chip in h100 a100; do
  for f in "$vidur"/compute/"$chip"/*/*/mlp.csv; do
    rel="${f#"$vidur"/}"
    model="$(basename "$(dirname "$f")")"
    import vidur-mlp "$chip" "$f" "$here/$chip/vidur_mlp_${model,,}.csv" \
      "$commit" "data/profiling/$rel"
  done
done
for node in h100_dgx h100_pairwise_nvlink a100_dgx a100_pairwise_nvlink; do
  chip="${node%%_*}"
  for op in all_reduce send_recv; do
    f="$vidur/network/$node/$op.csv"
    [[ -f "$f" ]] || continue
    # h100_pairwise_nvlink/send_recv.csv is byte-identical to the A100 one
    # upstream (a placeholder, not an H100 measurement): not imported.
    [[ "$node/$op" == "h100_pairwise_nvlink/send_recv" ]] && continue
    import vidur-allreduce "$chip" "$f" "$here/$chip/vidur_${op}_${node}.csv" \
      "$commit" "data/profiling/network/$node/$op.csv"
  done
done
import vidur-attention a100 "$vidur/legacy_acb95f6/a100/attention.csv" \
  "$here/a100/vidur_attention_legacy_acb95f6.csv" "$legacy" \
  "data/profiling/compute/a100/codellama/CodeLlama-34b-Instruct-hf/attention.csv"
