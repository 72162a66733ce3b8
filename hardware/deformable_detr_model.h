// File: hardware/deformable_detr_model.h
//
// The latency model of a Deformable-DETR-class detector (Model.
// deformable_detr; Zhu et al., ICLR 2021, arXiv:2010.04159): one iteration
// runs whole or partial images through the backbone, the input
// projections, the encoder (multi-scale deformable self-attention over the
// image's feature-map tokens) and the decoder (self-attention among the
// object queries, deformable cross-attention into the encoder's output)
// and the detection heads. Each operator is priced by the shared unit step
// (hardware/ops/priced_op.h) from its FLOPs and bytes: projections, FFNs,
// backbone convolutions (as im2col GEMMs) and heads as GEMMs, norms and
// adds as row kernels, the deformable sampler by
// hardware/ops/deformable_attention_op.h with the model's cache-hit
// fraction.
//
// An image is a prefill-only request of DetrGeometry::encoder_tokens
// tokens (its feature maps' positions): encoder operators run on the
// batch's prefill tokens, decoder operators on num_queries rows per image,
// where a batch's images are its prefill tokens / encoder_tokens (a chunk
// of an image is priced pro rata; every operator is linear in its rows).
// Decode requests are not part of an image model's batch and cost nothing.
#ifndef FLEETSIM_HARDWARE_DEFORMABLE_DETR_MODEL_H_
#define FLEETSIM_HARDWARE_DEFORMABLE_DETR_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fleetsim/v1/chip.pb.h"
#include "fleetsim/v1/model.pb.h"
#include "hardware/latency_model.h"
#include "hardware/operator_options.h"

namespace fleetsim::hardware {

// What an image is to the model at its resolution.
struct DetrGeometry {
  // Feature-map height and width per level (strides 8, 16, 32, 64: the
  // backbone's ceil-halving convolutions, then a 3x3 stride-2 conv for a
  // level beyond its outputs).
  std::vector<int64_t> level_height;
  std::vector<int64_t> level_width;
  int64_t encoder_tokens = 0;  // sum over levels of height x width
  // One convolution as an im2col GEMM: rows output pixels, k = kernel
  // area x input channels, n = output channels; its input map's elements
  // (pixels x channels), which an implicit-GEMM kernel reads once rather
  // than k / channels times.
  struct Conv {
    int64_t rows = 0;
    int64_t k = 0;
    int64_t n = 0;
    int64_t input_elements = 0;
  };
  std::vector<Conv> backbone;  // empty: not priced
  // Input projections to d_model per level (1x1 convs; a 3x3 stride-2 conv
  // for a level beyond the backbone's outputs).
  std::vector<Conv> input_proj;
};

// Errors: InvalidArgument when the model is not a deformable DETR or its
// deformable_detr fields are out of range (levels in [1, 4], positive
// points, queries, resolution, encoder layers below num_layers, as many
// backbone_channels as levels or one fewer, backbone "" or "resnet50").
absl::StatusOr<DetrGeometry> DetrGeometryOf(const v1::Model& model);

// ResNet-50's convolutions at `height` x `width` (torchvision's v1.5: the
// stride on the 3x3 conv), batch norms folded; the stage outputs C3, C4,
// C5 at strides 8, 16, 32. He et al. 2016 (arXiv:1512.03385), Table 1.
std::vector<DetrGeometry::Conv> ResNet50Convs(int64_t height, int64_t width);

// Multiply-accumulates of `convs` for one image.
double ConvMacs(const std::vector<DetrGeometry::Conv>& convs);

// Predicts iteration times of a deformable DETR on one chip (tp = pp = 1).
class DeformableDetrModel final : public LatencyModel {
 public:
  // Errors: DetrGeometryOf's; tp or pp other than 1 (not modelled); a chip
  // or options the cost model refuses (CheckChipAndOptions);
  // cache_hit_fraction outside [0, 1).
  static absl::StatusOr<std::unique_ptr<DeformableDetrModel>> Create(
      const v1::Model& model, const v1::Chip& chip, int tp, int pp,
      const OperatorModelOptions& options = OperatorModelOptions());

  double IterationSeconds(const BatchShape& batch) const override;
  IterationBreakdown Explain(const BatchShape& batch) const override;
  std::vector<OperatorLabel> OperatorLabels() const override;
  double AddOperatorTotals(const BatchShape& batch, double* seconds,
                           double* tensor_flops) const override;

  const DetrGeometry& geometry() const { return geometry_; }
  double cache_hit_fraction() const { return cache_hit_fraction_; }

  ~DeformableDetrModel() override;

  struct Op;  // one operator table entry (public for the .cc's builder)

 private:
  DeformableDetrModel(DetrGeometry geometry, double queries,
                      double cache_hit_fraction, double overhead_s);
  template <bool kExplain>
  double Evaluate(const BatchShape& batch, IterationBreakdown* out,
                  double* seconds, double* tensor_flops) const;

  const DetrGeometry geometry_;
  const double queries_;  // decoder rows per image
  const double cache_hit_fraction_;
  const double overhead_s_;  // per iteration: the serving stack's
  std::vector<Op> ops_;
};

}  // namespace fleetsim::hardware

#endif  // FLEETSIM_HARDWARE_DEFORMABLE_DETR_MODEL_H_
