#!/usr/bin/env bash
# QUILL (Oh et al., "QUILL: An Algorithm-Architecture Co-Design for
# Cache-Local Deformable Attention", arXiv:2511.13679): deformable
# attention is gather-bound on a GPU, and a cache-local schedule (queries
# ordered by spatial proximity, the region they sample prefetched) turns
# its misses into hits. fleetsim prices Deformable DETR (arXiv:2010.04159,
# data/models/deformable-detr.txtpb) with the multi-scale deformable
# sampler's reads split by a cache-hit fraction h (an input; 0.5 is the
# default ASSUMPTION for the reference raster-order kernel):
#  (a) `fleetsim estimate` of a batch of 8 images (800 x 1333) on H100 and
#      A100: per operator time, FLOPs, bytes, arithmetic intensity and
#      bound; the sampler's share of the iteration;
#  (b) the sampler and the whole image at h = 0, 0.5, 0.75, 0.9, 0.95
#      against h = 0.5: what a cache-local schedule changes on a GPU;
#  (c) `fleetsim replay --image-requests` on one colocated H100 at rising
#      image rates, h = 0.5 against 0.9: images per second served and
#      latency (a model copy with the hit fraction set, in a data folder
#      beside the shipped one).
#   bench/seeds_quill.sh [build-dir]
# OUT keeps the estimates, the cluster and the replays.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build}/fleetsim
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
CHIPS="h100 a100"
HITS="0 0.5 0.75 0.9 0.95"
RATES="40 160 320"
IMAGES=8

for chip in $CHIPS; do
  for hit in $HITS; do
    "$BIN" estimate --model deformable-detr --chip "$chip" --images $IMAGES \
      --cache-hit-fraction "$hit" --json >"$OUT/${chip}_h$hit.json"
  done
done

# A data folder whose deformable-detr says h = 0.9 (everything else the
# shipped catalog's).
mkdir -p "$OUT/data_local/models"
for entry in data/*; do
  [ "$(basename "$entry")" = models ] || ln -sfn "$PWD/$entry" "$OUT/data_local/"
done
cp data/models/*.txtpb "$OUT/data_local/models/"
sed -i 's/^  backbone: "resnet50"/&\n  cache_hit_fraction: 0.9/' \
  "$OUT/data_local/models/deformable-detr.txtpb"
cat >"$OUT/one_h100.txtpb" <<'PB'
name: "one-h100-images"
pools {
  role: POOL_ROLE_COLOCATED
  machine { chip: "h100" chips_per_machine: 1 }
  machines: 1
  tp: 1
  batching { max_batch_tokens: 200000 }  # 9 whole images an iteration
}
PB
for rate in $RATES; do
  for schedule in raster local; do
    data=data
    [ $schedule = local ] && data="$OUT/data_local"
    "$BIN" replay --cluster "$OUT/one_h100.txtpb" --model deformable-detr \
      --image-requests --rate "$rate" --duration 30 --seed 1 \
      --data-dir "$data" --out "$OUT/replay_${schedule}_r$rate" \
      >"$OUT/replay_${schedule}_r$rate.log" 2>&1
  done
done

python3 - "$OUT" "$CHIPS" "$HITS" "$RATES" "$IMAGES" <<'PY'
import json, sys
out, chips, hits, rates, images = sys.argv[1], *[a.split() for a in sys.argv[2:5]], int(sys.argv[5])
SHOW = ("backbone_conv", "input_proj", "enc_value_proj", "enc_offsets_weights",
        "enc_msda_sample", "ffn_up", "dec_value_proj", "dec_msda_sample",
        "dec_self_attn", "norm")
def load(chip, hit):
    return json.load(open(f"{out}/{chip}_h{hit}.json"))
def ops(e):
    return {op["name"]: op for op in e["operators"]}
print(f"(a) {images} images of 800 x 1333 (22,223 tokens each), h = 0.5\n")
print("| chip | operator | ms | share | TFLOP | GB | FLOP/B | bound |")
print("|---|---|---|---|---|---|---|---|")
for chip in chips:
    e = load(chip, "0.5")
    o = ops(e)
    for name in SHOW:
        op = o[name]
        fl = op["flops"] + op["vector_flops"]
        print(f"| {chip} | {name} | {op['seconds'] * 1e3:.2f} | {100 * op['share']:.1f} % | "
              f"{fl / 1e12:.3f} | {op['bytes'] / 1e9:.3f} | {fl / op['bytes']:.1f} | {op['bound']} |")
    print(f"| {chip} | iteration (kernels {e['kernel_s'] * 1e3:.2f} ms) | {e['iteration_s'] * 1e3:.2f} | 100 % | | | | |")
print("\n(b) the cache-hit fraction h: the sampler (enc + dec msda_sample) and the image, "
      "speed-up over h = 0.5\n")
print("| chip | h | sampler ms | sampler share | kernels ms | images/s (kernels) | sampler speed-up | image speed-up (kernels) | image speed-up (with overhead) |")
print("|---|---|---|---|---|---|---|---|---|")
for chip in chips:
    base = load(chip, "0.5")
    def sampler(e):
        o = ops(e)
        return o["enc_msda_sample"]["seconds"] + o["dec_msda_sample"]["seconds"]
    for hit in hits:
        e = load(chip, hit)
        s = sampler(e)
        print(f"| {chip} | {hit} | {s * 1e3:.2f} | {100 * s / e['iteration_s']:.1f} % | "
              f"{e['kernel_s'] * 1e3:.2f} | {images / e['kernel_s']:.1f} | {sampler(base) / s:.2f}x | "
              f"{base['kernel_s'] / e['kernel_s']:.2f}x | {base['iteration_s'] / e['iteration_s']:.2f}x |")
print("\n(c) replay, one H100, Poisson image arrivals for 30 s (seed 1)\n")
print("| rate img/s | h | served img/s | latency p50 ms | latency p99 ms | mean batch |")
print("|---|---|---|---|---|---|")
for rate in rates:
    for schedule, hit in (("raster", 0.5), ("local", 0.9)):
        s = json.load(open(f"{out}/replay_{schedule}_r{rate}/summary.json"))
        print(f"| {rate} | {hit} | {s['throughput_rps']:.1f} | {s['e2e_s']['p50'] * 1e3:.1f} | "
              f"{s['e2e_s']['p99'] * 1e3:.1f} | {s['pools'][0]['mean_batch_size']:.2f} |")
PY
