#include "workloads/model_catalog.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "util/field_checks.h"
#include "util/run_limits.h"
#include "util/status_macros.h"
#include "util/text_locator.h"

namespace fleetsim::workloads {
namespace {

// Collects every problem with one model file, each at the position of its
// field in the file. Field names may be dotted ("moe.top_k"); a field not
// written is reported at its enclosing block.
class ModelProblems {
 public:
  ModelProblems(const std::string& path, const v1::Model& model)
      : locator_(path, model) {}

  // Must be present and > 0.
  void Positive(const std::string& field, int64_t value) {
    if (value > 0) return;
    if (value == 0 && !locator_.Written(field)) {
      Add(field, absl::StrCat("field '", field, "' is missing"));
    } else {
      Add(field,
          absl::StrCat("field '", field, "' must be > 0 (got ", value, ")"));
    }
  }

  void NonNegative(const std::string& field, int64_t value) {
    if (value >= 0) return;
    Add(field,
        absl::StrCat("field '", field, "' must be >= 0 (got ", value, ")"));
  }

  // A problem at `field`'s position.
  void Add(const std::string& field, const std::string& message) {
    problems_.push_back(locator_.At(field, message));
  }

  absl::Status status() const {
    if (problems_.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrJoin(problems_, "\n"));
  }

 private:
  TextLocator locator_;
  std::vector<std::string> problems_;
};

void CheckAttention(const v1::Model& model, ModelProblems& problems) {
  problems.Positive("num_heads", model.num_heads());
  problems.Positive("num_kv_heads", model.num_kv_heads());
  problems.Positive("head_dim", model.head_dim());
  if (model.attention() == v1::ATTENTION_KIND_UNSPECIFIED) {
    problems.Add("attention",
                 "field 'attention' is missing (MHA, GQA, MLA or CCA)");
  }
  const int heads = model.num_heads();
  const int kv_heads = model.num_kv_heads();
  if (heads > 0 && kv_heads > 0) {
    if (model.attention() == v1::ATTENTION_KIND_MHA && kv_heads != heads) {
      problems.Add(
          "num_kv_heads",
          absl::StrCat("field 'num_kv_heads' must equal num_heads (", heads,
                       ") for ATTENTION_KIND_MHA (got ", kv_heads, ")"));
    } else if (heads % kv_heads != 0) {
      problems.Add("num_kv_heads",
                   absl::StrCat("field 'num_kv_heads' (", kv_heads,
                                ") must divide num_heads (", heads, ")"));
    }
  }
  if (model.attention() == v1::ATTENTION_KIND_MLA) {
    if (!model.has_mla()) {
      problems.Add("mla",
                   "field 'mla' is missing (ATTENTION_KIND_MLA needs "
                   "kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, "
                   "v_head_dim)");
    } else {
      const v1::MlaConfig& mla = model.mla();
      problems.NonNegative("mla.q_lora_rank", mla.q_lora_rank());
      problems.Positive("mla.kv_lora_rank", mla.kv_lora_rank());
      problems.Positive("mla.qk_nope_head_dim", mla.qk_nope_head_dim());
      problems.Positive("mla.qk_rope_head_dim", mla.qk_rope_head_dim());
      problems.Positive("mla.v_head_dim", mla.v_head_dim());
    }
  }
  if (model.has_cca()) {
    problems.NonNegative("cca.conv_kernel_q", model.cca().conv_kernel_q());
    problems.NonNegative("cca.conv_kernel_k", model.cca().conv_kernel_k());
  }
}

void CheckMoe(const v1::Model& model, ModelProblems& problems) {
  const v1::MoeConfig& moe = model.moe();
  problems.NonNegative("moe.num_experts", moe.num_experts());
  if (moe.num_experts() <= 0) return;
  problems.Positive("moe.top_k", moe.top_k());
  if (moe.top_k() > moe.num_experts()) {
    problems.Add("moe.top_k", absl::StrCat("field 'moe.top_k' (", moe.top_k(),
                                           ") must be <= moe.num_experts (",
                                           moe.num_experts(), ")"));
  }
  problems.Positive("moe.expert_ffn_dim", moe.expert_ffn_dim());
  problems.NonNegative("moe.num_shared_experts", moe.num_shared_experts());
  if (moe.num_shared_experts() > 0) {
    problems.Positive("moe.shared_expert_ffn_dim", moe.shared_expert_ffn_dim());
  }
  problems.NonNegative("moe.first_dense_layers", moe.first_dense_layers());
  if (moe.first_dense_layers() > model.num_layers()) {
    problems.Add(
        "moe.first_dense_layers",
        absl::StrCat("field 'moe.first_dense_layers' (",
                     moe.first_dense_layers(), ") must be <= num_layers (",
                     model.num_layers(), ")"));
  }
  problems.NonNegative("moe.dense_ffn_dim", moe.dense_ffn_dim());
}

void CheckSsm(const v1::Model& model, ModelProblems& problems) {
  const v1::SsmConfig& ssm = model.ssm();
  problems.NonNegative("ssm.num_ssm_layers", ssm.num_ssm_layers());
  problems.NonNegative("ssm.head_dim", ssm.head_dim());
  if (ssm.num_ssm_layers() <= 0) return;
  if (ssm.num_ssm_layers() > model.num_layers()) {
    problems.Add(
        "ssm.num_ssm_layers",
        absl::StrCat("field 'ssm.num_ssm_layers' (", ssm.num_ssm_layers(),
                     ") must be <= num_layers (", model.num_layers(), ")"));
  }
  problems.Positive("ssm.d_state", ssm.d_state());
  problems.Positive("ssm.expand", ssm.expand());
  problems.Positive("ssm.conv_kernel", ssm.conv_kernel());
}

// A detector's own fields (the shapes hardware/deformable_detr_model.h
// prices; its DetrGeometryOf checks the rest).
void CheckDeformableDetr(const v1::Model& model, ModelProblems& problems) {
  const v1::DeformableDetr& d = model.deformable_detr();
  problems.Positive("deformable_detr.encoder_layers", d.encoder_layers());
  if (d.encoder_layers() >= model.num_layers()) {
    problems.Add("deformable_detr.encoder_layers",
                 "field 'deformable_detr.encoder_layers' must be below "
                 "num_layers (the rest are decoder layers)");
  }
  problems.Positive("deformable_detr.num_levels", d.num_levels());
  problems.Positive("deformable_detr.num_points", d.num_points());
  problems.Positive("deformable_detr.num_queries", d.num_queries());
  problems.Positive("deformable_detr.image_height_px", d.image_height_px());
  problems.Positive("deformable_detr.image_width_px", d.image_width_px());
  const int channels = d.backbone_channels_size();
  if (channels != d.num_levels() && channels != d.num_levels() - 1) {
    problems.Add("deformable_detr.backbone_channels",
                 "field 'deformable_detr.backbone_channels': one per level, "
                 "or one fewer (the last level is then a stride-2 conv)");
  }
  if (!d.backbone().empty() && d.backbone() != "resnet50") {
    problems.Add("deformable_detr.backbone",
                 "field 'deformable_detr.backbone' must be \"resnet50\" or "
                 "empty (not priced)");
  }
}

}  // namespace

// Sanity bounds, not data: far beyond any published model (DeepSeek-V3:
// 61 layers, hidden 7168, 256 experts; the widest vocabulary, Gemma 3, 262k),
// small enough that products of two sizes stay well inside int64.
const FieldRanges& ModelFieldRanges() {
  constexpr double kSize = 1e7;  // any width or count below
  static const auto* ranges = new FieldRanges{
      {"fleetsim.v1.Model.num_layers", 1, 1e5},
      {"fleetsim.v1.Model.hidden_size", 1, kSize},
      {"fleetsim.v1.Model.num_heads", 1, kSize},
      {"fleetsim.v1.Model.num_kv_heads", 1, kSize},
      {"fleetsim.v1.Model.head_dim", 1, kSize},
      {"fleetsim.v1.Model.ffn_dim", 1, kSize},
      {"fleetsim.v1.Model.vocab_size", 1, kSize},
      {"fleetsim.v1.Model.max_context", 1,
       static_cast<double>(kMaxRequestTokens), "tokens (util/run_limits.h)"},
      {"fleetsim.v1.MlaConfig.q_lora_rank", 0, kSize},
      {"fleetsim.v1.MlaConfig.kv_lora_rank", 0, kSize},
      {"fleetsim.v1.MlaConfig.qk_nope_head_dim", 0, kSize},
      {"fleetsim.v1.MlaConfig.qk_rope_head_dim", 0, kSize},
      {"fleetsim.v1.MlaConfig.v_head_dim", 0, kSize},
      {"fleetsim.v1.CcaConfig.conv_kernel_q", 0, 1e3},
      {"fleetsim.v1.CcaConfig.conv_kernel_k", 0, 1e3},
      {"fleetsim.v1.MoeConfig.num_experts", 0, 1e5},
      {"fleetsim.v1.MoeConfig.top_k", 0, 1e5},
      {"fleetsim.v1.MoeConfig.num_shared_experts", 0, 1e5},
      {"fleetsim.v1.MoeConfig.expert_ffn_dim", 0, kSize},
      {"fleetsim.v1.MoeConfig.shared_expert_ffn_dim", 0, kSize},
      {"fleetsim.v1.MoeConfig.first_dense_layers", 0, 1e5},
      {"fleetsim.v1.MoeConfig.dense_ffn_dim", 0, kSize},
      {"fleetsim.v1.SsmConfig.num_ssm_layers", 0, 1e5},
      {"fleetsim.v1.SsmConfig.d_state", 0, kSize},
      {"fleetsim.v1.SsmConfig.expand", 0, 1e3},
      {"fleetsim.v1.SsmConfig.head_dim", 0, kSize},
      {"fleetsim.v1.SsmConfig.conv_kernel", 0, 1e3},
      {"fleetsim.v1.MaskedDiffusion.mask_token_id", 0, kSize},
      // Served as draft steps: at most SpeculativeDecoding's draft tokens.
      {"fleetsim.v1.MultiTokenPrediction.num_modules", 0, 64},
      {"fleetsim.v1.DeformableDetr.encoder_layers", 0, 1e5},
      {"fleetsim.v1.DeformableDetr.num_levels", 1, 4, "strides 8, 16, 32, 64"},
      {"fleetsim.v1.DeformableDetr.num_points", 1, 1e3},
      {"fleetsim.v1.DeformableDetr.num_queries", 1, 1e5},
      {"fleetsim.v1.DeformableDetr.image_height_px", 1, 1e5, "pixels"},
      {"fleetsim.v1.DeformableDetr.image_width_px", 1, 1e5, "pixels"},
      {"fleetsim.v1.DeformableDetr.backbone_channels", 1, 1e5},
      {"fleetsim.v1.DeformableDetr.cache_hit_fraction", 0, 0.999,
       "a share of reads, below 1"},
  };
  return *ranges;
}

absl::Status ValidateModel(const v1::Model& model, const std::string& path) {
  ModelProblems problems(path, model);
  problems.Positive("num_layers", model.num_layers());
  problems.Positive("hidden_size", model.hidden_size());
  problems.Positive("vocab_size", model.vocab_size());
  if (model.dtype() == v1::DTYPE_UNSPECIFIED) {
    problems.Add("dtype", "field 'dtype' is missing");
  }
  // A model file names its checkpoint's precision; FP4 weights are a
  // pool's choice (Pool.weight_dtype), which the pool's chip is checked
  // against; an FP4 KV cache is not modelled.
  if (model.dtype() == v1::DTYPE_FP4 || model.kv_dtype() == v1::DTYPE_FP4) {
    problems.Add(model.dtype() == v1::DTYPE_FP4 ? "dtype" : "kv_dtype",
                 model.dtype() == v1::DTYPE_FP4
                     ? "FP4 weights are set per pool (Pool.weight_dtype: "
                       "DTYPE_FP4, on a chip with fp4_tflops), not in a "
                       "model file"
                     : "an FP4 KV cache is not modelled");
  }
  problems.NonNegative("max_context", model.max_context());

  // Every layer SSM (pure Mamba): no attention fields needed.
  const bool all_ssm = model.num_layers() > 0 &&
                       model.ssm().num_ssm_layers() == model.num_layers();
  if (!all_ssm) CheckAttention(model, problems);

  // The dense MLP width is needed unless every layer's MLP is MoE or the
  // model has no MLP at all.
  const bool all_moe =
      model.moe().num_experts() > 0 && model.moe().first_dense_layers() == 0;
  const bool no_mlp = all_ssm && model.mlp() == v1::MLP_KIND_UNSPECIFIED;
  if (!all_moe && !no_mlp) {
    problems.Positive("ffn_dim", model.ffn_dim());
  } else {
    problems.NonNegative("ffn_dim", model.ffn_dim());
  }
  CheckMoe(model, problems);
  CheckSsm(model, problems);
  if (model.has_diffusion() &&
      model.diffusion().mask_token_id() >= model.vocab_size()) {
    problems.Add("diffusion.mask_token_id",
                 "field 'diffusion.mask_token_id' must be below vocab_size");
  }
  if (model.has_mtp()) {
    problems.Positive("mtp.num_modules", model.mtp().num_modules());
    if (model.ssm().num_ssm_layers() > 0 || model.has_diffusion()) {
      problems.Add("mtp",
                   "multi-token prediction modules of an SSM or diffusion "
                   "model are not modelled");
    }
  }
  if (model.has_deformable_detr()) CheckDeformableDetr(model, problems);
  FLEETSIM_RETURN_IF_ERROR(problems.status());
  return CheckFields(model, path, ModelFieldRanges());
}

absl::StatusOr<ModelCatalog> LoadModelCatalog(
    const std::string& data_dir, const std::vector<std::string>& extra_dirs) {
  ModelCatalog catalog;
  absl::Status status =
      catalog.AddDirectory(data_dir + "/models", ValidateModel);
  if (!status.ok()) return status;
  for (const std::string& dir : extra_dirs) {
    status = catalog.AddDirectory(dir, ValidateModel);
    if (!status.ok()) return status;
  }
  return catalog;
}

}  // namespace fleetsim::workloads
