// The ResNet-FPN backbone, as torchvision's resnet_fpn_backbone / BackboneWithFPN: a
// ResNet body (models/resnet.h) whose C2..C5 feed a Feature Pyramid Network with
// LastLevelMaxPool (models/fpn.h). Mask R-CNN's backbone.
//
//   images (N, 3, H, W) -> body -> C2..C5 (strides 4..32) -> fpn -> P2..P6
//   P2..P5: (N, out_channels, H_i, W_i) at C_i's size; P6 = max_pool2d(P5, 1, 2)
// torchvision names the outputs "0", "1", "2", "3", "pool" (output_name()).
//
// Parameters, with torchvision's state-dict names under a caller prefix (default
// "backbone.", Mask R-CNN's): <prefix>body.<resnet names> (conv1.weight,
// bn1.running_mean, layer1.0.conv1.weight, ...; no fc) then <prefix>fpn.<fpn names>
// (inner_blocks.<i>.0.weight, layer_blocks.<i>.0.bias, ...), so a torchvision
// maskrcnn_resnet50_fpn state dict loads by name. Body first, in execution order: the
// buffer's reverse layout puts the FPN's gradients first, as backward produces them.
// Frozen stages follow ResNetConfig::trainable_layers (torchvision's default 3: layer2..4
// train, the stem and layer1 do not); the FPN always trains.
//
// resnet_fpn_backbone's other defaults are ResNetConfig's: FrozenBatchNorm2d, depth 50.
// returned_layers is always [1, 2, 3, 4] and the extra block always LastLevelMaxPool
// (what Mask R-CNN uses); out_channels is configurable (torchvision fixes it at 256).
#pragma once

#include <string>
#include <vector>

#include "models/fpn.h"
#include "models/resnet.h"

namespace wise {

struct ResNetFpnConfig {
  ResNetConfig body;            // depth, width, norm, trainable_layers, ...
  int64_t out_channels = 256;   // FPN channels
};

class ResNetFpnBackbone {
 public:
  static constexpr int kLevels = 5;  // P2..P5, P6

  // Declares body and FPN parameters into `buffer` (not yet allocated); the buffer must
  // outlive the backbone. Allocate it, then initialize() or load weights, then forward.
  ResNetFpnBackbone(const ResNetFpnConfig& config, ParameterBuffer& buffer, std::string prefix = "backbone.");

  // torchvision's initialisation of both parts (ResNet::initialize, then the FPN's
  // kaiming_uniform_(a=1) weights and zero biases), from one generator.
  void initialize(Generator& generator);

  // images (N, 3, H, W) on the buffer's device -> P2..P6 (kLevels tensors, owned by the
  // backbone, in the convolution backend's layout, overwritten by the next forward).
  // training = false: the body's inference path, nothing kept for backward.
  // training = true: the body's training path; body and FPN keep what backward needs.
  const std::vector<Tensor>& forward(const Tensor& images, bool training);

  // After forward(images, true): d_outputs holds dL/dP2..dL/dP6 (kLevels tensors, any
  // layout, undefined = zero). Accumulates (+=) the trainable parameters' gradients into
  // the buffer and dL/d images into *d_images (images' shape) when not null. Stops as low
  // as the trainable stages (or the image gradient) need.
  void backward(const std::vector<Tensor>& d_outputs, Tensor* d_images);

  // torchvision's output names: "0", "1", "2", "3", "pool".
  static const char* output_name(int level);

  const ResNetFpnConfig& config() const { return config_; }
  const ResNet& body() const { return body_; }
  const FeaturePyramidNetwork& fpn() const { return fpn_; }

 private:
  ResNetFpnConfig config_;
  ParameterBuffer& buffer_;
  ResNet body_;
  FeaturePyramidNetwork fpn_;
  std::vector<Tensor> features_;  // C2..C5 of the last forward (the body's tensors)
  FeaturePyramidActivations fpn_activations_;
  FeaturePyramidGradients fpn_gradients_;
  std::vector<Tensor> d_features_;  // dL/dC2..dL/dC5, reused across steps
  bool saved_for_backward_ = false;
};

}  // namespace wise
