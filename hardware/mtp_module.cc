#include "hardware/mtp_module.h"

#include <string>

#include "hardware/model_footprint.h"

namespace fleetsim::hardware {

v1::Model MtpModuleModel(const v1::Model& model) {
  v1::Model module = model;
  module.clear_mtp();
  module.set_name(model.name() + "-mtp");
  module.set_display_name(model.display_name() + " MTP module");
  module.set_num_layers(1);
  // The last layer is MoE whenever the model has MoE layers (they follow
  // moe.first_dense_layers).
  if (NumMoeLayers(model) > 0) module.mutable_moe()->set_first_dense_layers(0);
  return module;
}

double MtpProjectionParameters(const v1::Model& model) {
  const double d = model.hidden_size();
  return 2.0 * d * d;
}

double MtpModuleParameters(const v1::Model& model) {
  const v1::Model module = MtpModuleModel(model);
  const double d = model.hidden_size();
  const double embedding_and_head = static_cast<double>(model.vocab_size()) *
                                    d * (model.tied_embeddings() ? 1 : 2);
  const double norm = model.norm() == v1::NORM_KIND_LAYERNORM ? 2 * d : d;
  // ParameterCount counts the block, its norms and a final norm (the
  // module's shared_head.norm) besides the embedding and head.
  return ParameterCount(module) - embedding_and_head + 2 * norm +
         MtpProjectionParameters(model);
}

double MtpModuleWeightBytes(const v1::Model& model) {
  const double projection = MtpProjectionParameters(model);
  // The module's FFN (its MoE layer) in the FFNs' precision: 0 unless that
  // differs (FP4 weights).
  const double ffn_extra =
      FfnParameters(MtpModuleModel(model)) *
      (FfnWeightBytesPerElement(model) - WeightBytesPerElement(model));
  return (MtpModuleParameters(model) - projection) *
             WeightBytesPerElement(model) +
         projection * BytesPerElement(v1::DTYPE_BF16) + ffn_extra;
}

}  // namespace fleetsim::hardware
