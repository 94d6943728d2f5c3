// ResNet-18/34/50/101 (He et al. 2016) with torchvision's layout and names: the
// backbone of PRM and of Mask R-CNN's FPN, exposing the C2-C5 feature maps.
//
//   images (N, 3, H, W)
//     stem:   conv1 7x7/2 -> bn1 -> relu -> maxpool 3x3/2        (N, 64m, H/4, W/4)
//     layer1: blocks[0] BasicBlocks or Bottlenecks                     -> C2  stride 4
//     layer2: blocks[1], the first one strides by 2                     -> C3  stride 8
//     layer3:                                                           -> C4  stride 16
//     layer4:                                                           -> C5  stride 32
//   (blocks per depth: 18: BasicBlock [2, 2, 2, 2]; 34: BasicBlock [3, 4, 6, 3];
//    50: Bottleneck [3, 4, 6, 3]; 101: Bottleneck [3, 4, 23, 3].)
//
// torchvision "v1.5": a Bottleneck strides on its 3x3 conv (conv2), not on conv1.
// No avgpool / fc: detection and PRM use the feature maps (fc.* keys of an
// ImageNet checkpoint are ignored when loading, models/torchvision_weights.h).
//
// Width multiplier m: every stage's width is scaled, the stem too:
//   width(c) = max(8, round(c * m / 8) * 8)    for c in 64, 128, 256, 512
// (a multiple of 8 keeps oneDNN's blocked layouts unpadded), and a Bottleneck's
// output is 4 * width(c). m = 1 is torchvision's network exactly.
//
// Parameters live in a caller's ParameterBuffer (nn/parameter_buffer.h) under
// torchvision's state-dict names with an optional prefix ("backbone.body." in
// Mask R-CNN): conv1.weight, bn1.{weight,bias,running_mean,running_var},
// layer1.0.conv1.weight, layer1.0.bn1.*, ..., layer2.0.downsample.0.weight,
// layer2.0.downsample.1.*. A torchvision state dict therefore loads by name.
// The constructor only DECLARES them; the caller calls buffer.allocate(device)
// (after declaring any other network's parameters), then initialize() or a
// weight load, then forward.
//
// Normalization (ResNetConfig::norm):
//  - frozen_batch_norm (Mask R-CNN's default with pretrained weights,
//    torchvision.ops.FrozenBatchNorm2d): all four BN tensors are frozen; the BN
//    is folded into the conv (folded W' = W * s, bias
//    b' = beta - mean * s, s = gamma / sqrt(var + eps)), so each layer is one
//    convolution with ReLU and the residual add fused in. Training still trains
//    the conv weights: backward maps dL/dW' back to dL/dW = dL/dW' * s.
//  - batch_norm: torch.nn.BatchNorm2d. forward(training = true) uses batch
//    statistics and updates running_mean / running_var in place (frozen
//    entries of the buffer, never given gradients); forward(training = false)
//    uses the running statistics (folded, as above).
//  - group_norm: torch.nn.GroupNorm(gcd(32, C), C), for training from scratch
//    with small batches. Naming rule: the GroupNorm takes the BatchNorm's place
//    and name (bn1.weight, bn1.bias, downsample.1.weight, ...), exactly as
//    torchvision's resnet50(norm_layer=...) names it; there are no running_*
//    entries. Same computation in training and inference.
//
// Frozen stages (ResNetConfig::trainable_layers, torchvision's semantics): 5 =
// everything trainable, 4 = layer1..layer4, 3 (default) = layer2..layer4, ...,
// 0 = nothing. The stem (conv1, bn1) trains only at 5. Frozen parameters are
// declared non-trainable (ParameterBuffer::set_trainable), so they get no
// gradient memory and backward never computes their gradients; it also stops
// at the lowest trainable stage unless the image gradient is requested.
//
// Memory formats: the feature maps come in the convolution backend's preferred
// layout (nChw16c on an AVX-512 CPU, nChw8c with AVX2, plain NCHW on CUDA);
// consumers that need NCHW call to_format(MemoryFormat::plain). Images may be
// in any format.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "nn/parameter_buffer.h"
#include "nn/random.h"
#include "nn/tensor.h"

namespace wise {

enum class Normalization { frozen_batch_norm, batch_norm, group_norm };

const char* normalization_name(Normalization norm);
// The inverse; throws std::invalid_argument naming the text and the three names.
Normalization parse_normalization(const std::string& text);

struct ResNetConfig {
  int depth = 50;                 // 18, 34, 50 or 101
  double width_multiplier = 1.0;  // m above; 1 = torchvision's widths
  Normalization norm = Normalization::frozen_batch_norm;
  int trainable_layers = 3;       // 0..5, torchvision's trainable_layers
  double batch_norm_eps = 1e-5;   // BatchNorm2d and FrozenBatchNorm2d default
  double batch_norm_momentum = 0.1;
  int group_norm_groups = 32;     // gcd(group_norm_groups, C) groups per GroupNorm
  // Whether backward() may be asked for dL/d images. When not, a training forward runs
  // the frozen stages (below trainable_layers) on the inference path, saving nothing:
  // with torchvision's default of 3 trainable layers that is the stem and layer1, the
  // largest activations (ResNet-50-FPN at 800x1067 saves ~0.4 GB less).
  bool image_gradient = false;
  double group_norm_eps = 1e-5;
  // torchvision's replace_stride_with_dilation, for layer2, layer3, layer4: a stage so
  // marked keeps its input's resolution and dilates its 3x3 convolutions instead
  // (DeepLab's output stride). {false, false, true}: C5 at stride 16; {false, true,
  // true}: C4 and C5 at stride 8. The parameters and their names do not change, so a
  // checkpoint loads into either.
  std::array<bool, 3> replace_stride_with_dilation{false, false, false};
};

// C5's stride in input pixels: 32, halved by each dilated stage.
int64_t resnet_output_stride(const ResNetConfig& config);
// The replace_stride_with_dilation giving C5 that stride: 32 -> none, 16 -> layer4,
// 8 -> layer3 and layer4 (DeepLab's choice); throws wise::Error for any other value.
std::array<bool, 3> dilation_for_output_stride(int64_t output_stride);

// The four feature maps, C2..C5, of strides 4, 8, 16, 32 (ResNet::stride). In backward(), the
// gradients of the same (any format each; an undefined one counts as zero).
struct ResNetFeatures {
  Tensor c2, c3, c4, c5;
  Tensor& operator[](int stage);  // stage 2..5
  const Tensor& operator[](int stage) const;
};

// width(c) of the header comment: a stage's width at multiplier m.
int64_t resnet_width(int64_t channels, double width_multiplier);

struct ResNetLayout;       // models/resnet_blocks.h: the blocks, their parameters
struct NormSettings;       // models/resnet_blocks.h
enum class ConvBackwardRule;  // models/resnet_blocks.h
struct ResNetActivations;  // models/resnet_blocks.h: what training forward saves

class ResNet {
 public:
  // Declares the parameters into `buffer` (which must not be allocated yet) as
  // `prefix` + torchvision name. The buffer must outlive the model.
  ResNet(const ResNetConfig& config, ParameterBuffer& buffer, std::string prefix = "");
  ~ResNet();
  ResNet(const ResNet&) = delete;
  ResNet& operator=(const ResNet&) = delete;

  // torchvision's initialisation: convolutions kaiming_normal_(mode = fan_out,
  // relu); norm weight 1, bias 0; running_mean 0, running_var 1. Trainable and
  // frozen parameters alike (a weight load overwrites them afterwards).
  void initialize(Generator& generator);

  // images (N, 3, H, W) float32 on the buffer's device -> C2..C5. training =
  // false: the inference path (nothing saved). training = true: the training
  // path, saving what backward needs in model-owned activations that are reused
  // from step to step (no allocation after the first step at a fixed size). The
  // returned tensors are owned by the model and overwritten by the next forward.
  const ResNetFeatures& forward(const Tensor& images, bool training);

  // After forward(images, true): accumulates the gradients of the trainable
  // parameters into the buffer's gradients (+=, the buffer's rule), and into
  // *d_images (+=; its shape is the images', any format) when not null.
  // d_features holds dL/dC2..dL/dC5 (undefined = zero).
  void backward(const ResNetFeatures& d_features, Tensor* d_images);

  // PRM's peak backpropagation (Zhou et al. 2018, Sec. 3.3; nn/peak_response.h). First
  // forward_for_peak_response: the inference computation (running statistics, folded batch
  // norms, whatever the norm), saving every stage's activations, frozen ones too. Then any
  // number of peak_response_backward calls (one per peak): from d_features (dL/dC2..dL/dC5,
  // undefined = zero) back to the images through every convolution under PRM's rule
  // (positive weights, normalised by the positive response of the shifted input) and
  // through the norms, ReLUs, max-pool and residual adds by their ordinary backward.
  // Accumulates into d_images (+=; the images' shape, any format); no parameter gradients.
  // The training forward/backward above are untouched by this mode.
  const ResNetFeatures& forward_for_peak_response(const Tensor& images);
  void peak_response_backward(const ResNetFeatures& d_features, Tensor& d_images);

  const ResNetConfig& config() const { return config_; }
  const std::string& prefix() const { return prefix_; }
  // Channels of C2..C5 (stage 2..5), e.g. 256, 512, 1024, 2048 for ResNet-50.
  int64_t channels(int stage) const;
  std::array<int64_t, 4> feature_channels() const { return {channels(2), channels(3), channels(4), channels(5)}; }
  // C2..C5's strides in input pixels: 4, 8, 16, 32 (less where stages are dilated).
  int64_t stride(int stage) const;

 private:
  const ResNetFeatures& forward_inference(const Tensor& images);
  const ResNetFeatures& forward_training(const Tensor& images);
  // The saving forward of both modes: `settings` the norms' (training: the layout's; peak
  // response: batch norms folded), the first `frozen` stages on the inference path.
  const ResNetFeatures& forward_saving(const Tensor& images, const NormSettings& settings, int frozen);
  // The backward of both modes under `rule`, from `lowest` (0 = down to the images).
  void backward_with(const ResNetFeatures& d_features, Tensor* d_images, int lowest, ConvBackwardRule rule);
  void check_images(const Tensor& images, const char* what) const;
  void fold_batch_norms(bool training);

  ResNetConfig config_;
  ParameterBuffer& buffer_;
  std::string prefix_;
  std::unique_ptr<ResNetLayout> layout_;
  std::unique_ptr<ResNetActivations> activations_;
  ResNetFeatures features_;
  bool saved_for_backward_ = false;       // by forward(images, true)
  bool saved_for_peak_response_ = false;  // by forward_for_peak_response
  // Every folded weight matches the buffer as of its version() folded_version_.
  bool folds_current_ = false;
  uint64_t folded_version_ = 0;
  bool trainable_folds_current_ = false;  // ... including the trainable convs' (no training forward since)
};

}  // namespace wise
