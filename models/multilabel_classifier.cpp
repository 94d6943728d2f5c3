#include "models/multilabel_classifier.h"

#include <cmath>
#include <utility>

#include "nn/ensure.h"
#include "nn/linear.h"
#include "nn/pooling.h"
#include "models/torchvision_weights.h"

namespace wise {

namespace {

const ResNetConfig& checked_backbone(const MultilabelClassifierConfig& config) {
  WISE_CHECK(config.num_classes >= 1, "MultilabelClassifierConfig.num_classes must be >= 1, got ",
             config.num_classes);
  return config.backbone;
}

}  // namespace

MultilabelClassifier::MultilabelClassifier(const MultilabelClassifierConfig& config, ParameterBuffer& buffer,
                                           std::string prefix)
    : config_(config), buffer_(buffer), prefix_(std::move(prefix)), body_(checked_backbone(config), buffer, prefix_) {
  // Declared after the body: first in the buffer, first to finish in backward.
  const int64_t channels = body_.channels(5);
  fc_weight_ = buffer_.add(prefix_ + "fc.weight", {config_.num_classes, channels});
  fc_bias_ = buffer_.add(prefix_ + "fc.bias", {config_.num_classes});
}

void MultilabelClassifier::initialize(Generator& generator) {
  WISE_CHECK(buffer_.allocated(), "MultilabelClassifier::initialize: allocate the ParameterBuffer first");
  body_.initialize(generator);
  // nn.Linear.reset_parameters: kaiming_uniform_(a = sqrt(5)) gives the bound
  // sqrt(6 / ((1 + 5) fan_in)) = 1 / sqrt(fan_in); the bias uses the same bound.
  Tensor weight = buffer_.value(fc_weight_);
  kaiming_uniform_(weight, generator, std::sqrt(5.0));
  const float bound = static_cast<float>(1.0 / std::sqrt(static_cast<double>(body_.channels(5))));
  Tensor bias = buffer_.value(fc_bias_);
  uniform_(bias, generator, -bound, bound);
  buffer_.mark_changed();  // written through value() views
}

LoadReport MultilabelClassifier::load_imagenet_body(const std::string& path) {
  WISE_CHECK(buffer_.allocated(), "MultilabelClassifier::load_imagenet_body(", path,
             "): allocate the ParameterBuffer first");
  // The body's parameters alone, under their file names; our fc keeps its values.
  return load_torchvision_weights(path, buffer_, prefix_, "fc.");
}

const Tensor& MultilabelClassifier::forward(const Tensor& images, bool training) {
  saved_for_backward_ = false;
  const ResNetFeatures& features = body_.forward(images, training);
  c5_ = features.c5;  // a handle: the body owns the buffer
  global_average_pool_forward(c5_, pooled_4d_);  // (N, C, 1, 1), plain
  pooled_ = pooled_4d_.reshape({c5_.size(0), c5_.size(1)});  // the same buffer, as (N, C)
  linear_forward(pooled_, buffer_.value(fc_weight_), buffer_.value(fc_bias_), logits_);
  saved_for_backward_ = training;
  return logits_;
}

void MultilabelClassifier::backward(const Tensor& d_logits, Tensor* d_images) {
  WISE_CHECK(saved_for_backward_, "MultilabelClassifier::backward needs a forward(images, training = true) just before");
  const Device device = buffer_.all_values().device();
  require_float_on(d_logits, device, "MultilabelClassifier::backward: d_logits");
  WISE_CHECK(d_logits.shape() == logits_.shape() && d_logits.format() == MemoryFormat::plain,
             "MultilabelClassifier::backward: d_logits must be plain ", logits_.shape(), " (the logits' shape), got ",
             d_logits.describe());

  // fc: d_pooled = d_logits W; fc.weight and fc.bias gradients accumulate.
  ensure_tensor(d_pooled_, pooled_.shape(), DType::float32, device);
  d_pooled_.zero();
  Tensor d_weight = buffer_.gradient(fc_weight_), d_bias = buffer_.gradient(fc_bias_);
  linear_backward(pooled_, buffer_.value(fc_weight_), d_logits, &d_pooled_, &d_weight, &d_bias);

  // avgpool: spread d_pooled / (H W) over C5, in C5's own format (no reorder in the body).
  ensure_tensor(d_c5_, c5_.shape(), DType::float32, device, c5_.format());
  d_c5_.zero();
  global_average_pool_backward(d_pooled_.reshape({pooled_.size(0), pooled_.size(1), 1, 1}), d_c5_);

  ResNetFeatures d_features;
  d_features.c5 = d_c5_;
  body_.backward(d_features, d_images);
  saved_for_backward_ = false;
}

}  // namespace wise
