#!/usr/bin/env bash
# Builds and runs fleetsim's calibration harness on a GPU machine in one go
# (about 3-6 minutes on one H100; hard limits keep it under 8):
#   1. builds fleetsim-calibrate (CMake standalone build of
#      hardware/calibration/gpu_harness, or plain nvcc when CMake is missing),
#      needing only the CUDA toolkit;
#   2. runs it: cuBLASLt GEMMs and elementwise kernels (+ NCCL all-reduce
#      with more than one GPU) -> gemm.csv, elementwise.csv, allreduce.csv;
#   3. runs attention_sdpa.py when PyTorch is importable -> attention.csv;
#   4. saves nvidia-smi -q and the logs next to the tables.
# Output folder: $OUT if set, else ./calibration_out. Run from anywhere:
#   hardware/calibration/gpu_harness/run_on_gpu.sh [--quick]
# Exit status: 0 when at least one table was written.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="${OUT:-$PWD/calibration_out}"
build="${BUILD_DIR:-$root/build-gpu}"
quick=""
[[ "${1:-}" == "--quick" ]] && quick=1
mkdir -p "$out" "$build"
log() { echo "[run_on_gpu $(date -u +%H:%M:%S)] $*" | tee -a "$out/run_on_gpu.log" >&2; }

nvidia-smi -q > "$out/nvidia-smi.txt" 2>&1 || log "nvidia-smi not available"
cc="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader -i 0 2>/dev/null | tr -d '. ')"
arch="80;90"
[[ -n "$cc" && "$cc" != 80 && "$cc" != 90 ]] && arch="80;90;$cc"
log "GPU compute capability: ${cc:-unknown}; building for $arch"

nvcc=""
for c in "${CUDACXX:-}" "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" /usr/local/cuda/bin/nvcc \
         "$(command -v nvcc 2>/dev/null)"; do
  [[ -n "$c" && -x "$c" ]] && { nvcc="$c"; break; }
done

harness=""
if [[ -n "$nvcc" ]]; then
  cuda_root="$(cd "$(dirname "$nvcc")/.." && pwd)"
  export LD_LIBRARY_PATH="$cuda_root/lib64:$cuda_root/lib:${LD_LIBRARY_PATH:-}"
  if command -v cmake >/dev/null 2>&1; then
    log "building with CMake ($nvcc)"
    cmake -S "$here" -B "$build" -DCMAKE_CUDA_COMPILER="$nvcc" \
      -DFLEETSIM_CUDA_ARCHITECTURES="$arch" -DCMAKE_BUILD_TYPE=Release \
      >>"$out/build.log" 2>&1 &&
      cmake --build "$build" -j"$(nproc)" >>"$out/build.log" 2>&1 &&
      harness="$build/fleetsim-calibrate"
  fi
  if [[ -z "$harness" ]]; then
    log "building with nvcc alone"
    gencode=""
    for a in ${arch//;/ }; do gencode+=" -gencode arch=compute_$a,code=sm_$a"; done
    nccl_flag=""
    [[ -f "$cuda_root/include/nccl.h" ]] && nccl_flag="-DFLEETSIM_HAVE_NCCL"
    # shellcheck disable=SC2086
    "$nvcc" -O2 -std=c++17 $gencode -I"$root" $nccl_flag \
      -DFLEETSIM_SOURCE_DATA_DIR="\"$root/data\"" \
      -DFLEETSIM_GIT_COMMIT="\"$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null)\"" \
      "$here"/*.cc "$here/kernels.cu" -cudart static -lcublasLt -ldl \
      -o "$build/fleetsim-calibrate" >>"$out/build.log" 2>&1 &&
      harness="$build/fleetsim-calibrate"
  fi
  [[ -z "$harness" ]] && log "build FAILED; see $out/build.log"
else
  log "nvcc not found: skipping the CUDA harness (attention still runs via PyTorch)"
fi

if [[ -n "$harness" ]]; then
  extra=()
  [[ -n "$quick" ]] && extra=(--max_tokens 512 --tp "1,8" --reps 10)
  log "running $harness"
  timeout 210 "$harness" --out "$out" --models_dir "$root/data/models" "${extra[@]}" \
    2>&1 | tee -a "$out/calibrate.log" | tail -n 20
  log "fleetsim-calibrate exit status ${PIPESTATUS[0]}"
fi

py="$(command -v python3 || command -v python || true)"
if [[ -n "$py" ]] && "$py" -c "import torch" 2>/dev/null; then
  extra=()
  [[ -n "$quick" ]] && extra=(--quick)
  log "running attention_sdpa.py with $py"
  timeout 180 "$py" "$here/attention_sdpa.py" --out "$out" --time_budget_s 140 "${extra[@]}" \
    2>&1 | tee -a "$out/attention.log" | tail -n 5
  log "attention_sdpa.py exit status ${PIPESTATUS[0]}"
else
  log "PyTorch not importable: attention table skipped"
fi

log "tables in $out:"
ls -la "$out"/*.csv 2>/dev/null | tee -a "$out/run_on_gpu.log" >&2
ls "$out"/*.csv >/dev/null 2>&1
