#include "models/resnet_blocks.h"

#include <numeric>

#include "nn/activation.h"
#include "nn/batch_norm.h"
#include "nn/ensure.h"
#include "nn/group_norm.h"
#include "nn/peak_response.h"

namespace wise {

Tensor in_memory_format(const Tensor& tensor, MemoryFormat format) {
  return tensor.format() == format ? tensor : tensor.to_format(format);
}

Tensor zeros_like(const Tensor& like) {
  return Tensor::zeros(like.shape(), like.dtype(), like.device(), like.format());
}

namespace {

bool is_batch_norm(Normalization norm) { return norm != Normalization::group_norm; }

// The parameter's gradient view, or null when it is frozen (or absent).
Tensor* gradient_or_null(const ParameterBuffer& buffer, int index, Tensor& storage) {
  if (index < 0 || !buffer.trainable(index)) return nullptr;
  storage = buffer.gradient(index);
  return &storage;
}

// `output` = relu(output + residual) in place, the tail of an unfused unit.
void add_residual_and_relu(const Tensor* residual, bool relu, Tensor& output) {
  if (residual) add_forward(output, in_memory_format(*residual, output.format()), output);
  if (relu) relu_forward(output, output);
}

GroupNormOptions group_norm_options(const ConvNorm& unit, const NormSettings& settings) {
  return {unit.groups, settings.group_norm_eps};
}

// The folded convolution: output = [relu](conv(input, W') + b' [+ residual]), all in one
// call; the residual is first written into the output buffer for the epilogue to add.
void folded_forward(const ConvNorm& unit, const Tensor& input, const Tensor* residual, bool relu,
                    Tensor& output) {
  WISE_CHECK(unit.folded_weight.defined(), "resnet: batch norm of a ", unit.out_channels,
             "-channel conv used before conv_norm_fold");
  if (residual) {
    const MemoryFormat format = conv2d_formats(input, unit.folded_weight, unit.options).output;
    ensure_tensor(output, residual->shape(), DType::float32, residual->device(), format);
    output.copy_from(in_memory_format(*residual, format));
  }
  conv2d_forward(input, unit.folded_weight, unit.folded_bias, unit.options, output,
                 Conv2dEpilogue{relu, residual != nullptr});
}

}  // namespace

ConvNorm declare_conv_norm(ParameterBuffer& buffer, const std::string& conv_name, const std::string& norm_name,
                           int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride,
                           const NormSettings& settings, int64_t dilation) {
  ConvNorm unit;
  // "same" padding: 7 -> 3, 3 -> 1 (x dilation), 1 -> 0
  unit.options = Conv2dOptions{stride, dilation * (kernel / 2), dilation};
  unit.out_channels = out_channels;
  unit.conv_weight = buffer.add(conv_name + ".weight", {out_channels, in_channels, kernel, kernel});
  const Shape channels{out_channels};
  switch (settings.norm) {
    case Normalization::frozen_batch_norm:  // FrozenBatchNorm2d: four buffers, no parameters
      unit.norm_weight = buffer.add(norm_name + ".weight", channels, false);
      unit.norm_bias = buffer.add(norm_name + ".bias", channels, false);
      unit.running_mean = buffer.add(norm_name + ".running_mean", channels, false);
      unit.running_var = buffer.add(norm_name + ".running_var", channels, false);
      break;
    case Normalization::batch_norm:  // affine trainable, statistics buffers
      unit.norm_weight = buffer.add(norm_name + ".weight", channels);
      unit.norm_bias = buffer.add(norm_name + ".bias", channels);
      unit.running_mean = buffer.add(norm_name + ".running_mean", channels, false);
      unit.running_var = buffer.add(norm_name + ".running_var", channels, false);
      break;
    case Normalization::group_norm:  // the batch norm's place and name, no statistics
      unit.norm_weight = buffer.add(norm_name + ".weight", channels);
      unit.norm_bias = buffer.add(norm_name + ".bias", channels);
      unit.groups = std::gcd(static_cast<int64_t>(settings.group_norm_groups), out_channels);
      break;
  }
  return unit;
}

void conv_norm_initialize(const ConvNorm& unit, const ParameterBuffer& buffer, Generator& generator) {
  Tensor weight = buffer.value(unit.conv_weight);
  kaiming_normal_(weight, generator, 0.0, FanMode::fan_out, "relu");
  buffer.value(unit.norm_weight).fill(1.0f);
  buffer.value(unit.norm_bias).fill(0.0f);
  if (unit.running_mean >= 0) buffer.value(unit.running_mean).fill(0.0f);
  if (unit.running_var >= 0) buffer.value(unit.running_var).fill(1.0f);
}

bool conv_norm_trainable(const ConvNorm& unit, const ParameterBuffer& buffer) {
  for (int index : {unit.conv_weight, unit.norm_weight, unit.norm_bias}) {
    if (index >= 0 && buffer.trainable(index)) return true;
  }
  return false;
}

void conv_norm_fold(ConvNorm& unit, const ParameterBuffer& buffer, const NormSettings& settings) {
  WISE_CHECK(is_batch_norm(settings.norm), "conv_norm_fold: a group norm cannot be folded");
  const Tensor gamma = buffer.value(unit.norm_weight), beta = buffer.value(unit.norm_bias);
  const Tensor mean = buffer.value(unit.running_mean), variance = buffer.value(unit.running_var);
  fold_batch_norm(buffer.value(unit.conv_weight), Tensor(), gamma, beta, mean, variance, settings.batch_norm_eps,
                  unit.folded_weight, unit.folded_bias);
  Tensor shift;  // equals folded_bias (no conv bias); only the scale is kept, for the backward
  frozen_batch_norm_scale_shift(gamma, beta, mean, variance, settings.batch_norm_eps, unit.scale, shift);
}

void conv_norm_inference_forward(const ConvNorm& unit, const ParameterBuffer& buffer,
                                 const NormSettings& settings, const Tensor& input, const Tensor* residual,
                                 bool relu, Tensor& output) {
  if (is_batch_norm(settings.norm)) {
    folded_forward(unit, input, residual, relu, output);
    return;
  }
  Tensor conv_output, mean, rstd;
  conv2d_forward(input, buffer.value(unit.conv_weight), Tensor(), unit.options, conv_output);
  group_norm_forward(conv_output, buffer.value(unit.norm_weight), buffer.value(unit.norm_bias),
                     group_norm_options(unit, settings), output, mean, rstd);
  add_residual_and_relu(residual, relu, output);
}

void conv_norm_training_forward(const ConvNorm& unit, const ParameterBuffer& buffer,
                                const NormSettings& settings, const Tensor& input, const Tensor* residual,
                                bool relu, ConvNormSaved& saved) {
  switch (settings.norm) {
    case Normalization::frozen_batch_norm:  // constants: the inference computation, output kept
      folded_forward(unit, input, residual, relu, saved.output);
      return;
    case Normalization::batch_norm: {
      conv2d_forward(input, buffer.value(unit.conv_weight), Tensor(), unit.options, saved.conv_output);
      Tensor running_mean = buffer.value(unit.running_mean), running_var = buffer.value(unit.running_var);
      batch_norm_2d_training_forward(saved.conv_output, buffer.value(unit.norm_weight),
                                     buffer.value(unit.norm_bias), running_mean, running_var,
                                     {settings.batch_norm_eps, settings.batch_norm_momentum}, saved.output,
                                     saved.mean, saved.invstd);
      break;
    }
    case Normalization::group_norm:
      conv2d_forward(input, buffer.value(unit.conv_weight), Tensor(), unit.options, saved.conv_output);
      group_norm_forward(saved.conv_output, buffer.value(unit.norm_weight), buffer.value(unit.norm_bias),
                         group_norm_options(unit, settings), saved.output, saved.mean, saved.invstd);
      break;
  }
  add_residual_and_relu(residual, relu, saved.output);
}

void conv_norm_backward(const ConvNorm& unit, const ParameterBuffer& buffer, const NormSettings& settings,
                        const Tensor& input, const ConvNormSaved& saved, const Tensor& d_normalized,
                        Tensor* d_input) {
  Tensor d_weight_view, d_gamma_view, d_beta_view;
  Tensor* d_weight = gradient_or_null(buffer, unit.conv_weight, d_weight_view);
  if (!d_weight && !d_input && !conv_norm_trainable(unit, buffer)) return;

  if (settings.norm == Normalization::frozen_batch_norm) {
    // The forward ran conv(x, W') with W' = W * s (per output channel), so
    // dL/dW = dL/dW' * s; the folded bias depends on frozen statistics only.
    if (!d_weight) {
      conv2d_backward(input, unit.folded_weight, d_normalized, unit.options, d_input, nullptr, nullptr);
      return;
    }
    Tensor d_folded = Tensor::zeros(d_weight->shape(), DType::float32, d_weight->device());
    conv2d_backward(input, unit.folded_weight, d_normalized, unit.options, d_input, &d_folded, nullptr);
    // (O, I, k, k) seen as (1, O, I k k, 1): a per-channel scale is frozen_batch_norm_backward.
    const int64_t O = d_folded.size(0), per_channel = d_folded.numel() / O;
    Tensor d_weight_rows = d_weight->reshape({1, O, per_channel, 1});
    frozen_batch_norm_backward(d_folded.reshape({1, O, per_channel, 1}), unit.scale, d_weight_rows);
    return;
  }

  // Unfolded norms: norm backward into d_conv_output, then the conv's.
  Tensor* d_gamma = gradient_or_null(buffer, unit.norm_weight, d_gamma_view);
  Tensor* d_beta = gradient_or_null(buffer, unit.norm_bias, d_beta_view);
  Tensor d_conv_output = zeros_like(saved.conv_output);
  const Tensor d_y = in_memory_format(d_normalized, saved.conv_output.format());
  const Tensor gamma = buffer.value(unit.norm_weight);
  if (settings.norm == Normalization::batch_norm) {
    batch_norm_2d_training_backward(d_y, saved.conv_output, gamma, saved.mean, saved.invstd, &d_conv_output,
                                    d_gamma, d_beta);
  } else {
    group_norm_backward(d_y, saved.conv_output, gamma, saved.mean, saved.invstd,
                        group_norm_options(unit, settings), &d_conv_output, d_gamma, d_beta);
  }
  if (d_weight || d_input) {
    conv2d_backward(input, buffer.value(unit.conv_weight), d_conv_output, unit.options, d_input, d_weight,
                    nullptr);
  }
}

void conv_norm_peak_response_backward(const ConvNorm& unit, const ParameterBuffer& buffer,
                                      const NormSettings& settings, const Tensor& input,
                                      const ConvNormSaved& saved, const Tensor& d_normalized, Tensor& d_input) {
  WISE_CHECK(settings.norm != Normalization::batch_norm,
             "conv_norm_peak_response_backward: batch norms must run folded (forward_for_peak_response)");
  Tensor d_conv_output;
  if (settings.norm == Normalization::frozen_batch_norm) {
    d_conv_output = zeros_like(d_normalized);
    frozen_batch_norm_backward(d_normalized, unit.scale, d_conv_output);
  } else {
    d_conv_output = zeros_like(saved.conv_output);
    group_norm_backward(in_memory_format(d_normalized, saved.conv_output.format()), saved.conv_output,
                        buffer.value(unit.norm_weight), saved.mean, saved.invstd, group_norm_options(unit, settings),
                        &d_conv_output, nullptr, nullptr);
  }
  conv2d_peak_response_backward(input, buffer.value(unit.conv_weight), d_conv_output, unit.options, d_input);
}

// ---------------------------------------------------------------------------------------
// Residual blocks
// ---------------------------------------------------------------------------------------

namespace {

// One unit's backward under `rule`: the one place the two rules part.
void unit_backward(ConvBackwardRule rule, const ConvNorm& unit, const ParameterBuffer& buffer,
                   const NormSettings& settings, const Tensor& input, const ConvNormSaved& saved,
                   const Tensor& d_normalized, Tensor* d_input) {
  if (rule == ConvBackwardRule::gradient) {
    conv_norm_backward(unit, buffer, settings, input, saved, d_normalized, d_input);
    return;
  }
  WISE_CHECK(d_input != nullptr, "resnet: the peak response backward needs every input's gradient");
  conv_norm_peak_response_backward(unit, buffer, settings, input, saved, d_normalized, *d_input);
}

void declare_downsample_if_needed(Block& block, ParameterBuffer& buffer, const std::string& name,
                                  int64_t in_channels, int64_t out_channels, int64_t stride,
                                  const NormSettings& settings) {
  if (stride == 1 && in_channels == out_channels) return;
  block.has_downsample = true;
  block.downsample = declare_conv_norm(buffer, name + ".downsample.0", name + ".downsample.1", in_channels,
                                       out_channels, 1, stride, settings);
}

}  // namespace

Block declare_basic_block(ParameterBuffer& buffer, const std::string& name, int64_t in_channels,
                          int64_t out_channels, int64_t stride, const NormSettings& settings, int64_t dilation) {
  Block block;
  block.path.push_back(declare_conv_norm(buffer, name + ".conv1", name + ".bn1", in_channels, out_channels, 3,
                                         stride, settings, dilation));
  block.path.push_back(declare_conv_norm(buffer, name + ".conv2", name + ".bn2", out_channels, out_channels, 3,
                                         1, settings, dilation));
  declare_downsample_if_needed(block, buffer, name, in_channels, out_channels, stride, settings);
  return block;
}

Block declare_bottleneck(ParameterBuffer& buffer, const std::string& name, int64_t in_channels, int64_t width,
                         int64_t out_channels, int64_t stride, const NormSettings& settings, int64_t dilation) {
  Block block;
  block.path.push_back(
      declare_conv_norm(buffer, name + ".conv1", name + ".bn1", in_channels, width, 1, 1, settings));
  block.path.push_back(  // "v1.5": the stride sits on the 3x3
      declare_conv_norm(buffer, name + ".conv2", name + ".bn2", width, width, 3, stride, settings, dilation));
  block.path.push_back(
      declare_conv_norm(buffer, name + ".conv3", name + ".bn3", width, out_channels, 1, 1, settings));
  declare_downsample_if_needed(block, buffer, name, in_channels, out_channels, stride, settings);
  return block;
}

void block_inference_forward(const Block& block, const ParameterBuffer& buffer, const NormSettings& settings,
                             const Tensor& input, Tensor& output) {
  Tensor hidden = input;
  for (size_t i = 0; i + 1 < block.path.size(); ++i) {
    Tensor next;
    conv_norm_inference_forward(block.path[i], buffer, settings, hidden, nullptr, true, next);
    hidden = next;
  }
  Tensor identity = input;
  if (block.has_downsample) {
    Tensor projected;
    conv_norm_inference_forward(block.downsample, buffer, settings, input, nullptr, false, projected);
    identity = projected;
  }
  conv_norm_inference_forward(block.path.back(), buffer, settings, hidden, &identity, true, output);
}

void block_training_forward(const Block& block, const ParameterBuffer& buffer, const NormSettings& settings,
                            const Tensor& input, BlockSaved& saved) {
  saved.path.resize(block.path.size());
  const Tensor* identity = &input;
  if (block.has_downsample) {
    conv_norm_training_forward(block.downsample, buffer, settings, input, nullptr, false, saved.downsample);
    identity = &saved.downsample.output;
  }
  const Tensor* hidden = &input;
  for (size_t i = 0; i < block.path.size(); ++i) {
    const bool last = i + 1 == block.path.size();
    conv_norm_training_forward(block.path[i], buffer, settings, *hidden, last ? identity : nullptr, true,
                               saved.path[i]);
    hidden = &saved.path[i].output;
  }
}

void block_backward(const Block& block, const ParameterBuffer& buffer, const NormSettings& settings,
                    const Tensor& input, const BlockSaved& saved, const Tensor& d_output, Tensor* d_input,
                    ConvBackwardRule rule) {
  // Through the final ReLU: one gradient for both branches of the residual add.
  const Tensor& output = saved.output();
  Tensor d_sum = zeros_like(output);
  relu_backward(output, in_memory_format(d_output, output.format()), d_sum);

  // The main path, last unit first; between units, back through their ReLUs.
  Tensor d_normalized = d_sum;
  for (size_t i = block.path.size(); i-- > 0;) {
    if (i == 0) {
      unit_backward(rule, block.path[0], buffer, settings, input, saved.path[0], d_normalized, d_input);
      break;
    }
    const Tensor& hidden = saved.path[i - 1].output;
    Tensor d_hidden = zeros_like(hidden);
    unit_backward(rule, block.path[i], buffer, settings, hidden, saved.path[i], d_normalized, &d_hidden);
    Tensor d_previous = zeros_like(hidden);
    relu_backward(hidden, d_hidden, d_previous);
    d_normalized = d_previous;
  }

  // The identity branch.
  if (block.has_downsample) {
    unit_backward(rule, block.downsample, buffer, settings, input, saved.downsample, d_sum, d_input);
  } else if (d_input) {
    if (d_input->format() == d_sum.format()) {
      add_backward(d_sum, d_input, nullptr);
    } else {
      add_backward(d_sum.to_format(d_input->format()), d_input, nullptr);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Stem
// ---------------------------------------------------------------------------------------

Stem declare_stem(ParameterBuffer& buffer, const std::string& prefix, int64_t channels,
                  const NormSettings& settings) {
  Stem stem;
  stem.conv1 = declare_conv_norm(buffer, prefix + "conv1", prefix + "bn1", 3, channels, 7, 2, settings);
  return stem;
}

void stem_inference_forward(const Stem& stem, const ParameterBuffer& buffer, const NormSettings& settings,
                            const Tensor& images, Tensor& output) {
  Tensor activated, argmax;
  conv_norm_inference_forward(stem.conv1, buffer, settings, images, nullptr, true, activated);
  max_pool2d_forward(activated, stem.pool, output, argmax);
}

void stem_training_forward(const Stem& stem, const ParameterBuffer& buffer, const NormSettings& settings,
                           const Tensor& images, StemSaved& saved) {
  conv_norm_training_forward(stem.conv1, buffer, settings, images, nullptr, true, saved.conv1);
  max_pool2d_forward(saved.conv1.output, stem.pool, saved.output, saved.argmax);
}

void stem_backward(const Stem& stem, const ParameterBuffer& buffer, const NormSettings& settings,
                   const Tensor& images, const StemSaved& saved, const Tensor& d_output, Tensor* d_images,
                   ConvBackwardRule rule) {
  const Tensor& activated = saved.conv1.output;
  Tensor d_activated = zeros_like(activated);
  max_pool2d_backward(d_output, saved.argmax, stem.pool, d_activated);
  Tensor d_normalized = zeros_like(activated);
  relu_backward(activated, d_activated, d_normalized);
  unit_backward(rule, stem.conv1, buffer, settings, images, saved.conv1, d_normalized, d_images);
}

}  // namespace wise
