#!/usr/bin/env python3
"""Fused-attention calibration through PyTorch's scaled_dot_product_attention.

Writes a fleetsim calibration table (proto/fleetsim/v1/calibration.proto, CSV layout; the
column list below must match hardware/calibration/gpu_harness/calibration_csv.h) with
attn_prefill rows (causal, with and without a cached prefix) and attn_decode
rows (batch x context), for the per-chip head geometries of the catalog
models at TP 1/2/4/8. This is the attention path of the calibration harness:
cuDNN's SDPA is only reachable through the raw backend API on the build image
(no cudnn-frontend headers) and could not be validated without a GPU, so
attention goes through PyTorch, which dispatches to FlashAttention-2, cuDNN
or memory-efficient kernels; the backend actually used is recorded.

Timing: CUDA events around each call after warm-up, median/p10/p90 of the
repetitions; random bf16 inputs; each repetition uses a different set of
Q/K/V tensors from a rotation sized to exceed L2.

  python3 attention_sdpa.py --out DIR [--chip h100] [--quick] [--dry-run]

--dry-run writes the table with zero-free placeholder times and no GPU (to
check the schema end to end); its provenance says so. Exit status 3 when no
CUDA device is available.
"""

import argparse
import datetime
import math
import os
import subprocess
import sys

COLUMNS = ("op,op_class,dtype,chip,tp,model,m,n,k,batch,new_tokens,context_tokens,"
           "heads,kv_heads,head_dim,bytes,ranks,ranks_per_node,elements,width,tokens,"
           "median_s,p10_s,p90_s,mean_s,min_s,max_s,std_s,samples").split(",")

# name, heads, kv_heads, head_dim (HF config.json), mirrored from
# hardware/calibration/gpu_harness/model_shapes.h; geometries repeat, so they are deduplicated.
MODELS = [
    ("llama-2-7b", 32, 32, 128), ("llama-2-70b", 64, 8, 128),
    ("llama-3-8b", 32, 8, 128), ("llama-3-70b", 64, 8, 128),
    ("codellama-34b", 64, 8, 128), ("qwen-72b", 64, 64, 128),
    ("bloom-176b", 112, 112, 128), ("mixtral-8x7b", 32, 8, 128),
    ("qwen2.5-7b", 28, 4, 128),
]


def geometries(tps):
    """Unique per-chip (heads, kv_heads, head_dim) with the first model/tp using it."""
    seen = {}
    for name, heads, kv, dim in MODELS:
        for tp in tps:
            if heads % tp or (kv >= tp and kv % tp):
                continue
            key = (heads // tp, max(1, kv // tp), dim)
            seen.setdefault(key, (name, tp))
    return [(k, v) for k, v in seen.items()]


def shapes(quick):
    """(op, batch, new_tokens, context_tokens) sweeps."""
    new = [128, 512, 2048] if quick else [64, 128, 256, 512, 1024, 2048, 4096, 8192]
    cached = [0, 2048] if quick else [0, 512, 2048, 8192]
    batches = [1, 16, 64] if quick else [1, 2, 4, 8, 16, 32, 64, 128, 256]
    contexts = [512, 4096] if quick else [128, 512, 1024, 2048, 4096, 8192, 16384, 32768]
    out = [("attn_prefill", 1, t, c) for t in new for c in cached]
    out += [("attn_decode", b, 1, c) for b in batches for c in contexts]
    return out


def summarise(seconds):
    s = sorted(seconds)

    def q(p):
        pos = p * (len(s) - 1)
        lo = int(math.floor(pos))
        hi = min(lo + 1, len(s) - 1)
        return s[lo] + (s[hi] - s[lo]) * (pos - lo)

    mean = sum(s) / len(s)
    std = math.sqrt(sum((v - mean) ** 2 for v in s) / len(s))
    return dict(median_s=q(0.5), p10_s=q(0.1), p90_s=q(0.9), mean_s=mean,
                min_s=s[0], max_s=s[-1], std_s=std, samples=len(s))


def fmt(value):
    if value in (None, "", 0):
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_table(path, provenance, rows):
    with open(path, "w") as f:
        f.write("# fleetsim calibration table (schema: proto/fleetsim/v1/calibration.proto)\n")
        for key, value in provenance.items():
            if value:
                f.write("# %s: %s\n" % (key, str(value).replace("\n", " ")))
        f.write(",".join(COLUMNS) + "\n")
        for row in rows:
            f.write(",".join(fmt(row.get(c)) for c in COLUMNS) + "\n")
    print("wrote %s (%d rows)" % (path, len(rows)), file=sys.stderr)


def git_commit():
    try:
        return subprocess.check_output(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=os.path.dirname(os.path.abspath(__file__)),
            stderr=subprocess.DEVNULL).decode().strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def measure(torch, op, batch, new, ctx, heads, kv, dim, reps, warmup, l2_bytes,
            backend_cache):
    """Times one SDPA call; returns (stats, backend name)."""
    import torch.nn.functional as F
    dev = "cuda"
    dt = torch.bfloat16
    q_len = new
    k_len = ctx + new if op == "attn_prefill" else ctx
    per_set = 2 * (batch * heads * q_len * dim + 2 * batch * kv * k_len * dim)
    free, _ = torch.cuda.mem_get_info()
    sets = max(1, min(8, int(4 * l2_bytes // per_set) + 1, int(0.5 * free // per_set)))
    if per_set > 0.5 * free:
        return None, "skipped (memory)"
    tensors = []
    for _ in range(sets):
        qt = torch.rand(batch, heads, q_len, dim, device=dev, dtype=dt) * 2 - 1
        kt = torch.rand(batch, kv, k_len, dim, device=dev, dtype=dt) * 2 - 1
        vt = torch.rand(batch, kv, k_len, dim, device=dev, dtype=dt) * 2 - 1
        tensors.append((qt, kt, vt))
    kwargs = {}
    gqa_native = "enable_gqa" in F.scaled_dot_product_attention.__doc__
    if heads != kv:
        if gqa_native:
            kwargs["enable_gqa"] = True
        else:  # older torch: expand K/V (overstates K/V traffic; noted)
            tensors = [(qt, kt.repeat_interleave(heads // kv, 1),
                        vt.repeat_interleave(heads // kv, 1)) for qt, kt, vt in tensors]
    mask = None
    causal = False
    if op == "attn_prefill":
        if ctx == 0:
            causal = True
        else:
            # Cached prefix: new queries see every cached key plus a causal
            # window over the new ones (bottom-right aligned).
            from torch.nn.attention.bias import causal_lower_right
            mask = causal_lower_right(q_len, k_len)

    def call(i):
        qt, kt, vt = tensors[i % sets]
        return F.scaled_dot_product_attention(qt, kt, vt, attn_mask=mask,
                                              is_causal=causal, **kwargs)

    for i in range(warmup):
        call(i)
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    stops = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    for i in range(reps):
        starts[i].record()
        call(warmup + i)
        stops[i].record()
    torch.cuda.synchronize()
    seconds = [a.elapsed_time(b) * 1e-3 for a, b in zip(starts, stops)]
    cache_key = (op, ctx > 0, heads != kv)
    backend = backend_cache.get(cache_key, "auto")
    try:  # which kernel ran, from the profiler's kernel names (once per kind)
        if cache_key in backend_cache:
            raise LookupError
        from torch.profiler import profile, ProfilerActivity
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            call(0)
            torch.cuda.synchronize()
        names = " ".join(e.name.lower() for e in prof.events())
        for key, label in (("flash", "flash"), ("cudnn", "cudnn"), ("fmha", "mem_efficient"),
                           ("efficient", "mem_efficient")):
            if key in names:
                backend = label
                break
        backend_cache[cache_key] = backend
    except Exception:  # cached, or profiler unavailable: keep what we have
        pass
    if heads != kv and not gqa_native:
        backend += "+expanded_kv"
    del tensors
    return summarise(seconds), backend


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=".")
    ap.add_argument("--chip", default="")
    ap.add_argument("--tp", default="1,2,4,8")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="small sweep (smoke test)")
    ap.add_argument("--dry-run", action="store_true",
                    help="no GPU: write placeholder times to check the schema")
    ap.add_argument("--time_budget_s", type=float, default=240,
                    help="stop sweeping (and write what was measured) after this")
    args = ap.parse_args()
    tps = [int(t) for t in args.tp.split(",")]
    os.makedirs(args.out, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    provenance = {"source": "fleetsim attention_sdpa.py", "source_commit": git_commit(),
                  "license": "measured by the fleetsim project", "date": now,
                  "command": " ".join(sys.argv)}
    rows = []
    if args.dry_run:
        provenance.update(tool="none (dry run)", notes="DRY RUN: placeholder times, not "
                          "measurements; written only to check the schema")
        chip = args.chip or "dry_run"
        for (heads, kv, dim), (model, tp) in geometries(tps):
            for op, b, new, ctx in shapes(True):
                rows.append(dict(op=op, op_class="attention_prefill" if op == "attn_prefill"
                                 else "attention_decode", dtype="bf16", chip=chip, tp=tp,
                                 model=model, batch=b, new_tokens=new, context_tokens=ctx,
                                 heads=heads, kv_heads=kv, head_dim=dim,
                                 tokens=b * new, median_s=1e-6 * (1 + new + ctx), samples=1))
        write_table(os.path.join(args.out, "attention.csv"), provenance, rows)
        return 0
    try:
        import torch
    except ImportError:
        print("attention_sdpa.py: PyTorch is not installed", file=sys.stderr)
        return 1
    if not torch.cuda.is_available() or torch.cuda.device_count() == 0:
        print("attention_sdpa.py: no CUDA device available; run on a GPU machine",
              file=sys.stderr)
        return 3
    props = torch.cuda.get_device_properties(0)
    name = props.name
    chip = args.chip or next((c for c in ("h200", "h100", "a100", "h800", "b200")
                              if c in name.lower()), name.lower().replace(" ", "_"))
    l2 = getattr(props, "L2_cache_size", 50 << 20)
    driver = ""
    try:
        driver = subprocess.check_output(
            ["nvidia-smi", "--query-gpu=driver_version,clocks.max.sm,clocks.max.mem,"
             "power.limit", "--format=csv,noheader,nounits", "-i", "0"],
            stderr=subprocess.DEVNULL).decode().strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    fields = [f.strip() for f in driver.split(",")] if driver else []
    provenance.update(
        device_name=name,
        driver_version=fields[0] if fields else "",
        cuda_version=str(torch.version.cuda),
        sm_clock_mhz=fields[1] if len(fields) > 1 else "",
        memory_clock_mhz=fields[2] if len(fields) > 2 else "",
        power_limit_w=fields[3] if len(fields) > 3 else "",
        timing_method="CUDA events around each call after %d warm-up calls; median/p10/p90 "
                      "of %d; random bf16 inputs rotated over Q/K/V sets totalling > 4x L2"
                      % (args.warmup, args.reps))
    import time
    start = time.time()
    backends = set()
    backend_cache = {}
    stopped_early = False
    for (heads, kv, dim), (model, tp) in geometries(tps):
        for op, b, new, ctx in shapes(args.quick):
            if time.time() - start > args.time_budget_s:
                stopped_early = True
                break
            stats, backend = measure(torch, op, b, new, ctx, heads, kv, dim, args.reps,
                                     args.warmup, l2, backend_cache)
            if stats is None:
                continue
            backends.add(backend)
            row = dict(op=op, op_class="attention_prefill" if op == "attn_prefill"
                       else "attention_decode", dtype="bf16", chip=chip, tp=tp, model=model,
                       batch=b, new_tokens=new, context_tokens=ctx, heads=heads,
                       kv_heads=kv, head_dim=dim, tokens=b * new)
            row.update(stats)
            rows.append(row)
    provenance["tool"] = "torch %s scaled_dot_product_attention, backend(s): %s" % (
        torch.__version__, ", ".join(sorted(backends)))
    provenance["notes"] = ("prefill: causal; with a cached prefix the mask is "
                           "causal_lower_right (new queries see the whole prefix); decode: "
                           "one query per request, dense (non-paged) K/V of context_tokens; "
                           "model/tp name the first catalog model with that head geometry"
                           + ("; sweep cut short by --time_budget_s" if stopped_early else ""))
    write_table(os.path.join(args.out, "attention.csv"), provenance, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
