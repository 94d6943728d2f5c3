#include "models/resnet.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/resnet_blocks.h"
#include "nn/activation.h"
#include "nn/ensure.h"

namespace wise {

const char* normalization_name(Normalization norm) {
  switch (norm) {
    case Normalization::frozen_batch_norm: return "frozen_batch_norm";
    case Normalization::batch_norm: return "batch_norm";
    case Normalization::group_norm: return "group_norm";
  }
  return "?";
}

Normalization parse_normalization(const std::string& text) {
  for (Normalization norm : {Normalization::batch_norm, Normalization::group_norm, Normalization::frozen_batch_norm}) {
    if (text == normalization_name(norm)) return norm;
  }
  throw std::invalid_argument("norm: expected batch_norm, group_norm or frozen_batch_norm, found \"" + text + "\"");
}

Tensor& ResNetFeatures::operator[](int stage) {
  WISE_CHECK(stage >= 2 && stage <= 5, "ResNetFeatures: stage must be 2..5 (C2..C5), got ", stage);
  return stage == 2 ? c2 : stage == 3 ? c3 : stage == 4 ? c4 : c5;
}

const Tensor& ResNetFeatures::operator[](int stage) const {
  return const_cast<ResNetFeatures&>(*this)[stage];
}

int64_t resnet_width(int64_t channels, double width_multiplier) {
  WISE_CHECK(width_multiplier > 0.0 && std::isfinite(width_multiplier),
             "ResNetConfig.width_multiplier must be a positive number, got ", width_multiplier);
  const auto rounded = static_cast<int64_t>(std::llround(static_cast<double>(channels) * width_multiplier / 8.0)) * 8;
  return rounded < 8 ? 8 : rounded;
}

namespace {

struct DepthSpec {
  bool bottleneck;
  std::array<int, 4> blocks;
};

DepthSpec depth_spec(int depth) {
  switch (depth) {
    case 18: return {false, {2, 2, 2, 2}};
    case 34: return {false, {3, 4, 6, 3}};
    case 50: return {true, {3, 4, 6, 3}};
    case 101: return {true, {3, 4, 23, 3}};
    default: break;
  }
  throw Error(concat("ResNetConfig.depth must be 18, 34, 50 or 101, got ", depth));
}

void check_config(const ResNetConfig& config) {
  depth_spec(config.depth);
  resnet_width(64, config.width_multiplier);
  WISE_CHECK(config.trainable_layers >= 0 && config.trainable_layers <= 5,
             "ResNetConfig.trainable_layers must be 0..5 (torchvision's trainable_layers), got ",
             config.trainable_layers);
  WISE_CHECK(config.group_norm_groups >= 1, "ResNetConfig.group_norm_groups must be >= 1, got ",
             config.group_norm_groups);
}

// torchvision's trainable_layers: the last `trainable_layers` of
// [conv1 + bn1, layer1, layer2, layer3, layer4] train. Returns the lowest
// trainable stage (0 stem, 1..4 layerK, 5 none).
int freeze_stages(ParameterBuffer& buffer, const std::string& prefix, int trainable_layers) {
  const int lowest = 5 - trainable_layers;
  if (lowest > 0) {
    buffer.set_trainable(prefix + "conv1.", false);
    buffer.set_trainable(prefix + "bn1.", false);
  }
  for (int stage = 1; stage < lowest && stage <= 4; ++stage) {
    buffer.set_trainable(concat(prefix, "layer", stage, "."), false);
  }
  return lowest;
}

// The gradient arriving at a stage's output: dL/dC (from the caller) in `like`'s
// format, as a fresh buffer the blocks below may accumulate into.
Tensor stage_output_gradient(const Tensor& d_feature, const Tensor& like, int stage) {
  if (!d_feature.defined()) return zeros_like(like);
  WISE_CHECK(d_feature.shape() == like.shape() && d_feature.dtype() == DType::float32 &&
                 d_feature.device() == like.device(),
             "ResNet::backward: d_features.c", stage, " must be float32", like.shape(), " on ",
             kernels::device_name(like.device()), " (C", stage, "'s shape), got ", d_feature.describe());
  const Tensor converted = in_memory_format(d_feature, like.format());
  return converted.raw_data() == d_feature.raw_data() ? converted.clone() : converted;
}

}  // namespace

ResNet::ResNet(const ResNetConfig& config, ParameterBuffer& buffer, std::string prefix)
    : config_(config), buffer_(buffer), prefix_(std::move(prefix)), layout_(std::make_unique<ResNetLayout>()),
      activations_(std::make_unique<ResNetActivations>()) {
  check_config(config_);
  WISE_CHECK(!buffer_.allocated(), "ResNet: the ParameterBuffer is already allocated; declare the ResNet (\"",
             prefix_, "\") before ParameterBuffer::allocate()");
  ResNetLayout& layout = *layout_;
  layout.settings = NormSettings{config.norm, config.batch_norm_eps, config.batch_norm_momentum,
                                 config.group_norm_groups, config.group_norm_eps};
  const DepthSpec spec = depth_spec(config.depth);
  const int64_t expansion = spec.bottleneck ? 4 : 1;

  int64_t channels = resnet_width(64, config.width_multiplier);
  layout.stem = declare_stem(buffer_, prefix_, channels, layout.settings);
  int64_t dilation = 1;
  for (int stage = 1; stage <= 4; ++stage) {
    const int64_t width = resnet_width(int64_t{64} << (stage - 1), config.width_multiplier);
    const int64_t out_channels = width * expansion;
    // torchvision's _make_layer: a stage that replaces its stride by dilation keeps the
    // resolution; its first block still runs at the previous dilation, the rest at the
    // doubled one.
    const bool dilate = stage > 1 && config.replace_stride_with_dilation[stage - 2];
    const int64_t previous_dilation = dilation;
    if (dilate) dilation *= 2;
    for (int index = 0; index < spec.blocks[stage - 1]; ++index) {
      const std::string name = concat(prefix_, "layer", stage, ".", index);
      const int64_t stride = (index == 0 && stage > 1 && !dilate) ? 2 : 1;
      const int64_t block_dilation = index == 0 ? previous_dilation : dilation;
      layout.layers[stage - 1].push_back(
          spec.bottleneck ? declare_bottleneck(buffer_, name, channels, width, out_channels, stride, layout.settings,
                                               block_dilation)
                          : declare_basic_block(buffer_, name, channels, out_channels, stride, layout.settings,
                                                block_dilation));
      channels = out_channels;
    }
    layout.channels[stage - 1] = out_channels;
  }
  layout.lowest_trainable_stage = freeze_stages(buffer_, prefix_, config.trainable_layers);
}

ResNet::~ResNet() = default;

int64_t ResNet::stride(int stage) const {
  WISE_CHECK(stage >= 2 && stage <= 5, "ResNet::stride: stage must be 2..5 (C2..C5), got ", stage);
  int64_t stride = 4;
  for (int k = 3; k <= stage; ++k) stride *= config_.replace_stride_with_dilation[k - 3] ? 1 : 2;
  return stride;
}

std::array<bool, 3> dilation_for_output_stride(int64_t output_stride) {
  WISE_CHECK(output_stride == 32 || output_stride == 16 || output_stride == 8,
             "ResNet output stride must be 32, 16 or 8, got ", output_stride);
  return {false, output_stride <= 8, output_stride <= 16};
}

int64_t resnet_output_stride(const ResNetConfig& config) {
  int64_t stride = 32;
  for (bool dilate : config.replace_stride_with_dilation) stride /= dilate ? 2 : 1;
  return stride;
}

int64_t ResNet::channels(int stage) const {
  WISE_CHECK(stage >= 2 && stage <= 5, "ResNet::channels: stage must be 2..5 (C2..C5), got ", stage);
  return layout_->channels[stage - 2];
}

void ResNet::initialize(Generator& generator) {
  WISE_CHECK(buffer_.allocated(), "ResNet::initialize: allocate the ParameterBuffer first");
  conv_norm_initialize(layout_->stem.conv1, buffer_, generator);
  for (const auto& layer : layout_->layers) {
    for (const Block& block : layer) {
      for (const ConvNorm& unit : block.path) conv_norm_initialize(unit, buffer_, generator);
      if (block.has_downsample) conv_norm_initialize(block.downsample, buffer_, generator);
    }
  }
  buffer_.mark_changed();  // written through value() views
}

void ResNet::check_images(const Tensor& images, const char* what) const {
  WISE_CHECK(buffer_.allocated(), what, ": allocate the ParameterBuffer (and load or initialise the weights) first");
  const Device device = buffer_.all_values().device();
  require_float_on(images, device, concat(what, ": images").c_str());
  WISE_CHECK(images.rank() == 4 && images.size(1) == 3, what, ": images must be (N, 3, H, W), got ",
             images.describe());
}

const ResNetFeatures& ResNet::forward(const Tensor& images, bool training) {
  check_images(images, "ResNet::forward");
  fold_batch_norms(training);
  saved_for_backward_ = saved_for_peak_response_ = false;
  return training ? forward_training(images) : forward_inference(images);
}

const ResNetFeatures& ResNet::forward_for_peak_response(const Tensor& images) {
  check_images(images, "ResNet::forward_for_peak_response");
  fold_batch_norms(false);
  saved_for_backward_ = saved_for_peak_response_ = false;
  // The inference computation, saved: a batch norm runs folded, as a frozen one does.
  NormSettings settings = layout_->settings;
  if (settings.norm == Normalization::batch_norm) settings.norm = Normalization::frozen_batch_norm;
  forward_saving(images, settings, 0);
  saved_for_peak_response_ = true;
  return features_;
}

// Folds the batch norms into their convolutions wherever the statistics are constants:
// always in frozen_batch_norm, at inference in batch_norm. A fold is one pass over the
// weights (ResNet-50: 100 MB each way, about the time of a third of its forward at
// 224x224), so it is redone only where the folded weights can be stale:
//  - everything on the first forward and whenever the buffer's version() moved (a
//    load, an initialisation: the buffer counts those writes, so no caller has to
//    remember to announce them);
//  - frozen_batch_norm: the units whose conv trains, on every training forward (an
//    optimizer step may follow each one) and on the first inference forward after one;
//  - batch_norm: everything on the first inference forward after a training forward
//    (which moved the running statistics).
void ResNet::fold_batch_norms(bool training) {
  const Normalization norm = config_.norm;
  if (norm == Normalization::group_norm || (norm == Normalization::batch_norm && training)) {
    if (training) folds_current_ = trainable_folds_current_ = false;
    return;
  }
  const bool all = !folds_current_ || folded_version_ != buffer_.version();
  if (!all && trainable_folds_current_ && !training) return;
  ResNetLayout& layout = *layout_;
  auto fold = [&](ConvNorm& unit) {
    if (all || conv_norm_trainable(unit, buffer_)) conv_norm_fold(unit, buffer_, layout.settings);
  };
  fold(layout.stem.conv1);
  for (auto& layer : layout.layers) {
    for (Block& block : layer) {
      for (ConvNorm& unit : block.path) fold(unit);
      if (block.has_downsample) fold(block.downsample);
    }
  }
  folds_current_ = true;
  folded_version_ = buffer_.version();
  trainable_folds_current_ = !training;
}

const ResNetFeatures& ResNet::forward_inference(const Tensor& images) {
  const ResNetLayout& layout = *layout_;
  Tensor hidden;
  stem_inference_forward(layout.stem, buffer_, layout.settings, images, hidden);
  for (int stage = 1; stage <= 4; ++stage) {
    const auto& blocks = layout.layers[stage - 1];
    for (size_t index = 0; index < blocks.size(); ++index) {
      const bool last = index + 1 == blocks.size();
      // The stage's output goes straight into the model-owned feature tensor.
      Tensor next;
      Tensor& output = last ? features_[stage + 1] : next;
      block_inference_forward(blocks[index], buffer_, layout.settings, hidden, output);
      hidden = output;
    }
  }
  return features_;
}

const ResNetFeatures& ResNet::forward_training(const Tensor& images) {
  // Stages below the lowest trainable one never see a gradient unless the images'
  // gradient is wanted: they run the inference path and save nothing. (Not with
  // train-mode batch norm, whose training forward uses batch statistics.)
  const bool same_in_inference = config_.norm != Normalization::batch_norm;
  const int frozen =
      config_.image_gradient || !same_in_inference ? 0 : std::min(layout_->lowest_trainable_stage, 5);
  forward_saving(images, layout_->settings, frozen);
  saved_for_backward_ = true;
  return features_;
}

const ResNetFeatures& ResNet::forward_saving(const Tensor& images, const NormSettings& settings, int frozen) {
  const ResNetLayout& layout = *layout_;
  ResNetActivations& saved = *activations_;
  saved.images = images;
  saved.frozen_stages_run = frozen;
  const Tensor* hidden = nullptr;
  if (frozen > 0) {
    stem_inference_forward(layout.stem, buffer_, settings, images, saved.frozen_buffers[0][0]);
    hidden = &saved.frozen_buffers[0][0];
  } else {
    stem_training_forward(layout.stem, buffer_, settings, images, saved.stem);
    hidden = &saved.stem.output;
  }
  for (int stage = 1; stage <= 4; ++stage) {
    const auto& blocks = layout.layers[stage - 1];
    auto& saved_blocks = saved.layers[stage - 1];
    if (stage < frozen) {
      for (size_t index = 0; index < blocks.size(); ++index) {
        Tensor& output = saved.frozen_buffers[stage][index % 2];
        block_inference_forward(blocks[index], buffer_, settings, *hidden, output);
        hidden = &output;
      }
      features_[stage + 1] = *hidden;
      saved_blocks.clear();
      continue;
    }
    if (stage == frozen) saved.frozen_output = *hidden;  // the first trainable stage's input
    saved_blocks.resize(blocks.size());
    for (size_t index = 0; index < blocks.size(); ++index) {
      block_training_forward(blocks[index], buffer_, settings, *hidden, saved_blocks[index]);
      hidden = &saved_blocks[index].output();
    }
    features_[stage + 1] = *hidden;  // a handle to the saved output
  }
  return features_;
}

void ResNet::backward(const ResNetFeatures& d_features, Tensor* d_images) {
  WISE_CHECK(saved_for_backward_, "ResNet::backward needs a forward(images, training = true) just before");
  const ResNetActivations& saved = *activations_;
  if (d_images) {
    WISE_CHECK(d_images->shape() == saved.images.shape(), "ResNet::backward: d_images must have the images' shape ",
               saved.images.shape(), ", got ", d_images->describe());
  }
  WISE_CHECK(d_images == nullptr || saved.frozen_stages_run == 0,
             "ResNet::backward: d_images was requested, but the frozen stages saved nothing; set "
             "ResNetConfig::image_gradient = true to train with the images' gradient");
  // Where the backward can stop: nothing below this stage wants a gradient.
  const int lowest = d_images ? 0 : layout_->lowest_trainable_stage;
  if (lowest > 4) return;
  backward_with(d_features, d_images, lowest, ConvBackwardRule::gradient);
}

void ResNet::peak_response_backward(const ResNetFeatures& d_features, Tensor& d_images) {
  WISE_CHECK(saved_for_peak_response_,
             "ResNet::peak_response_backward needs a forward_for_peak_response(images) just before");
  const Tensor& images = activations_->images;
  WISE_CHECK(d_images.shape() == images.shape() && d_images.dtype() == DType::float32 &&
                 d_images.device() == images.device(),
             "ResNet::peak_response_backward: d_images must be float32", images.shape(), " on ",
             kernels::device_name(images.device()), " (the images'), got ", d_images.describe());
  backward_with(d_features, &d_images, 0, ConvBackwardRule::peak_response);
}

void ResNet::backward_with(const ResNetFeatures& d_features, Tensor* d_images, int lowest, ConvBackwardRule rule) {
  const ResNetLayout& layout = *layout_;
  const ResNetActivations& saved = *activations_;
  // The settings the forward ran with (peak response: batch norms folded).
  NormSettings settings = layout.settings;
  if (rule == ConvBackwardRule::peak_response && settings.norm == Normalization::batch_norm) {
    settings.norm = Normalization::frozen_batch_norm;
  }
  Tensor d_output = stage_output_gradient(d_features.c5, saved.layers[3].back().output(), 5);
  for (int stage = 4; stage >= 1 && stage >= lowest; --stage) {
    const auto& blocks = layout.layers[stage - 1];
    const auto& saved_blocks = saved.layers[stage - 1];
    for (size_t index = blocks.size(); index-- > 0;) {
      const bool first = index == 0;
      const Tensor& input = !first ? saved_blocks[index - 1].output()
                            : stage - 1 < saved.frozen_stages_run ? saved.frozen_output  // below: frozen, unsaved
                            : stage > 1 ? saved.layers[stage - 2].back().output()
                                        : saved.stem.output;
      // The block input's gradient is wanted unless nothing below needs it.
      const bool wanted = !first || stage - 1 >= lowest;
      Tensor d_input;
      if (wanted) {
        d_input = (first && stage > 1) ? stage_output_gradient(d_features[stage], input, stage) : zeros_like(input);
      }
      block_backward(blocks[index], buffer_, settings, input, saved_blocks[index], d_output,
                     wanted ? &d_input : nullptr, rule);
      d_output = d_input;
    }
  }
  if (lowest == 0) {
    stem_backward(layout.stem, buffer_, settings, saved.images, saved.stem, d_output, d_images, rule);
  }
}

}  // namespace wise
