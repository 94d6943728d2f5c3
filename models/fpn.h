// Feature Pyramid Network (Lin et al., "Feature Pyramid Networks for Object Detection"),
// as torchvision's FeaturePyramidNetwork with LastLevelMaxPool, the neck of
// resnet_fpn_backbone and so of Mask R-CNN.
//
//   features C_0..C_{L-1} (finest first; ResNet's C2..C5), channels in_channels_list[i]
//   inner_{L-1} = lateral_{L-1}(C_{L-1})
//   inner_i     = lateral_i(C_i) + nearest(inner_{i+1}, size of C_i)     (FPN Sec. 3, Fig. 3)
//   P_i         = output_i(inner_i)                  i = 0..L-1  (torchvision's "0".."3")
//   P_L         = max_pool2d(P_{L-1}, kernel 1, stride 2, padding 0)     ("pool", P6)
// lateral_i: 1x1 convolution in_channels_list[i] -> out_channels, with bias;
// output_i: 3x3 convolution, padding 1, out_channels -> out_channels, with bias. No
// normalisation, no activation (torchvision's default norm_layer=None).
//
// The top-down "nearest" is F.interpolate(size=C_i's size), not a factor of 2: for odd
// sizes (a 2h - 1 map above an h map) the two differ in general (nn/resize_nearest.h).
//
// Parameters, with torchvision's state-dict names under a caller prefix ("" for a bare
// FeaturePyramidNetwork, "backbone.fpn." inside Mask R-CNN):
//   <prefix>inner_blocks.<i>.0.weight (out, in_i, 1, 1), <prefix>inner_blocks.<i>.0.bias (out)
//   <prefix>layer_blocks.<i>.0.weight (out, out, 3, 3),  <prefix>layer_blocks.<i>.0.bias (out)
// declared in torchvision's execution order (inner_{L-1}, layer_{L-1}, inner_{L-2}, ...), so
// the ParameterBuffer's reverse layout puts the gradients backward finishes first (P2's
// 3x3, then C2's 1x1, ...) at the front.
//
// Speed: the top-down add is fused into the lateral convolution (the upsampled map is
// written in the convolution's output layout, and Conv2dEpilogue::add_to_output adds the
// convolution onto it), activations stay in the backend's blocked layout, and every
// buffer lives in FeaturePyramidActivations / FeaturePyramidGradients, reused across steps.
#pragma once

#include <string>
#include <vector>

#include "nn/parameter_buffer.h"
#include "nn/random.h"
#include "nn/tensor.h"

namespace wise {

struct FeaturePyramidNetworkConfig {
  std::vector<int64_t> in_channels_list;  // one per input level, finest first
  int64_t out_channels = 256;
};

// A declared FPN: its configuration and where its parameters sit in the buffer.
struct FeaturePyramidNetwork {
  FeaturePyramidNetworkConfig config;
  std::vector<int> inner_weight, inner_bias;  // lateral 1x1, per level
  std::vector<int> layer_weight, layer_bias;  // output 3x3, per level

  int levels() const { return static_cast<int>(config.in_channels_list.size()); }
};

// Declares the parameters (all trainable) into `parameters`, before allocate().
FeaturePyramidNetwork declare_feature_pyramid_network(ParameterBuffer& parameters,
                                                      const std::string& prefix,
                                                      const FeaturePyramidNetworkConfig& config);

// torchvision's initialisation: every weight kaiming_uniform_(a=1), i.e. U(-b, b) with
// b = sqrt(3 / fan_in), every bias 0. Draws the weights in declaration order.
void init_feature_pyramid_network(const FeaturePyramidNetwork& fpn, ParameterBuffer& parameters,
                                  Generator& generator);

// The forward's results and what backward needs; pass the same object every step and
// its buffers are reused. All 4-d maps are in the convolution backend's layout.
struct FeaturePyramidActivations {
  std::vector<Tensor> inner;    // inner_i (N, out, H_i, W_i): the output 3x3's input
  std::vector<Tensor> outputs;  // P_0..P_{L-1} (N, out, H_i, W_i), then P_L (the pool level)
  Tensor pool_argmax;           // P_L's max-pool argmax, int32 plain
};

// Scratch of the backward pass, reused across steps.
struct FeaturePyramidGradients {
  std::vector<Tensor> d_inner;  // dL/d inner_i
  Tensor d_last_output;         // dL/d P_{L-1} with the pool level's gradient added
};

// Shapes of the outputs for input features of these shapes (P_0..P_{L-1}, P_L).
std::vector<Shape> feature_pyramid_output_shapes(const FeaturePyramidNetwork& fpn,
                                                 const std::vector<Shape>& feature_shapes);

// Forward. The FPN has no normalisation or dropout, so inference and training compute
// the same thing and this one function serves both: what it stores in `activations`
// (the inner maps, the argmax) is exactly what backward needs, and nothing more.
// features: L tensors (N, in_channels_list[i], H_i, W_i) on the parameters' device,
// any layout; each level's H_i, W_i must be > 0 (any sizes: odd ones are handled).
void feature_pyramid_network_forward(const FeaturePyramidNetwork& fpn,
                                     const ParameterBuffer& parameters,
                                     const std::vector<Tensor>& features,
                                     FeaturePyramidActivations& activations);

// Backward of the forward that filled `activations` from `features`.
// d_outputs: L + 1 tensors dL/dP_0..dL/dP_L, each in any layout; an undefined one
// counts as zero (that level gets no loss). Accumulates (+=) dL/dC_i into
// d_features[i] (must have C_i's shape; an undefined entry: not wanted) and the
// parameters' gradients into `parameters`' gradient buffer.
void feature_pyramid_network_backward(const FeaturePyramidNetwork& fpn,
                                      ParameterBuffer& parameters,
                                      const std::vector<Tensor>& features,
                                      const FeaturePyramidActivations& activations,
                                      const std::vector<Tensor>& d_outputs,
                                      std::vector<Tensor>& d_features,
                                      FeaturePyramidGradients& gradients);

}  // namespace wise
