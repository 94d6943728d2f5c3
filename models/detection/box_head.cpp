// Fast R-CNN's box branch (see box_head.h): two fully connected layers with ReLU, then
// the class and box predictors.
#include "models/detection/box_head.h"

#include <cmath>

#include "nn/activation.h"
#include "nn/ensure.h"
#include "nn/linear.h"

namespace wise {

namespace {

Tensor* gradient_or_null(Tensor& view) { return view.defined() ? &view : nullptr; }

}  // namespace

BoxHead::BoxHead(const BoxHeadConfig& config, ParameterBuffer& buffer, std::string prefix)
    : config_(config), buffer_(buffer) {
  WISE_CHECK(config.in_channels > 0 && config.resolution > 0 && config.representation_size > 0 &&
                 config.num_classes >= 2,
             "BoxHeadConfig: in_channels, resolution and representation_size must be > 0 and "
             "num_classes >= 2 (with the background), got ",
             config.in_channels, ", ", config.resolution, ", ", config.representation_size, ", ",
             config.num_classes);
  const int64_t in = config.in_channels * config.resolution * config.resolution;
  const int64_t hidden = config.representation_size, K = config.num_classes;
  fc6_weight_ = buffer.add(prefix + "box_head.fc6.weight", {hidden, in});
  fc6_bias_ = buffer.add(prefix + "box_head.fc6.bias", {hidden});
  fc7_weight_ = buffer.add(prefix + "box_head.fc7.weight", {hidden, hidden});
  fc7_bias_ = buffer.add(prefix + "box_head.fc7.bias", {hidden});
  cls_weight_ = buffer.add(prefix + "box_predictor.cls_score.weight", {K, hidden});
  cls_bias_ = buffer.add(prefix + "box_predictor.cls_score.bias", {K});
  bbox_weight_ = buffer.add(prefix + "box_predictor.bbox_pred.weight", {4 * K, hidden});
  bbox_bias_ = buffer.add(prefix + "box_predictor.bbox_pred.bias", {4 * K});
}

void BoxHead::initialize(Generator& generator) {
  // nn.Linear.reset_parameters: kaiming_uniform_(a = sqrt(5)) is U(+-1/sqrt(fan_in)); the
  // bias uses the same bound.
  for (auto [weight, bias] : {std::pair{fc6_weight_, fc6_bias_}, std::pair{fc7_weight_, fc7_bias_},
                              std::pair{cls_weight_, cls_bias_}, std::pair{bbox_weight_, bbox_bias_}}) {
    Tensor w = buffer_.value(weight), b = buffer_.value(bias);
    kaiming_uniform_(w, generator, std::sqrt(5.0));
    const float bound = static_cast<float>(1.0 / std::sqrt(static_cast<double>(w.size(1))));
    uniform_(b, generator, -bound, bound);
  }
  buffer_.mark_changed();
}

void BoxHead::forward(const Tensor& pooled) {
  const int64_t C = config_.in_channels, P = config_.resolution;
  WISE_CHECK(pooled.defined() && pooled.format() == MemoryFormat::plain && pooled.rank() == 4 &&
                 pooled.size(1) == C && pooled.size(2) == P && pooled.size(3) == P,
             "BoxHead: pooled must be plain (R, ", C, ", ", P, ", ", P, "), got ",
             pooled.defined() ? pooled.describe() : "undefined");
  flat_ = pooled.reshape({pooled.size(0), C * P * P});
  linear_forward(flat_, buffer_.value(fc6_weight_), buffer_.value(fc6_bias_), fc6_);
  relu_forward(fc6_, fc6_);
  linear_forward(fc6_, buffer_.value(fc7_weight_), buffer_.value(fc7_bias_), fc7_);
  relu_forward(fc7_, fc7_);
  linear_forward(fc7_, buffer_.value(cls_weight_), buffer_.value(cls_bias_), class_logits_);
  linear_forward(fc7_, buffer_.value(bbox_weight_), buffer_.value(bbox_bias_), box_regression_);
}

void BoxHead::backward(const Tensor& d_class_logits, const Tensor& d_box_regression, Tensor* d_pooled) {
  WISE_CHECK(fc7_.defined(), "BoxHead::backward: run forward first");
  const Device device = fc7_.device();
  Tensor d_cls_weight = buffer_.gradient(cls_weight_), d_cls_bias = buffer_.gradient(cls_bias_);
  Tensor d_bbox_weight = buffer_.gradient(bbox_weight_), d_bbox_bias = buffer_.gradient(bbox_bias_);
  Tensor d_fc7_weight = buffer_.gradient(fc7_weight_), d_fc7_bias = buffer_.gradient(fc7_bias_);
  Tensor d_fc6_weight = buffer_.gradient(fc6_weight_), d_fc6_bias = buffer_.gradient(fc6_bias_);
  // predictors -> d fc7 (post-ReLU)
  ensure_tensor(d_fc7_, fc7_.shape(), DType::float32, device);
  d_fc7_.zero();
  if (d_class_logits.defined()) {
    linear_backward(fc7_, buffer_.value(cls_weight_), d_class_logits, &d_fc7_,
                    gradient_or_null(d_cls_weight), gradient_or_null(d_cls_bias));
  }
  if (d_box_regression.defined()) {
    linear_backward(fc7_, buffer_.value(bbox_weight_), d_box_regression, &d_fc7_,
                    gradient_or_null(d_bbox_weight), gradient_or_null(d_bbox_bias));
  }
  // fc7, from its ReLU's output
  ensure_tensor(d_fc7_pre_, fc7_.shape(), DType::float32, device);
  d_fc7_pre_.zero();
  relu_backward(fc7_, d_fc7_, d_fc7_pre_);
  ensure_tensor(d_fc6_, fc6_.shape(), DType::float32, device);
  d_fc6_.zero();
  linear_backward(fc6_, buffer_.value(fc7_weight_), d_fc7_pre_, &d_fc6_, gradient_or_null(d_fc7_weight),
                  gradient_or_null(d_fc7_bias));
  // fc6
  ensure_tensor(d_fc6_pre_, fc6_.shape(), DType::float32, device);
  d_fc6_pre_.zero();
  relu_backward(fc6_, d_fc6_, d_fc6_pre_);
  Tensor d_flat;
  if (d_pooled != nullptr) {
    WISE_CHECK(d_pooled->defined() && d_pooled->numel() == flat_.numel() &&
                   d_pooled->format() == MemoryFormat::plain,
               "BoxHead::backward: d_pooled must exist with the pooled features' shape, got ",
               d_pooled->defined() ? d_pooled->describe() : "undefined");
    d_flat = d_pooled->reshape(flat_.shape());
  }
  linear_backward(flat_, buffer_.value(fc6_weight_), d_fc6_pre_, d_pooled != nullptr ? &d_flat : nullptr,
                  gradient_or_null(d_fc6_weight), gradient_or_null(d_fc6_bias));
}

}  // namespace wise
