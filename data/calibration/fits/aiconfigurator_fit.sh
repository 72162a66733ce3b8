#!/bin/sh
# Regenerates the fits of today's kernels from the shipped aiconfigurator
# tables (data/calibration/aiconfigurator/, README there): the provenance of
# the attention, GEMM and collective `efficiency` entries in
# data/chips/h100.txtpb and a100.txtpb and of the defaults every chip nobody measured inherits
# (hardware/operator_options.cc). Usage:
#   data/calibration/fits/aiconfigurator_fit.sh [path/to/fleetsim]
# Per chip:
#   C_attention_FW_fit.txt   one framework's kernel set (entries carry
#                            `framework: FW`), prefill and decode
#   C_attention_fit.txt      all three frameworks pooled (framework-free
#                            entries) with leave-one-framework-out CV
#   C_nccl_fit.txt           NCCL all-reduce lines per rank count, with
#                            leave-one-rank-count-out CV
#   C_mla_decode_fit.txt     MLA absorbed decode's `mla_decode` entry, the
#                            chip's MLA tables pooled (leave-one-framework-
#                            out CV where there are two)
#   C_mla_decode_FW_fit.txt  one framework's mla_decode entry (A100: written
#                            but not adopted, docs/calibration.md §4.2)
#   C_moe_FW_fit.txt         one framework's fused-MoE `moe` entry with
#                            leave-one-expert-shape-out CV (bf16 SwiGLU
#                            kernels: TRT-LLM's CUTLASS, vLLM's and
#                            SGLang's Triton; docs/calibration.md §4.4)
#   C_moe_fit.txt            the frameworks pooled, leave-one-framework-out
#   h100_moe_fp8_FW_fit.txt  one framework's fused-MoE entry in block-
#                            scaled FP8 (`dtype: DTYPE_FP8`), leave-one-
#                            expert-shape-out CV (docs/calibration.md §4.4)
#   C_gemm_FW_fit.txt        one framework's bf16 GEMM entry (`framework:
#                            FW`), leave-one-m-octave-out CV
#   C_gemm_fit.txt           the frameworks' GEMM tables pooled, leave-one-
#                            framework-out (H100: the acceptance number;
#                            the default of chips nobody measured,
#                            docs/calibration.md §4.1, §7)
#   h100_gemm_fp8_FW_fit.txt one framework's per-tensor fp8 GEMM entry
#                            (`framework: FW`, `dtype: DTYPE_FP8`: priced
#                            at the fp8 peak), leave-one-m-octave-out CV
#   h100_gemm_fp8_fit.txt    the fp8 tables pooled, leave-one-framework-out
#                            (docs/calibration.md §4.1.1, §7)
#   h100_ssm_conv_fit.txt    Mamba-2's conv (`ssm_conv`), leave-one-model-out
#                            (docs/calibration.md §4.5)
set -e
cd "$(dirname "$0")/../../.."
FLEETSIM=${1:-build/fleetsim}
D=data/calibration/aiconfigurator
F=data/calibration/fits
for c in h100 a100; do
  all=""
  for fw in trtllm vllm sglang; do
    p=$D/$c/attention_prefill_$fw.csv.gz,$D/$c/attention_decode_$fw.csv.gz
    "$FLEETSIM" calibrate fit --chip $c --framework $fw --profile $p > $F/${c}_attention_${fw}_fit.txt
    all=$all${all:+,}$p
  done
  "$FLEETSIM" calibrate fit --chip $c --cv --profile $all > $F/${c}_attention_fit.txt
  "$FLEETSIM" calibrate fit --chip $c --cv --profile $D/$c/nccl.csv.gz > $F/${c}_nccl_fit.txt
  all=""
  for p in $D/$c/mla_decode_*.csv.gz; do
    fw=$(basename $p .csv.gz | sed 's/^mla_decode_//')
    "$FLEETSIM" calibrate fit --chip $c --framework $fw --profile $p > $F/${c}_mla_decode_${fw}_fit.txt
    all=$all${all:+,}$p
  done
  "$FLEETSIM" calibrate fit --chip $c --cv --profile $all > $F/${c}_mla_decode_fit.txt
  # Fused MoE: the gated (SwiGLU) kernels each framework serves bf16 with.
  MOE='kernel_source=moe_torch_flow_cutlass|moe_torch_flow|vllm_unquantizedfusedmoe_triton_tritonexperts|vllm_fused_moe|sglang_fused_moe_triton'
  all=""
  for fw in trtllm vllm sglang; do
    p=$D/$c/moe_bf16_$fw.csv.gz
    "$FLEETSIM" calibrate fit --chip $c --framework $fw --cv --profile $p --where "$MOE" > $F/${c}_moe_${fw}_fit.txt
    all=$all${all:+,}$p
  done
  "$FLEETSIM" calibrate fit --chip $c --cv --profile $all --where "$MOE" > $F/${c}_moe_fit.txt
  all=""
  for fw in trtllm vllm sglang; do
    p=$D/$c/gemm_bf16_$fw.csv.gz
    "$FLEETSIM" calibrate fit --chip $c --framework $fw --cv --profile $p > $F/${c}_gemm_${fw}_fit.txt
    all=$all${all:+,}$p
  done
  "$FLEETSIM" calibrate fit --chip $c --cv --profile $all > $F/${c}_gemm_fit.txt
done
# Per-tensor fp8 GEMMs (import.sh keeps only rows without a quantisation
# name: one kernel per table, README there), H100 only.
all=""
for fw in trtllm vllm sglang; do
  p=$D/h100/gemm_fp8_$fw.csv.gz
  "$FLEETSIM" calibrate fit --chip h100 --framework $fw --cv --profile $p > $F/h100_gemm_fp8_${fw}_fit.txt
  all=$all${all:+,}$p
done
"$FLEETSIM" calibrate fit --chip h100 --cv --profile $all > $F/h100_gemm_fp8_fit.txt
# Fused MoE in block-scaled FP8 (DeepSeek-V3's weights), H100: TRT-LLM's
# CUTLASS, vLLM's Triton and SGLang's Triton kernels.
MOE8='kernel_source=moe_torch_flow_cutlass|vllm_fp8moe_triton_tritonexperts|sglang_fused_moe_triton'
for fw in trtllm vllm sglang; do
  "$FLEETSIM" calibrate fit --chip h100 --framework $fw --cv --profile $D/h100/moe_fp8_block_$fw.csv.gz --where "$MOE8" > $F/h100_moe_fp8_${fw}_fit.txt
done
"$FLEETSIM" calibrate fit --chip h100 --framework trtllm --cv --profile $D/h100/mamba2_trtllm.csv.gz > $F/h100_ssm_conv_fit.txt
