#include "hardware/calibration/gpu_harness/measure_elementwise.h"

#include <functional>
#include <map>
#include <tuple>

#include "hardware/calibration/gpu_harness/cuda_check.h"
#include "hardware/calibration/gpu_harness/kernels.h"

namespace fleetsim::calibrate {

std::vector<CsvRow> MeasureElementwise(const std::vector<ModelDims>& models,
                                       const Options& o,
                                       const std::string& chip, Pool& in,
                                       Pool& out, Timer& timer,
                                       cudaStream_t stream) {
  std::vector<CsvRow> rows;
  std::map<std::tuple<std::string, int64_t, int64_t, int64_t>, bool> seen;
  for (const ModelDims& md : models) {
    for (int tp : o.tps) {
      int64_t q, kv;
      if (!HeadsPerChip(md, tp, &q, &kv)) continue;
      const int64_t f = md.ffn / tp;
      for (int64_t t : TokenSweep(o.max_tokens)) {
        struct Op {
          const char* name;
          const char* op_class;
          int64_t elements, width, aux;
        };
        const Op ops[] = {
            {"rmsnorm", "norm", t * md.hidden, md.hidden, 0},
            {"mlp_act", "elementwise", t * f, f, 0},
            {"residual_add", "elementwise", t * md.hidden, md.hidden, 0},
            {"rope", "elementwise", t * (q + kv) * md.head_dim, md.head_dim,
             q + kv},
        };
        for (const Op& op : ops) {
          if (op.width % 8 != 0) continue;
          if (!seen.emplace(
                       std::make_tuple(op.name, op.elements, op.width, op.aux),
                       true)
                   .second) {
            continue;
          }
          const size_t bytes = static_cast<size_t>(op.elements) * 2;
          std::function<void(int)> launch;
          const std::string name = op.name;
          if (name == "rmsnorm") {
            launch = [&, t, w = md.hidden, bytes](int rep) {
              auto* x = reinterpret_cast<__nv_bfloat16*>(
                  in.Slice(bytes + w * 2, rep));
              Check(RmsNorm(
                        x, x + t * w,
                        reinterpret_cast<__nv_bfloat16*>(out.Slice(bytes, rep)),
                        t, w, stream),
                    "RmsNorm");
            };
          } else if (name == "mlp_act") {
            launch = [&, t, f, bytes](int rep) {
              auto* x =
                  reinterpret_cast<__nv_bfloat16*>(in.Slice(2 * bytes, rep));
              Check(SiluAndMul(
                        x,
                        reinterpret_cast<__nv_bfloat16*>(out.Slice(bytes, rep)),
                        t, f, stream),
                    "SiluAndMul");
            };
          } else if (name == "residual_add") {
            launch = [&, bytes, n = op.elements](int rep) {
              auto* x =
                  reinterpret_cast<__nv_bfloat16*>(in.Slice(2 * bytes, rep));
              Check(ResidualAdd(
                        x, x + n,
                        reinterpret_cast<__nv_bfloat16*>(out.Slice(bytes, rep)),
                        n, stream),
                    "ResidualAdd");
            };
          } else {
            // Rotary runs in place: on the output pool, pre-filled with random
            // data.
            launch = [&, t, heads = q + kv, d = md.head_dim, bytes](int rep) {
              auto* x = reinterpret_cast<__nv_bfloat16*>(out.Slice(bytes, rep));
              Check(Rope(x, t, heads, d, stream), "Rope");
            };
          }
          if (in.Slice(2 * bytes + md.hidden * 2, 0) == nullptr ||
              out.Slice(bytes, 0) == nullptr) {
            continue;
          }
          CsvRow r = RowFromStats(timer.Time(launch));
          r.op = op.name;
          r.op_class = op.op_class;
          r.dtype = "bf16";
          r.chip = chip;
          r.tp = tp;
          r.model = md.name;
          r.elements = op.elements;
          r.width = op.width;
          r.tokens = t;
          rows.push_back(r);
        }
      }
    }
  }
  return rows;
}

}  // namespace fleetsim::calibrate
