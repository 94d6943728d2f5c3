// The ResNet-FPN backbone (see resnet_fpn.h): ResNet body -> FPN with LastLevelMaxPool.
#include "models/resnet_fpn.h"

#include "nn/ensure.h"

namespace wise {

namespace {

FeaturePyramidNetworkConfig fpn_config(const ResNet& body, int64_t out_channels) {
  FeaturePyramidNetworkConfig config;
  for (int stage = 2; stage <= 5; ++stage) config.in_channels_list.push_back(body.channels(stage));
  config.out_channels = out_channels;
  return config;
}

}  // namespace

ResNetFpnBackbone::ResNetFpnBackbone(const ResNetFpnConfig& config, ParameterBuffer& buffer, std::string prefix)
    : config_(config),
      buffer_(buffer),
      body_(config.body, buffer, prefix + "body."),
      fpn_(declare_feature_pyramid_network(buffer, prefix + "fpn.", fpn_config(body_, config.out_channels))) {}

void ResNetFpnBackbone::initialize(Generator& generator) {
  body_.initialize(generator);
  init_feature_pyramid_network(fpn_, buffer_, generator);
  buffer_.mark_changed();  // written through value() views
}

const char* ResNetFpnBackbone::output_name(int level) {
  static const char* const names[kLevels] = {"0", "1", "2", "3", "pool"};
  WISE_CHECK(level >= 0 && level < kLevels, "ResNetFpnBackbone::output_name: level must be 0..", kLevels - 1,
             ", got ", level);
  return names[level];
}

const std::vector<Tensor>& ResNetFpnBackbone::forward(const Tensor& images, bool training) {
  saved_for_backward_ = false;
  const ResNetFeatures& features = body_.forward(images, training);
  features_ = {features.c2, features.c3, features.c4, features.c5};
  feature_pyramid_network_forward(fpn_, buffer_, features_, fpn_activations_);
  saved_for_backward_ = training;
  return fpn_activations_.outputs;
}

void ResNetFpnBackbone::backward(const std::vector<Tensor>& d_outputs, Tensor* d_images) {
  WISE_CHECK(saved_for_backward_, "ResNetFpnBackbone::backward needs a forward(images, training = true) just before");
  WISE_CHECK(d_outputs.size() == static_cast<size_t>(kLevels), "ResNetFpnBackbone::backward: expected ", kLevels,
             " output gradients (P2..P6, undefined = zero), got ", d_outputs.size());
  // C_s is layer (s - 1)'s output, and torchvision's trainable_layers t trains layer
  // 5 - t and above (the stem counting as layer 0), so dL/dC_s matters iff
  // s - 1 >= 5 - t, or always when the image gradient is wanted (ResNet::backward's rule).
  const int lowest_trainable = 5 - config_.body.trainable_layers;
  d_features_.resize(features_.size());
  for (size_t i = 0; i < features_.size(); ++i) {
    const int stage = static_cast<int>(i) + 2;
    if (d_images == nullptr && stage - 1 < lowest_trainable) {
      d_features_[i] = Tensor();
      continue;
    }
    const Tensor& feature = features_[i];
    ensure_tensor(d_features_[i], feature.shape(), DType::float32, feature.device(), feature.format());
    d_features_[i].zero();
  }
  feature_pyramid_network_backward(fpn_, buffer_, features_, fpn_activations_, d_outputs, d_features_,
                                   fpn_gradients_);
  ResNetFeatures d_body;
  for (int stage = 2; stage <= 5; ++stage) d_body[stage] = d_features_[static_cast<size_t>(stage - 2)];
  body_.backward(d_body, d_images);
}

}  // namespace wise
