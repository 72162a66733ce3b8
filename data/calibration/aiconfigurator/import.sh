#!/bin/sh
# Regenerates the aiconfigurator-derived tables in this folder (README.md)
# from aiconfigurator's per-operator tables converted to CSV. Usage:
#   data/calibration/aiconfigurator/import.sh AIC_DIR [path/to/fleetsim]
# AIC_DIR holds <system>/<family>/<framework>/<version>/<table>.csv.gz, the
# layout of aic-core/src/aiconfigurator_core/systems/data/ in
# ai-dynamo/aiconfigurator at 095f58a51c4ca8e61b66ec108d86f223f8d559ce, each
# parquet table converted row for row to gzip'd CSV with its own column names
# (no C++ parquet reader exists in Debian 12). Only the newest version per
# framework is expected in each folder. A MANIFEST.tsv beside AIC_DIR (path
# relative to the systems folder, tab, upstream commit, date, git blob SHA-1)
# supplies each table's blob for its provenance.
set -e
AIC=${1:?usage: import.sh AIC_DIR [fleetsim]}
cd "$(dirname "$0")/../../.."
FLEETSIM=${2:-build/fleetsim}
OUT=data/calibration/aiconfigurator
COMMIT=095f58a51c4ca8e61b66ec108d86f223f8d559ce
# import CHIP SYSTEM FAMILY FRAMEWORK TABLE OUTNAME WHERE
import() {
  dir="$AIC/$2/$3/$4"
  version=$(ls "$dir" | head -1)
  blob=$(awk -F'\t' -v p="$2/$3/$4/$version/$5.parquet" '$1 == p { print $4 }' \
    "$AIC/../MANIFEST.tsv" 2>/dev/null || true)
  "$FLEETSIM" calibrate import --format aiconfigurator --chip "$1" \
    --in "$dir/$version/$5.csv.gz" --out "$OUT/$1/$6.csv.gz" \
    --source_commit $COMMIT --source_blob "$blob" \
    --source_path "aic-core/src/aiconfigurator_core/systems/data/$2/$3/$4/$version/$5.parquet" \
    --where "$7" > /dev/null
}
ATTN='head_dim=128,dtype=bf16,kv_dtype=bf16,window_tokens=0'
# GEMM: the synthetic grid's n and k thinned to powers of two from 512 to
# 16384 (every m kept).
GEMM_NK='n=512|1024|2048|4096|8192|16384,k=512|1024|2048|4096|8192|16384'
for chip in h100 a100; do
  sys=${chip}_sxm
  mkdir -p $OUT/$chip
  for fw in trtllm vllm sglang; do
    import $chip $sys attention $fw context_attention_perf attention_prefill_$fw "$ATTN"
    import $chip $sys attention $fw generation_attention_perf attention_decode_$fw "$ATTN"
    import $chip $sys gemm $fw gemm_perf gemm_bf16_$fw "dtype=bf16,$GEMM_NK"
    import $chip $sys comm $fw custom_allreduce_perf custom_allreduce_$fw ""
  done
  import $chip $sys comm nccl nccl_perf nccl "dtype=fp16"
done
for fw in trtllm vllm sglang; do
  import h100 h100_sxm gemm $fw gemm_perf gemm_fp8_$fw "dtype=fp8,quant=,$GEMM_NK"
done
# MLA absorbed decode (DeepSeek-V3's dimensions), bf16 with a bf16 latent
# cache, where the core table exists: H100 TRT-LLM and SGLang, A100 TRT-LLM
# and vLLM (vLLM on H100 and SGLang on A100 have only the MLA module, which
# includes the projections).
MLA='dtype=bf16,kv_dtype=bf16'
for fw in trtllm sglang; do
  import h100 h100_sxm mla $fw generation_mla_perf mla_decode_$fw "$MLA"
done
for fw in trtllm vllm; do
  import a100 a100_sxm mla $fw generation_mla_perf mla_decode_$fw "$MLA"
done
# Fused MoE layers (gate + up + down with routing), bf16, balanced and
# power-law routing: Mixtral-class (8 experts, top-2) and many-expert
# (DeepSeek/Qwen-class) shapes.
for chip in h100 a100; do
  for fw in trtllm vllm sglang; do
    import $chip ${chip}_sxm moe $fw moe_perf moe_bf16_$fw "dtype=bf16"
  done
done
# Fused MoE layers in block-scaled FP8 (128 x 128 weight blocks, as
# DeepSeek-V3 is deployed: arXiv 2412.19437 §3.3), H100 only (A100 has no
# FP8): every kernel source each framework collected, the fits pick theirs.
for fw in trtllm vllm sglang; do
  import h100 h100_sxm moe $fw moe_perf moe_fp8_block_$fw "dtype=fp8,quant=fp8_block"
done
# Mamba-2 prefill kernels (H100 TRT-LLM only): the rows at this snapshot all
# time causal_conv1d_fn (the conv; no chunked-scan row survived upstream's
# collection), imported as ssm_conv rows; generation rows are dropped
# (cache-resident state updates, README).
import h100 h100_sxm linear_attention trtllm mamba2_perf mamba2_trtllm ""
