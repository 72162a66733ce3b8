#!/usr/bin/env python3
"""Kernel-only iteration time of fleetsim's cost model against Vidur's
profiled operator sum, A100 CodeLlama-34B TP2, on the same batch shapes.

Vidur (microsoft/vidur, vidur/entities/execution_time.py) times one
transformer block as the sum of its profiled operators: QKV and O
projections, rotary, attention (prefill or decode), the attention and MLP
norms, MLP up/down and activation, one residual add, and two tensor-parallel
all-reduces of tokens x hidden fp16 values; an iteration is that block times
the layers. This script sums the same operators from the Vidur tables fleetsim
ships (data/calibration/a100/, imported from Vidur's profiles; README there):
the CodeLlama-34B mlp table (commit 7d47513), the A100 attention table whose
head geometry is CodeLlama-34B's at TP2 (commit acb95f6), and the A100
pairwise-NVLink all-reduce table (Vidur's A100 node), and compares it with
`fleetsim estimate --json`'s per-operator kernel times for the same batch
(the simulator's own cost model, serving overhead left out), restricted to
the per-layer operators (no embedding, LM head, sampling or final norm,
which Vidur's block sum does not have either).

Shapes are the points where every Vidur table has a measured row (no
interpolation except the all-reduce message size, interpolated linearly in
log(bytes) between measured sizes): decode batches 1-128 at cached contexts
128-4032, and single prompts of 64-4096 tokens with no cached prefix.

Usage: bench/vidur_iteration.py [path/to/fleetsim] [--json]
Prints one line per shape and the median / range of fleetsim / Vidur - 1.
"""
import bisect
import csv
import json
import math
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TABLES = os.path.join(ROOT, "data", "calibration", "a100")
MLP = "vidur_mlp_codellama-34b-instruct-hf.csv"
ATTENTION = "vidur_attention_legacy_acb95f6.csv"
ALL_REDUCE = "vidur_all_reduce_a100_pairwise_nvlink.csv"
HIDDEN = 8192  # CodeLlama-34B (data/models/codellama-34b.txtpb)
LAYERS = 48
TP = 2

# Vidur's block: these mlp-table ops once each (one residual add).
VIDUR_MLP_OPS = ["qkv_proj", "o_proj", "rope", "input_layernorm",
                 "post_attention_layernorm", "mlp_up_proj", "mlp_act",
                 "mlp_down_proj", "residual_add"]
# fleetsim's operators that are not per layer (Vidur's block has no
# counterpart), and those whose total holds one invocation beyond the
# layers' (the final norm among the norms, the vocab-parallel embedding's
# all-reduce among the all-reduces: same shape, so 2 L / (2 L + 1) of the
# total is the layers').
NOT_PER_LAYER = {"embedding", "lm_head", "logits_gather", "sampling",
                 "framework_overhead"}
ONE_EXTRA = {"norm", "allreduce"}


def read_table(name):
    with open(os.path.join(TABLES, name)) as f:
        return list(csv.DictReader(l for l in f if not l.startswith("#")))


def vidur_tables():
    mlp = {}
    for r in read_table(MLP):
        if r["tp"] == str(TP):
            mlp[(r["op"], int(r["tokens"]))] = float(r["median_s"])
    prefill, decode = {}, {}
    for r in read_table(ATTENTION):
        if r["op"] == "attn_prefill" and int(r["batch"] or 1) == 1:
            prefill[(int(r["new_tokens"]), int(r["context_tokens"] or 0))] = \
                float(r["median_s"])
        elif r["op"] == "attn_decode":
            decode[(int(r["batch"]), int(r["context_tokens"]))] = \
                float(r["median_s"])
    ar = sorted((int(r["bytes"]), float(r["median_s"]))
                for r in read_table(ALL_REDUCE) if r["ranks"] == "2")
    return mlp, prefill, decode, ar


def all_reduce_s(ar, nbytes):
    sizes = [s for s, _ in ar]
    i = bisect.bisect_left(sizes, nbytes)
    if i == 0:
        return ar[0][1]
    if i == len(ar):
        return ar[-1][1]
    (s0, t0), (s1, t1) = ar[i - 1], ar[i]
    w = math.log(nbytes / s0) / math.log(s1 / s0)
    return t0 + w * (t1 - t0)


def vidur_iteration_s(tables, tokens, attention_s):
    """Vidur's block sum times the layers, and the all-reduces' part."""
    mlp, _, _, ar = tables
    block = sum(mlp[(op, tokens)] for op in VIDUR_MLP_OPS) + attention_s
    reduce_s = 2 * all_reduce_s(ar, tokens * HIDDEN * 2)
    return LAYERS * (block + reduce_s), LAYERS * reduce_s


def fleetsim_kernel_s(fleetsim, batch_args):
    out = subprocess.run(
        [fleetsim, "estimate", "--model", "codellama-34b", "--chip", "a100",
         "--tp", str(TP), "--json"] + batch_args,
        check=True, capture_output=True, text=True).stdout
    d = json.loads(out)
    per_layer = 0.0
    reduce_s = 0.0
    for op in d["operators"]:
        if op["name"] in NOT_PER_LAYER:
            continue
        share = 2 * LAYERS / (2 * LAYERS + 1) if op["name"] in ONE_EXTRA else 1
        per_layer += share * op["seconds"]
        if op["name"] == "allreduce":
            reduce_s = share * op["seconds"]
    return per_layer, reduce_s, d["kernel_s"]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    fleetsim = args[0] if args else os.path.join(ROOT, "build", "fleetsim")
    tables = vidur_tables()
    mlp, prefill, decode, _ = tables
    shapes = []
    for b in (1, 2, 4, 8, 16, 32, 64, 128):
        for ctx in (128, 512, 1024, 2048, 4032):
            if (b, ctx) in decode and ("qkv_proj", b) in mlp:
                shapes.append(("decode %d@%d" % (b, ctx), b, decode[(b, ctx)],
                               ["--decode", "%d@%d" % (b, ctx)]))
    for t in (64, 128, 256, 512, 1024, 2048, 4096):
        if (t, 0) in prefill and ("qkv_proj", t) in mlp:
            shapes.append(("prefill %d" % t, t, prefill[(t, 0)],
                           ["--prefill", str(t)]))
    results = []
    for name, tokens, attn_s, batch_args in shapes:
        vidur, vidur_reduce = vidur_iteration_s(tables, tokens, attn_s)
        fs, fs_reduce, fs_all = fleetsim_kernel_s(fleetsim, batch_args)
        results.append({"shape": name, "vidur_s": vidur,
                        "vidur_all_reduce_s": vidur_reduce,
                        "fleetsim_layers_s": fs,
                        "fleetsim_all_reduce_s": fs_reduce,
                        "fleetsim_kernel_s": fs_all,
                        "error": fs / vidur - 1,
                        "error_without_all_reduce":
                            (fs - fs_reduce) / (vidur - vidur_reduce) - 1})
    if "--json" in sys.argv:
        print(json.dumps(results, indent=1))
        return
    print("%-16s %10s %12s %8s | %12s %12s %8s" % (
        "shape", "Vidur ms", "fleetsim ms", "error", "Vidur AR ms",
        "fleetsim AR", "w/o AR"))
    for r in results:
        print("%-16s %10.3f %12.3f %+7.1f%% | %12.3f %12.3f %+7.1f%%" % (
            r["shape"], r["vidur_s"] * 1e3, r["fleetsim_layers_s"] * 1e3,
            100 * r["error"], r["vidur_all_reduce_s"] * 1e3,
            r["fleetsim_all_reduce_s"] * 1e3,
            100 * r["error_without_all_reduce"]))
    for kind in ("decode", "prefill"):
        for key in ("error", "error_without_all_reduce"):
            e = sorted(r[key] for r in results if r["shape"].startswith(kind))
            if e:
                print("%s %s: %d shapes, median %+.1f%%, range %+.1f%% .. "
                      "%+.1f%%, within 5%%: %d" % (
                          kind, key, len(e), 100 * e[len(e) // 2],
                          100 * e[0], 100 * e[-1],
                          sum(abs(x) <= 0.05 for x in e)))


if __name__ == "__main__":
    main()
