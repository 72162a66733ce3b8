// File: hardware/mtp_module.h
//
// A multi-token-prediction module (Model.mtp; DeepSeek-V3, arXiv:2412.19437
// §2.2) as the operator cost model and the memory sizing see it: its
// Transformer block as a one-layer model, which OperatorModel prices with
// OperatorModelOptions::mtp_module (the module's input norms and 2d -> d
// projection added to the block, the model's embedding and head), and the
// weights a module adds to an instance that already holds the model (its
// embedding and output head are the model's, not loaded twice).
//
// Example (DeepSeek-V3, one module, BF16): MtpModuleParameters = 11.61e9,
// ~1 % above the 11.5B of deepseek-ai/DeepSeek-V3 README_WEIGHTS.md.
#ifndef FLEETSIM_HARDWARE_MTP_MODULE_H_
#define FLEETSIM_HARDWARE_MTP_MODULE_H_

#include "fleetsim/v1/model.pb.h"

namespace fleetsim::hardware {

// One module of `model` as a model of one layer shaped like the model's
// last: a MoE layer when the model has MoE layers (DeepSeek-V3's layer 61),
// else a dense one; the model's attention, widths, vocabulary and dtypes.
// Named "<model>-mtp", without `mtp` of its own.
v1::Model MtpModuleModel(const v1::Model& model);

// Elements of one module's projection of [RMSNorm(emb); RMSNorm(h)]:
// 2 hidden x hidden. SGLang (deepseek_nextn.py) and vLLM (deepseek_mtp.py)
// load it as a plain nn.Linear, unquantised and replicated on every
// tensor-parallel rank: BF16 whatever the model's weights.
double MtpProjectionParameters(const v1::Model& model);

// Parameters one module holds of its own: the block (MtpModuleModel's
// layer with its two norms), the final norm before the shared head, the
// enorm and hnorm, and the projection; not the embedding or output head.
double MtpModuleParameters(const v1::Model& model);

// Bytes of MtpModuleParameters on a chip: the projection in BF16, the MoE
// layer's experts at the FFNs' precision (FfnWeightBytesPerElement), the
// rest at the model's weight dtype.
double MtpModuleWeightBytes(const v1::Model& model);

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_MTP_MODULE_H_
