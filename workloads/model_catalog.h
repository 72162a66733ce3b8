// File: workloads/model_catalog.h
//
// The model catalog: every LLM shape fleetsim can serve (data/models/, one
// fleetsim.v1.Model per .txtpb file; users add their own by dropping a file
// in), and the checks that make a Model safe for the cost model and the
// KV-cache sizing (head counts that divide, MLA/MoE/SSM sub-configs that are
// complete). Sizes derived from a Model (KV bytes per token, weight bytes)
// live in hardware/model_footprint.h.
//
// Example:
//   FLEETSIM_ASSIGN_OR_RETURN(ModelCatalog models, LoadModelCatalog(data_dir));
//   FLEETSIM_ASSIGN_OR_RETURN(const Model* llama, models.Find("llama-2-70b"));
#ifndef FLEETSIM_WORKLOADS_MODEL_CATALOG_H_
#define FLEETSIM_WORKLOADS_MODEL_CATALOG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fleetsim/v1/model.pb.h"
#include "util/catalog.h"
#include "util/field_checks.h"

namespace fleetsim::workloads {

using ModelCatalog = Catalog<v1::Model>;

// Checks one parsed Model. Returns OK or InvalidArgument listing every
// problem, one per line, as "path:LINE: field 'NAME' ..." (or "path: field
// 'NAME' is missing" when absent from the file):
//   - > 0: num_layers, hidden_size, vocab_size; for models with attention
//     layers also num_heads, num_kv_heads, head_dim; ffn_dim unless every
//     layer is MoE (moe.num_experts > 0 and moe.first_dense_layers == 0) or
//     the model has no MLP (mlp unset, e.g. pure Mamba);
//   - attention set unless every layer is SSM; dtype set;
//   - MHA: num_kv_heads == num_heads; GQA/CCA/MLA: num_kv_heads divides
//     num_heads;
//   - MLA: mla.kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim
//     > 0, q_lora_rank >= 0;
//   - MoE (num_experts > 0): 1 <= top_k <= num_experts, expert_ffn_dim > 0,
//     shared experts sized, first_dense_layers <= num_layers;
//   - SSM: num_ssm_layers <= num_layers, d_state/expand/conv_kernel > 0;
//   - no negative size anywhere (max_context, CCA kernels, ...);
//   - then, when all of that holds, every enum defined and every size
//     within its sanity range (util/field_checks.h; bounds in
//     model_catalog.cc).
absl::Status ValidateModel(const v1::Model& model, const std::string& path);

// The sanity range of each numeric model field ValidateModel applies.
const FieldRanges& ModelFieldRanges();

// Loads and validates data_dir + "/models", then each of `extra_dirs` in
// order (a later folder replaces a model of the same name). Errors:
// NotFound when a folder is missing; InvalidArgument naming file, line and
// field for a bad file, an unknown field or a name defined twice.
absl::StatusOr<ModelCatalog> LoadModelCatalog(
    const std::string& data_dir,
    const std::vector<std::string>& extra_dirs = {});

}  // namespace fleetsim::workloads

#endif  // FLEETSIM_WORKLOADS_MODEL_CATALOG_H_
