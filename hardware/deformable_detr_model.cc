#include "hardware/deformable_detr_model.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "hardware/breakdown_accumulation.h"
#include "hardware/model_footprint.h"
#include "hardware/operator_query.h"
#include "hardware/ops/deformable_attention_op.h"
#include "hardware/ops/elementwise_op.h"
#include "hardware/ops/gemm_op.h"
#include "hardware/ops/op_cost.h"
#include "hardware/ops/priced_op.h"

namespace fleetsim::hardware {
namespace {

int64_t HalfUp(int64_t v) { return (v + 1) / 2; }

// Feature levels Deformable DETR has strides for (8, 16, 32, 64).
constexpr int kMaxLevels = 4;

}  // namespace

std::vector<DetrGeometry::Conv> ResNet50Convs(int64_t height, int64_t width) {
  std::vector<DetrGeometry::Conv> convs;
  int64_t h = HalfUp(height);
  int64_t w = HalfUp(width);
  convs.push_back({h * w, 7 * 7 * 3, 64, height * width * 3});  // conv1, s2
  h = HalfUp(h);  // 3x3 max pool, stride 2
  w = HalfUp(w);
  const int blocks[] = {3, 4, 6, 3};
  int64_t in_ch = 64;
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t mid = int64_t{64} << stage;
    const int64_t out = 4 * mid;
    for (int b = 0; b < blocks[stage]; ++b) {
      const bool down = b == 0 && stage > 0;  // stride 2 on the 3x3
      const int64_t in_rows = h * w;
      if (down) {
        h = HalfUp(h);
        w = HalfUp(w);
      }
      convs.push_back({in_rows, in_ch, mid, in_rows * in_ch});  // 1x1 reduce
      convs.push_back({h * w, 9 * mid, mid, in_rows * mid});    // 3x3
      convs.push_back({h * w, mid, out, h * w * mid});          // 1x1 expand
      if (b == 0) {  // projection shortcut
        convs.push_back({h * w, in_ch, out, in_rows * in_ch});
      }
      in_ch = out;
    }
  }
  return convs;
}

double ConvMacs(const std::vector<DetrGeometry::Conv>& convs) {
  double macs = 0;
  for (const DetrGeometry::Conv& c : convs) {
    macs += static_cast<double>(c.rows) * static_cast<double>(c.k) *
            static_cast<double>(c.n);
  }
  return macs;
}

absl::StatusOr<DetrGeometry> DetrGeometryOf(const v1::Model& model) {
  if (!model.has_deformable_detr()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", model.name(), "' has no deformable_detr (not a detector)"));
  }
  const v1::DeformableDetr& d = model.deformable_detr();
  std::vector<std::string> problems;
  if (d.num_levels() < 1 || d.num_levels() > kMaxLevels) {
    problems.push_back("deformable_detr.num_levels must be in [1, 4]");
  }
  if (d.num_points() < 1) problems.push_back("deformable_detr.num_points < 1");
  if (d.num_queries() < 1) {
    problems.push_back("deformable_detr.num_queries < 1");
  }
  if (d.image_height_px() < 1 || d.image_width_px() < 1) {
    problems.push_back(
        "deformable_detr.image_height_px and image_width_px "
        "must be > 0");
  }
  if (d.encoder_layers() < 1 || d.encoder_layers() >= model.num_layers()) {
    problems.push_back(
        "deformable_detr.encoder_layers must be in [1, num_layers)");
  }
  const int channels = d.backbone_channels_size();
  if (channels < 1 ||
      (channels != d.num_levels() && channels != d.num_levels() - 1)) {
    problems.push_back(
        "deformable_detr.backbone_channels: one per level, or one fewer "
        "(the last level is a stride-2 conv on the last output)");
  }
  for (int c : d.backbone_channels()) {
    if (c < 1) problems.push_back("deformable_detr.backbone_channels < 1");
  }
  if (!d.backbone().empty() && d.backbone() != "resnet50") {
    problems.push_back(absl::StrCat("deformable_detr.backbone '", d.backbone(),
                                    "' is not \"resnet50\" or \"\""));
  }
  if (model.hidden_size() < 1 || model.num_heads() < 1 ||
      model.hidden_size() % model.num_heads() != 0) {
    problems.push_back("num_heads must divide hidden_size");
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", model.name(), "': ", absl::StrJoin(problems, "; ")));
  }
  DetrGeometry g;
  int64_t h = d.image_height_px();
  int64_t w = d.image_width_px();
  for (int i = 0; i < 3; ++i) {  // stride 8: the backbone's first halvings
    h = HalfUp(h);
    w = HalfUp(w);
  }
  const int64_t d_model = model.hidden_size();
  for (int l = 0; l < d.num_levels(); ++l) {
    if (l > 0) {
      h = HalfUp(h);
      w = HalfUp(w);
    }
    g.level_height.push_back(h);
    g.level_width.push_back(w);
    g.encoder_tokens += h * w;
    if (l < channels) {
      const int64_t c = d.backbone_channels(l);
      g.input_proj.push_back({h * w, c, d_model, h * w * c});
    } else {  // a 3x3 stride-2 conv on the last backbone output
      const int64_t c = d.backbone_channels(channels - 1);
      g.input_proj.push_back(
          {h * w, 9 * c, d_model,
           g.level_height[l - 1] * g.level_width[l - 1] * c});
    }
  }
  if (d.backbone() == "resnet50") {
    g.backbone = ResNet50Convs(d.image_height_px(), d.image_width_px());
  }
  return g;
}

struct DeformableDetrModel::Op {
  PricedOp priced;
  double invocations = 1;
  std::string name;
};

namespace {

// Builds the operator table; the order is the order a forward pass runs.
class DetrTableBuilder {
 public:
  using Op = DeformableDetrModel::Op;

  DetrTableBuilder(const v1::Model& model, const DetrGeometry& g, double hit,
                   const v1::Chip& chip, const OperatorModelOptions& o,
                   std::vector<Op>* ops)
      : model_(model),
        g_(g),
        hit_(hit),
        chip_(chip),
        o_(o),
        ops_(ops),
        d_(model.hidden_size()),
        b_w_(WeightBytesPerElement(model)) {}

  void Build();

 private:
  void Add(std::string_view name, double invocations, const OpCost& cost) {
    Op op;
    op.priced = BindNamedOp(cost, name, chip_, o_);
    op.invocations = invocations;
    op.name = std::string(name);
    ops_->push_back(std::move(op));
  }

  OpCost Gemm(int64_t k, int64_t n, Feature rows) const {
    OperatorQuery s;
    s.op_class = v1::OPERATOR_CLASS_GEMM;
    s.k = k;
    s.n = n;
    s.weight_bytes = b_w_;
    return GemmCost(s, rows);
  }

  void AddGemm(std::string_view name, double invocations, int64_t k, int64_t n,
               Feature rows) {
    Add(name, invocations, Gemm(k, n, rows));
  }

  // A convolution of each image: its output pixels are no batch feature,
  // so the GEMM's rows are per image (no M-tile term, nil at their
  // thousands of rows) and its activations are its input map read once
  // and its output written.
  void AddConv(std::string_view name, const DetrGeometry::Conv& conv) {
    OpCost c = Gemm(conv.k, conv.n, kPrefillRequests);
    const double rows = static_cast<double>(conv.rows);
    c.flops[kPrefillRequests] *= rows;
    c.bytes[kPrefillRequests] =
        kActivationBytes *
        (static_cast<double>(conv.input_elements) + rows * conv.n);
    c.m_tiles = false;
    Add(name, 1, c);
  }

  void AddRows(std::string_view name, v1::OperatorClass c, double invocations,
               double width, const RowKernel& kernel, Feature rows) {
    OperatorQuery s;
    s.op_class = c;
    s.width = static_cast<int64_t>(width);
    s.io_rows = kernel.io_rows;
    s.vector_flops_per_element = kernel.vector_flops_per_element;
    Add(name, invocations, RowKernelCost(s, o_, rows));
  }

  MsdaShape Msda() const {
    const v1::DeformableDetr& d = model_.deformable_detr();
    MsdaShape s;
    s.d_model = d_;
    s.heads = model_.num_heads();
    s.levels = d.num_levels();
    s.points = d.num_points();
    s.cache_hit_fraction = hit_;
    return s;
  }

  // The layer's post-norm residual blocks: `blocks` adds and norms over
  // `rows`, plus `pos_adds` positional-embedding adds.
  void AddNormsAndAdds(double layers, int blocks, int pos_adds, Feature rows) {
    AddRows("norm", v1::OPERATOR_CLASS_NORM, layers * blocks, d_,
            NormKernel(v1::NORM_KIND_LAYERNORM, o_), rows);
    AddRows("residual_add", v1::OPERATOR_CLASS_ELEMENTWISE,
            layers * (blocks + pos_adds), d_, ResidualAddKernel(), rows);
  }

  void AddFfn(double layers, Feature rows) {
    AddGemm("ffn_up", layers, d_, model_.ffn_dim(), rows);
    AddRows("activation", v1::OPERATOR_CLASS_ELEMENTWISE, layers,
            model_.ffn_dim(), UngatedActivationKernel(o_), rows);
    AddGemm("ffn_down", layers, model_.ffn_dim(), d_, rows);
  }

  const v1::Model& model_;
  const DetrGeometry& g_;
  const double hit_;
  const v1::Chip& chip_;
  const OperatorModelOptions& o_;
  std::vector<Op>* ops_;
  const int64_t d_;
  const double b_w_;
};

void DetrTableBuilder::Build() {
  const v1::DeformableDetr& d = model_.deformable_detr();
  const double enc = d.encoder_layers();
  const double dec = model_.num_layers() - d.encoder_layers();
  const MsdaShape msda = Msda();
  // Sampling offsets (2 M L K) and attention weights (M L K) per query:
  // two linear layers of the query, one GEMM here.
  const int64_t offsets_weights = 3 * MsdaPerQuery(msda).sampled_points;

  for (const DetrGeometry::Conv& c : g_.backbone) AddConv("backbone_conv", c);
  for (const DetrGeometry::Conv& c : g_.input_proj) AddConv("input_proj", c);

  // Encoder: deformable self-attention of every token; the value map is
  // the layer's own tokens, read at least once.
  AddGemm("enc_value_proj", enc, d_, d_, kPrefillTokens);
  AddGemm("enc_offsets_weights", enc, d_, offsets_weights, kPrefillTokens);
  Add("enc_msda_sample", enc,
      MsdaSamplingCost(msda, kPrefillTokens, msda.value_bytes * d_,
                       v1::OPERATOR_CLASS_ATTENTION_DECODE));
  AddGemm("enc_out_proj", enc, d_, d_, kPrefillTokens);
  AddNormsAndAdds(enc, 2, 1, kPrefillTokens);
  AddFfn(enc, kPrefillTokens);

  // Decoder: self-attention among the queries of each image (Q x Q scores
  // per head), then deformable cross-attention into the encoder's output,
  // whose value projection runs over every encoder token in every layer.
  const double q = d.num_queries();
  AddGemm("dec_qkv_proj", dec, d_, 3 * d_, kLmRows);
  OpCost self =
      MakeOpCost(OpForm::kAttentionPrefill,
                 v1::OPERATOR_CLASS_ATTENTION_PREFILL, kPrefillRequests);
  self.flops[kPrefillRequests] = 4.0 * q * q * d_;  // QK^T and PV
  self.vector_flops[kPrefillRequests] =
      o_.softmax_flops_per_score * q * q * model_.num_heads();
  self.bytes[kPrefillRequests] = kActivationBytes * 4.0 * q * d_;
  Add("dec_self_attn", dec, self);
  AddGemm("dec_o_proj", dec, d_, d_, kLmRows);
  AddGemm("dec_value_proj", dec, d_, d_, kPrefillTokens);
  AddGemm("dec_offsets_weights", dec, d_, offsets_weights, kLmRows);
  Add("dec_msda_sample", dec,
      MsdaSamplingCost(msda, kLmRows, 0, v1::OPERATOR_CLASS_ATTENTION_DECODE));
  AddGemm("dec_out_proj", dec, d_, d_, kLmRows);
  AddNormsAndAdds(dec, 3, 1, kLmRows);
  AddFfn(dec, kLmRows);

  // Heads of the last layer: class logits and the 3-layer box MLP.
  AddGemm("detect_heads", 1, d_, model_.vocab_size(), kLmRows);
  AddGemm("detect_heads", 2, d_, d_, kLmRows);
  AddGemm("detect_heads", 1, d_, 4, kLmRows);
}

}  // namespace

DeformableDetrModel::DeformableDetrModel(DetrGeometry geometry, double queries,
                                         double cache_hit_fraction,
                                         double overhead_s)
    : geometry_(std::move(geometry)),
      queries_(queries),
      cache_hit_fraction_(cache_hit_fraction),
      overhead_s_(overhead_s) {}

DeformableDetrModel::~DeformableDetrModel() = default;

absl::StatusOr<std::unique_ptr<DeformableDetrModel>>
DeformableDetrModel::Create(const v1::Model& model, const v1::Chip& chip,
                            int tp, int pp,
                            const OperatorModelOptions& options) {
  absl::StatusOr<DetrGeometry> g = DetrGeometryOf(model);
  if (!g.ok()) return g.status();
  std::vector<std::string> problems;
  if (tp != 1 || pp != 1) {
    problems.push_back(absl::StrCat(
        "tp = ", tp, ", pp = ", pp,
        ": a deformable DETR is modelled on one chip (tp = pp = 1)"));
  }
  const double hit = model.deformable_detr().has_cache_hit_fraction()
                         ? model.deformable_detr().cache_hit_fraction()
                         : kDefaultCacheHitFraction;
  if (!(hit >= 0 && hit < 1)) {
    problems.push_back(absl::StrCat(
        "deformable_detr.cache_hit_fraction must be in [0, 1), got ", hit));
  }
  CheckChipAndOptions(chip, options, &problems);
  if (!problems.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot model ", model.name(), " on ", chip.name(), ": ",
                     absl::StrJoin(problems, "; ")));
  }
  const double overhead_s = options.iteration_overhead_s +
                            options.layer_overhead_s * model.num_layers();
  std::unique_ptr<DeformableDetrModel> m(new DeformableDetrModel(
      *std::move(g), model.deformable_detr().num_queries(), hit, overhead_s));
  DetrTableBuilder(model, m->geometry_, hit, chip, options, &m->ops_).Build();
  return m;
}

template <bool kExplain>
double DeformableDetrModel::Evaluate(const BatchShape& batch,
                                     IterationBreakdown* out, double* seconds,
                                     double* tensor_flops) const {
  double x[kNumFeatures] = {};
  const double tokens = static_cast<double>(batch.prefill_tokens);
  const double images = tokens / static_cast<double>(geometry_.encoder_tokens);
  x[kOne] = 1;
  x[kTokens] = tokens;
  x[kPrefillTokens] = tokens;
  x[kPrefillRequests] = images;
  x[kLmRows] = images * queries_;
  double total = overhead_s_;
  if (seconds != nullptr) seconds[0] += overhead_s_;
  if constexpr (kExplain) AddOverheadToBreakdown(overhead_s_, out);
  for (size_t i = 0; i < ops_.size(); ++i) {
    const Op& op = ops_[i];
    if (x[op.priced.cost.gate] <= 0) continue;
    OpWork work;
    Bound bound;
    const double op_s = op.priced.Seconds(x, &work, &bound) * op.invocations;
    total += op_s;
    if (seconds != nullptr) {
      seconds[1 + i] += op_s;
      tensor_flops[1 + i] += work.flops * op.invocations;
    }
    if constexpr (kExplain) {
      AddToBreakdown(op.name, op.priced.cost.op_class, bound, op_s, work,
                     op.invocations, out);
    }
  }
  if constexpr (kExplain) out->seconds = total;
  return total;
}

double DeformableDetrModel::IterationSeconds(const BatchShape& batch) const {
  return Evaluate<false>(batch, nullptr, nullptr, nullptr);
}

IterationBreakdown DeformableDetrModel::Explain(const BatchShape& batch) const {
  IterationBreakdown out;
  Evaluate<true>(batch, &out, nullptr, nullptr);
  return out;
}

std::vector<OperatorLabel> DeformableDetrModel::OperatorLabels() const {
  std::vector<OperatorLabel> labels;
  labels.push_back({kFrameworkOverheadName, v1::OPERATOR_CLASS_UNSPECIFIED});
  for (const Op& op : ops_) {
    labels.push_back({op.name, op.priced.cost.op_class});
  }
  return labels;
}

double DeformableDetrModel::AddOperatorTotals(const BatchShape& batch,
                                              double* seconds,
                                              double* tensor_flops) const {
  return Evaluate<false>(batch, nullptr, seconds, tensor_flops);
}

}  // namespace fleetsim::hardware
