// ResNet's building blocks: the conv + norm unit, the residual block
// (BasicBlock and Bottleneck), and the stem, each a forward/backward pair.
//
// Internal to models/resnet.cpp (and its tests); models/resnet.h is the API.
//
// Every layer of a ResNet is a ConvNorm unit: a bias-free convolution followed
// by its normalization, optionally a residual add and a ReLU:
//
//   output = [relu]( norm(conv(input)) [+ residual] )
//
// One function per path, whatever the normalization (models/resnet.h):
//  - inference: folded batch norms (frozen_batch_norm and batch_norm) are ONE
//    fused convolution (bias = BN shift, residual add and ReLU in its
//    epilogue); group norm is conv -> group norm -> add -> relu.
//  - training: frozen_batch_norm is the same fused convolution (the statistics
//    are constants); batch_norm and group_norm keep the conv's output (the
//    norm's input) and the batch statistics for the backward.
// Backward takes d_normalized = dL/d(norm output), i.e. after the caller has
// run relu_backward on the unit's output; gradients accumulate (+=) into the
// trainable parameters' gradient views and into *d_input.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "models/resnet.h"
#include "nn/conv2d.h"
#include "nn/parameter_buffer.h"
#include "nn/pooling.h"

namespace wise {

// The normalization settings shared by every unit of one network.
struct NormSettings {
  Normalization norm = Normalization::frozen_batch_norm;
  double batch_norm_eps = 1e-5;
  double batch_norm_momentum = 0.1;
  int group_norm_groups = 32;
  double group_norm_eps = 1e-5;
};

// One convolution and its normalization. Parameters are indices into the
// model's ParameterBuffer; the folded weights are model-owned scratch.
struct ConvNorm {
  int conv_weight = -1;                     // (out, in, k, k)
  int norm_weight = -1, norm_bias = -1;     // (out): gamma, beta
  int running_mean = -1, running_var = -1;  // (out): batch norms only
  Conv2dOptions options;
  int64_t out_channels = 0;
  int64_t groups = 1;  // group norm: gcd(group_norm_groups, out_channels)
  // A batch norm folded into the conv (conv_norm_fold): W' = W s, b' = shift, s = scale.
  Tensor folded_weight, folded_bias, scale;
};

// What a unit's training forward keeps.
struct ConvNormSaved {
  Tensor conv_output;   // batch_norm / group_norm: the conv's output (the norm's input)
  Tensor mean, invstd;  // batch_norm: (C) batch statistics; group_norm: (N, G)
  Tensor output;        // after norm [+ residual] [+ relu]
};

// Declares `conv_name`.weight (out, in, k, k) and the norm's `norm_name`.* with
// torchvision's names (see models/resnet.h for what each normalization declares
// and which entries are frozen). Padding keeps "same" size: dilation * (k / 2).
ConvNorm declare_conv_norm(ParameterBuffer& buffer, const std::string& conv_name, const std::string& norm_name,
                           int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride,
                           const NormSettings& settings, int64_t dilation = 1);

// torchvision's init: conv kaiming_normal_(fan_out, relu); norm weight 1, bias 0,
// running_mean 0, running_var 1.
void conv_norm_initialize(const ConvNorm& unit, const ParameterBuffer& buffer, Generator& generator);

// Recomputes folded_weight, folded_bias and scale from the current parameters
// (batch norms only; call whenever the weights may have changed).
void conv_norm_fold(ConvNorm& unit, const ParameterBuffer& buffer, const NormSettings& settings);

// output = [relu](norm(conv(input)) [+ *residual]), the statistics constant (folded
// batch norms) or per sample (group norm). `output` must not share `input`'s buffer.
void conv_norm_inference_forward(const ConvNorm& unit, const ParameterBuffer& buffer,
                                 const NormSettings& settings, const Tensor& input, const Tensor* residual,
                                 bool relu, Tensor& output);

// The same with batch statistics (batch_norm: running statistics updated in
// place), keeping in `saved` what conv_norm_backward needs.
void conv_norm_training_forward(const ConvNorm& unit, const ParameterBuffer& buffer,
                                const NormSettings& settings, const Tensor& input, const Tensor* residual,
                                bool relu, ConvNormSaved& saved);

// d_normalized = dL/d(norm output) (any format). Accumulates into the gradients of
// the unit's trainable parameters and into *d_input (input's shape, any format)
// when not null. Does nothing when neither is wanted.
void conv_norm_backward(const ConvNorm& unit, const ParameterBuffer& buffer, const NormSettings& settings,
                        const Tensor& input, const ConvNormSaved& saved, const Tensor& d_normalized,
                        Tensor* d_input);

// True when the unit has a trainable parameter.
bool conv_norm_trainable(const ConvNorm& unit, const ParameterBuffer& buffer);

// Which backward the units of a block or stem run:
//  - gradient: conv_norm_backward, the true gradient (parameters and input);
//  - peak_response: PRM's peak backpropagation (nn/peak_response.h), input only: the
//    norm's ordinary backward (a folded batch norm's is d * scale, group norm's its
//    gradient), then the convolution under PRM's rule with the unfolded weight W, as
//    PRM's conv -> BatchNorm2d(eval) layers compute it. ReLU, max-pool and the residual
//    adds keep their ordinary backward under both rules.
enum class ConvBackwardRule { gradient, peak_response };

// The peak_response rule for one unit after a forward with inference statistics (batch
// norms folded: settings.norm frozen_batch_norm or group_norm, see models/resnet.h's
// forward_for_peak_response). d_input += ...; no parameter gradients.
void conv_norm_peak_response_backward(const ConvNorm& unit, const ParameterBuffer& buffer,
                                      const NormSettings& settings, const Tensor& input,
                                      const ConvNormSaved& saved, const Tensor& d_normalized, Tensor& d_input);

// A residual block: the main path (BasicBlock: 3x3 -> 3x3, stride on the first;
// Bottleneck: 1x1 -> 3x3 -> 1x1 x4, stride on the 3x3, torchvision "v1.5"),
// each unit but the last followed by a ReLU, and the identity (or a 1x1 strided
// conv + norm, "downsample", where the shape changes):
//   output = relu(path(input) + identity(input))
struct Block {
  std::vector<ConvNorm> path;  // conv1/bn1, conv2/bn2 [, conv3/bn3]
  bool has_downsample = false;
  ConvNorm downsample;  // downsample.0 (conv) / downsample.1 (norm)
};

struct BlockSaved {
  std::vector<ConvNormSaved> path;
  ConvNormSaved downsample;
  const Tensor& output() const { return path.back().output; }
};

// `name` is e.g. "backbone.body.layer2.0"; in/out are the block's channels,
// `width` the bottleneck's inner width (unused by BasicBlock). `dilation` is the 3x3
// convolutions' (torchvision's: a Bottleneck's conv2; a BasicBlock's conv1 and conv2,
// which torchvision refuses and DeepLab-style backbones do).
Block declare_basic_block(ParameterBuffer& buffer, const std::string& name, int64_t in_channels,
                          int64_t out_channels, int64_t stride, const NormSettings& settings,
                          int64_t dilation = 1);
Block declare_bottleneck(ParameterBuffer& buffer, const std::string& name, int64_t in_channels, int64_t width,
                         int64_t out_channels, int64_t stride, const NormSettings& settings,
                         int64_t dilation = 1);

void block_inference_forward(const Block& block, const ParameterBuffer& buffer, const NormSettings& settings,
                             const Tensor& input, Tensor& output);
void block_training_forward(const Block& block, const ParameterBuffer& buffer, const NormSettings& settings,
                            const Tensor& input, BlockSaved& saved);
// d_output = dL/d(block output), any format; accumulates into the parameters'
// gradients and *d_input (when not null).
// Under ConvBackwardRule::peak_response, d_input must not be null.
void block_backward(const Block& block, const ParameterBuffer& buffer, const NormSettings& settings,
                    const Tensor& input, const BlockSaved& saved, const Tensor& d_output, Tensor* d_input,
                    ConvBackwardRule rule = ConvBackwardRule::gradient);

// The stem: conv1 7x7/2 -> bn1 -> relu -> maxpool 3x3/2 pad 1.
struct Stem {
  ConvNorm conv1;
  MaxPool2dOptions pool;  // 3x3 / 2, padding 1 (the defaults)
};

struct StemSaved {
  ConvNormSaved conv1;
  Tensor output, argmax;  // the max pool's
};

Stem declare_stem(ParameterBuffer& buffer, const std::string& prefix, int64_t channels,
                  const NormSettings& settings);
void stem_inference_forward(const Stem& stem, const ParameterBuffer& buffer, const NormSettings& settings,
                            const Tensor& images, Tensor& output);
void stem_training_forward(const Stem& stem, const ParameterBuffer& buffer, const NormSettings& settings,
                           const Tensor& images, StemSaved& saved);
void stem_backward(const Stem& stem, const ParameterBuffer& buffer, const NormSettings& settings,
                   const Tensor& images, const StemSaved& saved, const Tensor& d_output, Tensor* d_images,
                   ConvBackwardRule rule = ConvBackwardRule::gradient);

// The whole network's structure, and what its training forward saves.
struct ResNetLayout {
  NormSettings settings;
  Stem stem;
  std::array<std::vector<Block>, 4> layers;  // layer1..layer4
  std::array<int64_t, 4> channels{};         // of C2..C5
  int lowest_trainable_stage = 5;            // 0 stem, 1..4 layerK, 5 none
};

struct ResNetActivations {
  Tensor images;  // the training forward's input (a handle, not a copy)
  StemSaved stem;
  std::array<std::vector<BlockSaved>, 4> layers;
  // When the frozen stages ran the inference path (nothing saved, see
  // ResNetConfig::image_gradient): how many, 0..4 (the stem and layer1..layer4 below the
  // lowest trainable stage), and the output of the last one, the first trainable
  // stage's input.
  int frozen_stages_run = 0;
  Tensor frozen_output;
  // Their outputs, reused from step to step: [0][0] the stem's, [k] two buffers that
  // layerK's blocks alternate between (a block never writes its own input).
  std::array<std::array<Tensor, 2>, 5> frozen_buffers;
};

// `tensor` in `format`: itself when it already is, else a reordered copy.
Tensor in_memory_format(const Tensor& tensor, MemoryFormat format);
// A zero tensor with `like`'s shape, device and format.
Tensor zeros_like(const Tensor& like);

}  // namespace wise
