#include "hardware/operator_model.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "hardware/breakdown_accumulation.h"
#include "hardware/expert_all_to_all.h"
#include "hardware/model_footprint.h"
#include "hardware/ops/attention_op.h"
#include "hardware/ops/collective_op.h"
#include "hardware/ops/elementwise_op.h"
#include "hardware/ops/gemm_op.h"
#include "hardware/ops/op_cost.h"
#include "hardware/ops/op_query.h"
#include "hardware/ops/priced_op.h"
#include "hardware/ops/ssm_op.h"

namespace fleetsim::hardware {

const char* BoundName(Bound bound) {
  switch (bound) {
    case Bound::kCompute:
      return "compute";
    case Bound::kVector:
      return "vector";
    case Bound::kMemory:
      return "memory";
    case Bound::kFloor:
      return "floor";
    case Bound::kNetwork:
      return "network";
  }
  return "unknown";
}

namespace {

// Collects validation problems; one InvalidArgument lists them all.
class Problems {
 public:
  void Add(std::string problem) { list_.push_back(std::move(problem)); }
  std::vector<std::string>* list() { return &list_; }
  absl::Status ToStatus(const std::string& what) const {
    if (list_.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", absl::StrJoin(list_, "; ")));
  }

 private:
  std::vector<std::string> list_;
};

void CheckDivides(Problems& p, const char* field, int64_t value, int tp) {
  if (value % tp != 0) {
    p.Add(absl::StrCat(field, " = ", value, " is not divisible by tp = ", tp));
  }
}

absl::Status Validate(const v1::Model& model, const v1::Chip& chip, int tp,
                      int pp, const OperatorModelOptions& o) {
  Problems p;
  if (tp > 1 && chip.scale_up_gbytes_per_s() <= 0) {
    p.Add("tp > 1 needs chip scale_up_gbytes_per_s > 0");
  }
  if (pp > 1 && tp * pp > o.chips_per_machine &&
      chip.scale_out_gbytes_per_s() <= 0) {
    p.Add(
        "pipeline stages across machines need chip scale_out_gbytes_per_s > 0");
  }
  if (tp < 1) p.Add(absl::StrCat("tp must be >= 1, got ", tp));
  if (pp < 1) p.Add(absl::StrCat("pp must be >= 1, got ", pp));
  if (model.num_layers() <= 0) p.Add("model num_layers must be > 0");
  if (model.hidden_size() <= 0) p.Add("model hidden_size must be > 0");
  if (model.vocab_size() <= 0) p.Add("model vocab_size must be > 0");
  if (pp > model.num_layers() && model.num_layers() > 0) {
    p.Add(absl::StrCat("pp = ", pp,
                       " exceeds num_layers = ", model.num_layers()));
  }
  const int t = std::max(tp, 1);
  if (NumAttentionLayers(model) > 0) {
    if (model.num_heads() <= 0) p.Add("model num_heads must be > 0");
    if (model.attention() == v1::ATTENTION_KIND_MLA) {
      const v1::MlaConfig& mla = model.mla();
      if (mla.kv_lora_rank() <= 0 || mla.qk_nope_head_dim() <= 0 ||
          mla.qk_rope_head_dim() <= 0 || mla.v_head_dim() <= 0) {
        p.Add(
            "MLA model needs mla.kv_lora_rank, qk_nope_head_dim, "
            "qk_rope_head_dim and v_head_dim > 0");
      }
    } else {
      if (model.head_dim() <= 0) p.Add("model head_dim must be > 0");
      if (model.num_kv_heads() <= 0) {
        p.Add("model num_kv_heads must be > 0");
      } else if (model.num_kv_heads() % t != 0 &&
                 t % model.num_kv_heads() != 0) {
        p.Add(absl::StrCat("num_kv_heads = ", model.num_kv_heads(),
                           " and tp = ", t,
                           " must divide one another (KV heads are split or "
                           "replicated)"));
      }
    }
    if (model.num_heads() > 0)
      CheckDivides(p, "num_heads", model.num_heads(), t);
  }
  if (NumDenseMlpLayers(model) > 0) {
    CheckDivides(p, "ffn_dim", DenseFfnDim(model), t);
  }
  const int ep = o.expert_parallel;
  if (ep > 1) {
    if (NumMoeLayers(model) == 0) {
      p.Add(
          absl::StrCat("expert parallelism (ep = ", ep, ") needs a MoE model"));
    } else if (model.moe().num_experts() % ep != 0) {
      p.Add(absl::StrCat("ep = ", ep, " does not divide the ",
                         model.moe().num_experts(), " routed experts"));
    }
    if (ep % t != 0) {
      p.Add(absl::StrCat("ep = ", ep, " is not a multiple of tp = ", tp,
                         " (attention runs in ep / tp data-parallel groups)"));
    }
    // Across machines only as whole machines of one stage, and only when
    // the caller moves the cross-machine share (the simulator does).
    const bool spans = ep * std::max(pp, 1) > o.chips_per_machine;
    if (spans && !(o.cross_machine_all_to_all_by_caller && pp <= 1 &&
                   ep % o.chips_per_machine == 0)) {
      p.Add(absl::StrCat(
          "ep x pp = ", ep * std::max(pp, 1),
          " chips exceed the scale-up domain of ", o.chips_per_machine,
          o.cross_machine_all_to_all_by_caller
              ? " (an instance spans machines only with pp = 1 and ep a "
                "multiple of the machine's chips)"
              : " (the cross-machine all-to-all is simulated only in a "
                "replay, docs/simulator.md \"Expert parallelism across "
                "machines\")"));
    }
    if (chip.scale_up_gbytes_per_s() <= 0) {
      p.Add("ep > 1 needs chip scale_up_gbytes_per_s > 0");
    }
  }
  if (NumMoeLayers(model) > 0) {
    const v1::MoeConfig& moe = model.moe();
    if (moe.top_k() < 1 || moe.top_k() > moe.num_experts()) {
      p.Add(absl::StrCat("moe.top_k = ", moe.top_k(), " must be in [1, ",
                         moe.num_experts(), "]"));
    }
    if (moe.expert_ffn_dim() <= 0) p.Add("moe.expert_ffn_dim must be > 0");
    // Under expert parallelism each expert is whole on one rank.
    if (ep <= 1) CheckDivides(p, "moe.expert_ffn_dim", moe.expert_ffn_dim(), t);
    if (moe.num_shared_experts() > 0) {
      CheckDivides(p, "moe.shared_expert_ffn_dim", moe.shared_expert_ffn_dim(),
                   t);
    }
  }
  if (NumSsmLayers(model) > 0) {
    const v1::SsmConfig& ssm = model.ssm();
    if (ssm.d_state() <= 0 || ssm.conv_kernel() <= 0 || ssm.expand() <= 0) {
      p.Add("SSM model needs ssm.d_state, conv_kernel and expand > 0");
    } else {
      CheckDivides(p, "ssm d_inner (expand * hidden)", SsmInnerDim(model), t);
      if (ssm.head_dim() > 0) {
        if (SsmInnerDim(model) % ssm.head_dim() != 0) {
          p.Add("ssm.head_dim must divide expand * hidden");
        } else {
          CheckDivides(p, "ssm heads (d_inner / head_dim)",
                       SsmInnerDim(model) / ssm.head_dim(), t);
        }
      }
    }
  }
  CheckChipAndOptions(chip, o, p.list());
  return p.ToStatus(absl::StrCat("cannot model ", model.name(), " on ",
                                 chip.name(), " with tp=", tp, " pp=", pp,
                                 ep > 1 ? absl::StrCat(" ep=", ep) : ""));
}

}  // namespace

// One entry of the per-iteration table: an operator family's cost bound to
// this chip, how many invocations an iteration makes (usually once per
// layer), and its name.
struct OperatorModel::Op {
  PricedOp priced;
  double invocations = 1;
  std::string name;
  // Under expert parallelism: the operator sees every token of the
  // instance's batch (routed experts, all-to-all), not one attention data-
  // parallel group's share.
  bool all_tokens = false;
};

OperatorModel::OperatorModel(const v1::Model& model, const v1::Chip& chip,
                             int tp, int pp,
                             const OperatorModelOptions& options)
    : model_(model), chip_(chip), tp_(tp), pp_(pp), options_(options) {}

OperatorModel::~OperatorModel() = default;

absl::StatusOr<std::unique_ptr<OperatorModel>> OperatorModel::Create(
    const v1::Model& model, const v1::Chip& chip, int tp, int pp,
    const OperatorModelOptions& options) {
  absl::Status status = Validate(model, chip, tp, pp, options);
  if (!status.ok()) return status;
  std::unique_ptr<OperatorModel> m(
      new OperatorModel(model, chip, tp, pp, options));
  m->Build();
  return m;
}

namespace {

// Builds the operator table from the families' costs (hardware/ops/). Kept
// apart from OperatorModel so Build() reads as the list of what a layer
// does; the order of the entries is the order their times are summed in.
class TableBuilder {
 public:
  using Op = OperatorModel::Op;

  TableBuilder(const v1::Model& model, const v1::Chip& chip, int tp, int pp,
               const OperatorModelOptions& o, std::vector<Op>* ops,
               std::vector<OperatorQuery>* shapes)
      : model_(model),
        chip_(chip),
        tp_(tp),
        pp_(pp),
        o_(o),
        ops_(ops),
        shapes_(shapes),
        ep_(o.expert_parallel),
        b_w_(WeightBytesPerElement(model)),
        b_ffn_(FfnWeightBytesPerElement(model)),
        b_kv_(KvBytesPerElement(model)) {}

  void Build();

 private:
  // The per-chip shape of an operator of class `c` with this model's
  // dtypes; callers fill the family's dimensions.
  OperatorQuery Shape(v1::OperatorClass c) const {
    OperatorQuery q;
    q.op_class = c;
    q.tp = tp_;
    q.weight_bytes = b_w_;
    q.kv_bytes = b_kv_;
    return q;
  }

  // Appends `cost` as operator `name`, run `invocations` times.
  void Add(std::string_view name, double invocations,
           const OperatorQuery& shape, const OpCost& cost) {
    Op op;
    op.priced = BindNamedOp(cost, name, chip_, o_);
    op.invocations = invocations;
    op.name = std::string(name);
    ops_->push_back(std::move(op));
    shapes_->push_back(shape);
  }

  // One projection's shape on this chip (k or n split by TP).
  OperatorQuery GemmShapeOf(v1::OperatorClass c, const GemmShape& g) const {
    auto per_chip = [this](int64_t v, bool split) {
      return split ? (v + tp_ - 1) / tp_ : v;
    };
    OperatorQuery s = Shape(c);
    s.k = per_chip(g.k, g.split == GemmShape::Split::kK);
    s.n = per_chip(g.n, g.split == GemmShape::Split::kN);
    return s;
  }

  // `ffn`: a dense MLP's or an expert's GEMM, whose weights are the FFNs'
  // (FfnWeightBytesPerElement: NVFP4 in FP4 pools, which run only these
  // GEMMs at FP4's peak; attention and the rest stay FP8).
  void AddGemm(std::string_view name, v1::OperatorClass c, double invocations,
               const GemmShape& g, Feature rows, bool ffn = false) {
    if (g.k <= 0 || g.n <= 0 || invocations <= 0) return;
    OperatorQuery s = GemmShapeOf(c, g);
    if (ffn) s.weight_bytes = b_ffn_;
    Add(name, invocations, s, GemmCost(s, rows));
  }

  // A per-token kernel over rows of `width` elements.
  void AddRowKernel(std::string_view name, v1::OperatorClass c,
                    double invocations, double width, const RowKernel& kernel,
                    Feature rows = kTokens) {
    if (invocations <= 0 || width <= 0) return;
    OperatorQuery s = Shape(c);
    s.width = static_cast<int64_t>(width);
    s.io_rows = kernel.io_rows;
    s.vector_flops_per_element = kernel.vector_flops_per_element;
    Add(name, invocations, s, RowKernelCost(s, o_, rows));
  }

  // `all_to_all_ranks`: the ranks an all-to-all runs over (ep_ unless
  // the instance spans machines).
  void AddCollective(std::string_view name, CollectiveKind kind,
                     double invocations, double bytes_per_row, Feature rows,
                     bool scale_out, int all_to_all_ranks = 0) {
    if (invocations <= 0) return;
    OperatorQuery s = Shape(v1::OPERATOR_CLASS_COLLECTIVE);
    s.ranks = kind == CollectiveKind::kSendRecv ? 2
              : kind == CollectiveKind::kAllToAll
                  ? (all_to_all_ranks > 0 ? all_to_all_ranks : ep_)
                  : tp_;
    s.scale_out = scale_out;
    Add(name, invocations, s,
        CollectiveCost(kind, s.ranks, scale_out, bytes_per_row, rows));
  }

  bool UsesRotary() const {
    switch (o_.rotary) {
      case OperatorModelOptions::Rotary::kOn:
        return true;
      case OperatorModelOptions::Rotary::kOff:
        return false;
      case OperatorModelOptions::Rotary::kAuto:
        break;
    }
    return !(model_.norm() == v1::NORM_KIND_LAYERNORM &&
             model_.mlp() == v1::MLP_KIND_GELU);
  }

  void AddAttentionLayers(int layers);
  void AddMlaLayers(int layers);
  void AddSsmLayers(int layers);
  void AddMlpLayers(int dense_layers, int moe_layers);
  void AddExpertAllToAll(int moe_layers);

  const v1::Model& model_;
  const v1::Chip& chip_;
  const int tp_;
  const int pp_;
  const OperatorModelOptions& o_;
  std::vector<Op>* ops_;
  std::vector<OperatorQuery>* shapes_;
  const int ep_;  // expert-parallel ranks; 1 = none
  const double b_w_;
  const double b_ffn_;  // the FFN GEMMs' weights (AddGemm)
  const double b_kv_;
};

// MHA / GQA / CCA attention layers.
void TableBuilder::AddAttentionLayers(int layers) {
  if (layers <= 0) return;
  const LayerGemms g = LayerGemmShapes(model_);
  OperatorQuery s = Shape(v1::OPERATOR_CLASS_ATTENTION_PREFILL);
  s.heads = model_.num_heads() / tp_;
  // KV heads split across TP ranks, or replicated when fewer than tp.
  s.kv_heads = std::max(1, model_.num_kv_heads() / tp_);
  s.head_dim = model_.head_dim();

  AddGemm("qkv_proj", v1::OPERATOR_CLASS_GEMM, layers, g.qkv, kTokens);
  if (model_.attention() == v1::ATTENTION_KIND_CCA) {
    OperatorQuery conv = s;
    conv.op_class = v1::OPERATOR_CLASS_ELEMENTWISE;
    conv.conv_kernel = model_.cca().conv_kernel_q();
    conv.grouped_conv_kernel = model_.cca().conv_kernel_k();
    Add(kCcaConvName, layers, conv, CcaConvCost(conv));
  }
  if (UsesRotary()) {
    AddRowKernel("rotary", v1::OPERATOR_CLASS_ELEMENTWISE, layers,
                 static_cast<double>(s.heads + s.kv_heads) * s.head_dim,
                 RotaryKernel());
  }
  if (o_.fuse_attention) {
    Add(kAttnPrefillName, layers, s, AttentionPrefillCost(s, o_));
  } else {
    Add(kAttnScoresName, layers, s, AttentionScoresCost(s, o_));
    OperatorQuery softmax = s;
    softmax.op_class = v1::OPERATOR_CLASS_ELEMENTWISE;
    Add(kAttnSoftmaxName, layers, softmax, AttentionSoftmaxCost(s, o_));
    Add(kAttnContextName, layers, s, AttentionContextCost(s, o_));
  }
  OperatorQuery dec = s;
  dec.op_class = v1::OPERATOR_CLASS_ATTENTION_DECODE;
  Add(kAttnDecodeName, layers, dec, AttentionDecodeCost(dec, o_));
  AddGemm("o_proj", v1::OPERATOR_CLASS_GEMM, layers, g.o, kTokens);
}

// DeepSeek MLA layers: naive form for prefill, absorbed form for decode
// (attention_op.h). The latent cache is replicated on every TP rank.
void TableBuilder::AddMlaLayers(int layers) {
  if (layers <= 0) return;
  const LayerGemms g = LayerGemmShapes(model_);
  const v1::MlaConfig& mla = model_.mla();
  const int h_c = model_.num_heads() / tp_;
  const int d_r = mla.qk_rope_head_dim();
  const int r_kv = mla.kv_lora_rank();
  const int latent = r_kv + d_r;  // cached width (576 for DeepSeek-V3)

  AddGemm("mla_q_a", v1::OPERATOR_CLASS_GEMM, layers, g.mla_q_a, kTokens);
  AddGemm("mla_q_b", v1::OPERATOR_CLASS_GEMM, layers, g.mla_q_b, kTokens);
  AddGemm("mla_kv_a", v1::OPERATOR_CLASS_GEMM, layers, g.mla_kv_a, kTokens);
  if (UsesRotary()) {
    AddRowKernel("rotary", v1::OPERATOR_CLASS_ELEMENTWISE, layers,
                 (h_c + 1.0) * d_r, RotaryKernel());
  }

  // Prefill, naive form: up-project K/V of every context token (rows: the
  // prefill context; runs when there are prefill tokens), then MHA with qk
  // dim d_nope + d_rope and v dim d_v.
  if (g.mla_kv_b.k > 0 && g.mla_kv_b.n > 0) {
    const OperatorQuery up = GemmShapeOf(v1::OPERATOR_CLASS_GEMM, g.mla_kv_b);
    OpCost cost = GemmCost(up, kPrefillContext);
    cost.gate = kPrefillTokens;
    Add("mla_kv_up", layers, up, cost);
  }
  OperatorQuery pre = Shape(v1::OPERATOR_CLASS_ATTENTION_PREFILL);
  pre.heads = h_c;
  pre.kv_heads = h_c;
  pre.head_dim = mla.qk_nope_head_dim() + d_r;
  pre.v_head_dim = mla.v_head_dim();
  pre.latent_dim = latent;
  Add(kAttnPrefillName, layers, pre, AttentionPrefillCost(pre, o_));

  // Decode, absorbed form: W_UK folded into q, MQA over the latent, W_UV
  // folded into the output.
  OperatorQuery q_absorb = Shape(v1::OPERATOR_CLASS_GEMM);
  q_absorb.heads = h_c;
  q_absorb.k = mla.qk_nope_head_dim();
  q_absorb.n = r_kv;
  Add("mla_q_absorb", layers, q_absorb,
      BatchedGemmCost(q_absorb, kDecodeRequests));
  OperatorQuery dec = Shape(v1::OPERATOR_CLASS_ATTENTION_DECODE);
  dec.heads = h_c;
  dec.kv_heads = 1;
  dec.head_dim = latent;
  dec.v_head_dim = r_kv;
  dec.latent_dim = latent;
  Add(kMlaDecodeName, layers, dec, AttentionDecodeCost(dec, o_));
  OperatorQuery out_absorb = Shape(v1::OPERATOR_CLASS_GEMM);
  out_absorb.heads = h_c;
  out_absorb.k = r_kv;
  out_absorb.n = mla.v_head_dim();
  Add("mla_out_absorb", layers, out_absorb,
      BatchedGemmCost(out_absorb, kDecodeRequests));
  AddGemm("o_proj", v1::OPERATOR_CLASS_GEMM, layers, g.o, kTokens);
  // q_a and kv_a RMSNorms on the compressed widths.
  AddRowKernel("mla_norm", v1::OPERATOR_CLASS_NORM, layers,
               mla.q_lora_rank() + static_cast<double>(r_kv),
               NormKernel(v1::NORM_KIND_RMSNORM, o_));
}

// Mamba-1 / Mamba-2 mixers (ssm_op.h).
void TableBuilder::AddSsmLayers(int layers) {
  if (layers <= 0) return;
  const LayerGemms g = LayerGemmShapes(model_);
  const v1::SsmConfig& ssm = model_.ssm();
  OperatorQuery s = Shape(v1::OPERATOR_CLASS_SSM);
  s.width = SsmInnerDim(model_) / tp_;
  s.d_state = ssm.d_state();
  s.ssm_head_dim = ssm.head_dim();
  s.conv_kernel = ssm.conv_kernel();

  AddGemm("ssm_in_proj", v1::OPERATOR_CLASS_GEMM, layers, g.ssm_in, kTokens);
  Add(kSsmConvName, layers, s, SsmConvCost(s));
  AddGemm("ssm_x_proj", v1::OPERATOR_CLASS_GEMM, layers, g.ssm_x, kTokens);
  AddGemm("ssm_dt_proj", v1::OPERATOR_CLASS_GEMM, layers, g.ssm_dt, kTokens);
  Add(kSsmScanPrefillName, layers, s, SsmScanPrefillCost(s));
  Add(kSsmScanDecodeName, layers, s, SsmScanDecodeCost(s));
  if (ssm.head_dim() > 0) {
    AddRowKernel("ssm_gated_norm", v1::OPERATOR_CLASS_NORM, layers,
                 static_cast<double>(s.width), GatedNormKernel(o_));
  }
  AddGemm("ssm_out_proj", v1::OPERATOR_CLASS_GEMM, layers, g.ssm_out, kTokens);
}

// Dense MLP layers, then MoE layers: router, routed experts (E_hit distinct
// experts stream their weights), shared experts; routed experts split by
// TP, or whole on each of ep ranks under expert parallelism, under the
// options' routing (gemm_op.h MoeExpertsCost). Shared experts split by TP.
void TableBuilder::AddMlpLayers(int dense_layers, int moe_layers) {
  const LayerGemms g = LayerGemmShapes(model_);
  if (dense_layers > 0) {
    AddGemm("mlp_up", v1::OPERATOR_CLASS_GEMM, dense_layers, g.mlp_up, kTokens,
            /*ffn=*/true);
    const double ffn_c = static_cast<double>(DenseFfnDim(model_)) / tp_;
    AddRowKernel("activation", v1::OPERATOR_CLASS_ELEMENTWISE, dense_layers,
                 ffn_c,
                 model_.mlp() == v1::MLP_KIND_GELU ? UngatedActivationKernel(o_)
                                                   : GatedActivationKernel(o_));
    AddGemm("mlp_down", v1::OPERATOR_CLASS_GEMM, dense_layers, g.mlp_down,
            kTokens, /*ffn=*/true);
  }
  if (moe_layers <= 0) return;
  const v1::MoeConfig& moe = model_.moe();
  AddGemm("moe_router", v1::OPERATOR_CLASS_GEMM, moe_layers,
          GemmShape{model_.hidden_size(), moe.num_experts(),
                    GemmShape::Split::kNone},
          kTokens);
  // The ranks the routed experts' work is split over: TP ranks each hold a
  // slice of every expert, EP ranks whole experts.
  const int expert_ranks = ep_ > 1 ? ep_ : tp_;
  OperatorQuery experts = Shape(v1::OPERATOR_CLASS_MOE);
  experts.weight_bytes = b_ffn_;
  experts.k = model_.hidden_size();
  experts.n = ep_ > 1 ? moe.expert_ffn_dim() : moe.expert_ffn_dim() / tp_;
  experts.experts = moe.num_experts();
  experts.top_k = moe.top_k();
  experts.moe_ep = ep_;
  experts.moe_routing_alpha = o_.moe_routing_alpha;
  experts.moe_dispatched = ep_ > tp_;
  Add("moe_experts", moe_layers, experts, MoeExpertsCost(experts));
  ops_->back().all_tokens = ep_ > 1;
  // An entry with a per-call latency was fitted on whole fused MoE layers
  // (`calibrate fit` on fused-MoE rows, docs/calibration.md §4.4), whose
  // time includes the experts' SwiGLU: the routed experts' activation is
  // then not charged again. The entry that decides is the one Add() just
  // priced the experts with (that of the experts' precision, TensorDtype).
  const bool fused_layer = ops_->back().priced.latency_s > 0;
  // Under expert parallelism the activations run over every token of the
  // instance at 1 / ep of the width (the same elements as a group's tokens
  // at 1 / tp).
  double act_width =
      fused_layer
          ? 0.0
          : static_cast<double>(moe.top_k()) *
                (static_cast<double>(moe.expert_ffn_dim()) / expert_ranks);
  if (moe.num_shared_experts() > 0 && moe.shared_expert_ffn_dim() > 0) {
    const int64_t shared = static_cast<int64_t>(moe.num_shared_experts()) *
                           moe.shared_expert_ffn_dim();
    AddGemm("shared_expert_up", v1::OPERATOR_CLASS_MOE, moe_layers,
            GemmShape{model_.hidden_size(), 2 * shared, GemmShape::Split::kN},
            kTokens, /*ffn=*/true);
    AddGemm("shared_expert_down", v1::OPERATOR_CLASS_MOE, moe_layers,
            GemmShape{shared, model_.hidden_size(), GemmShape::Split::kK},
            kTokens, /*ffn=*/true);
    act_width += static_cast<double>(shared) / expert_ranks;
  }
  if (act_width > 0) {
    AddRowKernel("moe_activation", v1::OPERATOR_CLASS_ELEMENTWISE, moe_layers,
                 act_width, GatedActivationKernel(o_));
    ops_->back().all_tokens = ep_ > 1;
  }
}

// Expert parallelism with data-parallel attention (ep > tp): per MoE layer,
// every rank sends its share of the batch's tokens (1 / ep) to the ranks
// holding their top_k experts and receives the experts' outputs back. With
// ep = tp every rank already holds every token (one attention group): it
// computes its experts' pairs and the TP all-reduce after the MLP sums the
// ranks' outputs, as vLLM does without data parallelism
// (vllm/model_executor/layers/fused_moe/config.py: use_all2all_kernels is
// dp_size > 1 and use_ep), so no all-to-all is added. The bytes per token
// are hardware/expert_all_to_all.h's. An instance spanning machines
// (options.cross_machine_all_to_all_by_caller) is priced here only for the
// all-to-all among one machine's L ranks, which carries L / ep of each
// rank's copies; the caller moves the rest over the scale-out network.
void TableBuilder::AddExpertAllToAll(int moe_layers) {
  if (ep_ <= tp_ || moe_layers <= 0) return;
  const int local = std::min(ep_, o_.chips_per_machine);
  const ExpertAllToAll a2a = PlanExpertAllToAll(model_, ep_, local);
  const double share = local < ep_ ? static_cast<double>(local) / ep_ : 1.0;
  AddCollective("ep_dispatch", CollectiveKind::kAllToAll, moe_layers,
                a2a.dispatch_bytes_per_token * share, kTokens,
                /*scale_out=*/false, local);
  ops_->back().all_tokens = true;
  AddCollective("ep_combine", CollectiveKind::kAllToAll, moe_layers,
                a2a.combine_bytes_per_token * share, kTokens,
                /*scale_out=*/false, local);
  ops_->back().all_tokens = true;
}

void TableBuilder::Build() {
  const double d = model_.hidden_size();
  const int layers = model_.num_layers();
  const int dense_layers = NumDenseMlpLayers(model_);
  const int moe_layers = NumMoeLayers(model_);
  const int ffn_layers = dense_layers + moe_layers;
  const LayerGemms g = LayerGemmShapes(model_);

  // Vocab-parallel embedding: gather rows, then all-reduce (below).
  AddRowKernel("embedding", v1::OPERATOR_CLASS_ELEMENTWISE, 1, d,
               EmbeddingKernel(b_w_));
  // Pre-mixer norm on every layer, pre-MLP norm on layers with an MLP, one
  // final norm; all over the full hidden width (replicated under TP).
  AddRowKernel("norm", v1::OPERATOR_CLASS_NORM, layers + ffn_layers + 1, d,
               NormKernel(model_.norm(), o_));
  if (o_.mtp_module) {
    AddRowKernel("mtp_norm", v1::OPERATOR_CLASS_NORM, 2, d,
                 NormKernel(model_.norm(), o_));
    OperatorQuery proj = Shape(v1::OPERATOR_CLASS_GEMM);
    proj.k = 2 * model_.hidden_size();
    proj.n = model_.hidden_size();
    proj.weight_bytes = BytesPerElement(v1::DTYPE_BF16);
    Add("mtp_proj", 1, proj, GemmCost(proj, kTokens));
  }

  if (model_.attention() == v1::ATTENTION_KIND_MLA) {
    AddMlaLayers(NumAttentionLayers(model_));
  } else {
    AddAttentionLayers(NumAttentionLayers(model_));
  }
  AddSsmLayers(NumSsmLayers(model_));
  AddMlpLayers(dense_layers, moe_layers);
  AddExpertAllToAll(moe_layers);

  // Residual adds: after the mixer and after the MLP.
  AddRowKernel("residual_add", v1::OPERATOR_CLASS_ELEMENTWISE,
               layers + ffn_layers, d, ResidualAddKernel());

  // LM head on the rows that produce a token, then sampling over the
  // gathered logits (full vocabulary on rank 0).
  AddGemm("lm_head", v1::OPERATOR_CLASS_GEMM, 1, g.lm_head, kLmRows);
  AddRowKernel("sampling", v1::OPERATOR_CLASS_ELEMENTWISE, 1,
               static_cast<double>(model_.vocab_size()), SamplingKernel(o_),
               kLmRows);

  // Tensor-parallel collectives: all-reduce after the embedding, after every
  // mixer and every MLP (Megatron); logits gathered to rank 0.
  if (tp_ > 1) {
    const double vocab_c =
        std::ceil(static_cast<double>(model_.vocab_size()) / tp_);
    AddCollective("allreduce", CollectiveKind::kAllReduce,
                  1 + layers + ffn_layers, kActivationBytes * d, kTokens,
                  /*scale_out=*/false);
    AddCollective("logits_gather", CollectiveKind::kGather, 1,
                  kActivationBytes * vocab_c, kLmRows, /*scale_out=*/false);
  }
  // Pipeline stages: one activation send per stage boundary, over scale-out
  // once the stages span machines.
  if (pp_ > 1) {
    AddCollective("pp_send", CollectiveKind::kSendRecv, pp_ - 1,
                  kActivationBytes * d, kTokens,
                  /*scale_out=*/tp_ * pp_ > o_.chips_per_machine);
  }
}

}  // namespace

void OperatorModel::Build() {
  TableBuilder(model_, chip_, tp_, pp_, options_, &ops_, &shapes_).Build();
  overhead_s_ = options_.iteration_overhead_s +
                options_.layer_overhead_s * model_.num_layers();
  request_overhead_s_ = options_.request_layer_overhead_s * model_.num_layers();
  attention_groups_ = std::max(1, options_.expert_parallel / tp_);
}

double OperatorModel::OperatorSeconds(const OperatorQuery& q) const {
  return OperatorPricer(chip_, options_).Seconds(q);
}

template <OperatorModel::Report kReport>
double OperatorModel::Evaluate(const BatchShape& batch, IterationBreakdown* out,
                               const Totals* totals) const {
  constexpr bool kExplain = kReport == Report::kExplain;
  double x[kNumFeatures];
  BatchFeatures(batch, x);
  // Under expert parallelism with data-parallel attention, every operator
  // but the routed experts and the all-to-all runs on one group's requests,
  // the groups in parallel, and the iteration waits for the busiest group.
  // A request stays whole in one group, so the busiest holds
  // ceil(chunks / g) prefill chunks and ceil(decodes / g) decodes.
  // ASSUMPTION: the batch's chunks are alike, and so are its decodes (the
  // BatchShape keeps sums only), each at the batch's mean size.
  double group_x[kNumFeatures];
  const double* group = x;
  if (attention_groups_ > 1) {
    auto busiest_share = [this](double requests) {
      return requests > 0 ? std::ceil(requests / attention_groups_) / requests
                          : 0.0;
    };
    const double prefill = busiest_share(x[kPrefillRequests]);
    const double decode = busiest_share(x[kDecodeRequests]);
    group_x[kOne] = 1;
    group_x[kPrefillTokens] = x[kPrefillTokens] * prefill;
    group_x[kPairs] = x[kPairs] * prefill;
    group_x[kPrefillContext] = x[kPrefillContext] * prefill;
    group_x[kPrefillRequests] = x[kPrefillRequests] * prefill;
    group_x[kDecodeRequests] = x[kDecodeRequests] * decode;
    group_x[kDecodeContext] = x[kDecodeContext] * decode;
    group_x[kTokens] = group_x[kPrefillTokens] + group_x[kDecodeRequests];
    // Extra logit rows come with prefill chunks (a speculative verify's).
    group_x[kLmRows] =
        group_x[kPrefillRequests] + group_x[kDecodeRequests] +
        (x[kLmRows] - x[kPrefillRequests] - x[kDecodeRequests]) * prefill;
    group = group_x;
  }
  const double overhead_s =
      overhead_s_ +
      request_overhead_s_ * (group[kPrefillRequests] + group[kDecodeRequests]);
  double total = overhead_s;
  if constexpr (kReport == Report::kTotals) totals->seconds[0] += overhead_s;
  if constexpr (kExplain) AddOverheadToBreakdown(overhead_s, out);
  for (const Op& op : ops_) {
    const PricedOp& priced = op.priced;
    const double* xs = op.all_tokens ? x : group;
    if (xs[priced.cost.gate] <= 0) continue;
    OpWork work;
    Bound bound;
    double seconds = priced.Seconds(xs, &work, &bound);
    if (const OperatorCorrection& fix =
            options_.corrections[priced.cost.op_class];
        fix) {
      // A copy, so that `work` stays in registers on the hot path.
      const OpWork seen{work.flops, work.vector_flops, work.bytes};
      OperatorQuery q =
          QueryOfOp(shapes_[&op - ops_.data()], priced.cost, xs, seen, seconds);
      q.name = op.name;
      seconds = fix(q);
    }
    const double op_total = seconds * op.invocations;
    total += op_total;
    if constexpr (kReport == Report::kTotals) {
      const size_t i = 1 + static_cast<size_t>(&op - ops_.data());
      totals->seconds[i] += op_total;
      totals->tensor_flops[i] += work.flops * op.invocations;
    }
    if constexpr (kExplain) {
      AddToBreakdown(op.name, priced.cost.op_class, bound, op_total, work,
                     op.invocations, out);
    }
  }
  if constexpr (kExplain) out->seconds = total;
  return total;
}

double OperatorModel::IterationSeconds(const BatchShape& batch) const {
  return Evaluate<Report::kNone>(batch, nullptr, nullptr);
}

IterationBreakdown OperatorModel::Explain(const BatchShape& batch) const {
  IterationBreakdown out;
  Evaluate<Report::kExplain>(batch, &out, nullptr);
  return out;
}

std::vector<OperatorLabel> OperatorModel::OperatorLabels() const {
  std::vector<OperatorLabel> labels;
  labels.push_back({kFrameworkOverheadName, v1::OPERATOR_CLASS_UNSPECIFIED});
  for (const Op& op : ops_)
    labels.push_back({op.name, op.priced.cost.op_class});
  return labels;
}

double OperatorModel::AddOperatorTotals(const BatchShape& batch,
                                        double* seconds,
                                        double* tensor_flops) const {
  const Totals totals{seconds, tensor_flops};
  return Evaluate<Report::kTotals>(batch, nullptr, &totals);
}

}  // namespace fleetsim::hardware
