// File: sim/image_serving.h
//
// Serving a deformable-attention detector (Model.deformable_detr;
// hardware/deformable_detr_model.h): every request is one image, a
// prefill-only request of the model's feature-map tokens whose single
// output (its detections) comes with the prefill pass, so the image's
// latency is its TTFT and nothing decodes. What the simulator does not
// model for images is refused, each at the cluster field that asks for
// it: disaggregated pools (there is no decode phase to hand over), the
// mixed pool, speculative decoding, test-time scaling, diffusion serving,
// prefix caching, an iteration table (it times LLM iterations), tensor
// parallelism or pipeline stages other than 1, expert parallelism, and a
// token budget per iteration below one image (an encoder pass over part
// of an image's feature maps is not a thing a detector runs).
#ifndef FLEETSIM_SIM_IMAGE_SERVING_H_
#define FLEETSIM_SIM_IMAGE_SERVING_H_

#include <string>

#include "absl/status/status.h"
#include "fleetsim/v1/cluster.pb.h"
#include "fleetsim/v1/model.pb.h"
#include "fleetsim/v1/workload.pb.h"
#include "sim/fleet.h"

namespace fleetsim::sim {

// OK for a fleet of an LLM. For a detector: InvalidArgument or
// Unimplemented naming `origin`, the line and the field of the first
// setting above that it cannot serve images with, or the pool whose
// latency model cannot be built.
absl::Status CheckImageServing(const v1::Cluster& cluster,
                               const std::string& origin,
                               const FleetSpec& fleet);

// Pairs the workload with the model: a detector needs Workload.images (a
// trace of text requests is refused, "--images"), an LLM refuses them.
// Fills images.encoder_tokens from the model's resolution when 0 and
// refuses another value (the latency model prices the model's images).
absl::Status ResolveImageWorkload(const v1::Model& model,
                                  v1::Workload* workload);

}  // namespace fleetsim::sim

#endif  // FLEETSIM_SIM_IMAGE_SERVING_H_
