// Mask R-CNN's mask branch (see mask_head.h): four 3x3 convs, the 2x transposed conv
// and the per-class 1x1 logits.
#include "models/detection/mask_head.h"

#include <cmath>

#include "nn/activation.h"
#include "nn/conv2d.h"
#include "nn/conv_transpose2d.h"
#include "nn/ensure.h"

namespace wise {

namespace {

constexpr Conv2dOptions kConv3x3{1, 1, 1};
constexpr Conv2dOptions kConv1x1{1, 0, 1};
constexpr ConvTranspose2dOptions kUpsample{2, 0, 0, 1};  // 2x2, stride 2

Tensor* gradient_or_null(Tensor& view) { return view.defined() ? &view : nullptr; }

Tensor& zeroed_like(Tensor& tensor, const Tensor& like) {
  ensure_tensor(tensor, like.shape(), DType::float32, like.device(), like.format());
  tensor.zero();
  return tensor;
}

}  // namespace

MaskHead::MaskHead(const MaskHeadConfig& config, ParameterBuffer& buffer, std::string prefix)
    : config_(config), buffer_(buffer) {
  WISE_CHECK(config.in_channels > 0 && config.dim_reduced > 0 && config.num_classes >= 2 &&
                 !config.layers.empty(),
             "MaskHeadConfig: in_channels and dim_reduced must be > 0, num_classes >= 2 and layers "
             "not empty, got ",
             config.in_channels, ", ", config.dim_reduced, ", ", config.num_classes, ", ",
             config.layers.size(), " layers");
  int64_t channels = config.in_channels;
  for (size_t i = 0; i < config.layers.size(); ++i) {
    const std::string name = prefix + "mask_head." + std::to_string(i) + ".0.";
    conv_weight_.push_back(buffer.add(name + "weight", {config.layers[i], channels, 3, 3}));
    conv_bias_.push_back(buffer.add(name + "bias", {config.layers[i]}));
    channels = config.layers[i];
  }
  deconv_weight_ = buffer.add(prefix + "mask_predictor.conv5_mask.weight", {channels, config.dim_reduced, 2, 2});
  deconv_bias_ = buffer.add(prefix + "mask_predictor.conv5_mask.bias", {config.dim_reduced});
  logits_weight_ = buffer.add(prefix + "mask_predictor.mask_fcn_logits.weight",
                              {config.num_classes, config.dim_reduced, 1, 1});
  logits_bias_ = buffer.add(prefix + "mask_predictor.mask_fcn_logits.bias", {config.num_classes});
}

void MaskHead::initialize(Generator& generator) {
  for (size_t i = 0; i < conv_weight_.size(); ++i) {
    Tensor weight = buffer_.value(conv_weight_[i]);
    kaiming_normal_(weight, generator, 0.0, FanMode::fan_out, "relu");
    buffer_.value(conv_bias_[i]).zero();
  }
  for (auto [weight, bias] : {std::pair{deconv_weight_, deconv_bias_}, std::pair{logits_weight_, logits_bias_}}) {
    Tensor w = buffer_.value(weight), b = buffer_.value(bias);
    kaiming_normal_(w, generator, 0.0, FanMode::fan_out, "relu");
    // PyTorch's default bias: U(+-1/sqrt(fan_in)), fan_in from the weight as torch computes it
    const float bound = static_cast<float>(1.0 / std::sqrt(static_cast<double>(compute_fans(w.shape()).fan_in)));
    uniform_(b, generator, -bound, bound);
  }
  buffer_.mark_changed();
}

void MaskHead::forward(const Tensor& pooled) {
  WISE_CHECK(pooled.defined() && pooled.rank() == 4 && pooled.size(1) == config_.in_channels,
             "MaskHead: pooled must be (R, ", config_.in_channels, ", S, S), got ",
             pooled.defined() ? pooled.describe() : "undefined");
  pooled_ = pooled;
  hidden_.resize(conv_weight_.size());
  const Tensor* x = &pooled;
  for (size_t i = 0; i < conv_weight_.size(); ++i) {
    conv2d_forward(*x, buffer_.value(conv_weight_[i]), buffer_.value(conv_bias_[i]), kConv3x3, hidden_[i],
                   {/*relu=*/true});
    x = &hidden_[i];
  }
  conv_transpose2d_forward(*x, buffer_.value(deconv_weight_), buffer_.value(deconv_bias_), kUpsample,
                           upsampled_);
  relu_forward(upsampled_, upsampled_);
  conv2d_forward(upsampled_, buffer_.value(logits_weight_), buffer_.value(logits_bias_), kConv1x1,
                 logits_blocked_);
  mask_logits_ = logits_blocked_.to_format(MemoryFormat::plain);
}

void MaskHead::backward(const Tensor& d_mask_logits, Tensor* d_pooled) {
  WISE_CHECK(mask_logits_.defined() && d_mask_logits.defined() && d_mask_logits.shape() == mask_logits_.shape(),
             "MaskHead::backward: d_mask_logits must have the logits' shape ",
             mask_logits_.defined() ? mask_logits_.describe() : "(run forward first)", ", got ",
             d_mask_logits.defined() ? d_mask_logits.describe() : "undefined");
  Tensor d_logits_weight = buffer_.gradient(logits_weight_), d_logits_bias = buffer_.gradient(logits_bias_);
  Tensor d_deconv_weight = buffer_.gradient(deconv_weight_), d_deconv_bias = buffer_.gradient(deconv_bias_);
  conv2d_backward(upsampled_, buffer_.value(logits_weight_), d_mask_logits, kConv1x1,
                  &zeroed_like(d_upsampled_, upsampled_), gradient_or_null(d_logits_weight),
                  gradient_or_null(d_logits_bias));
  relu_backward(upsampled_, d_upsampled_, zeroed_like(d_upsampled_pre_, upsampled_));
  const size_t L = conv_weight_.size();
  d_hidden_.resize(L);
  d_pre_.resize(L);
  conv_transpose2d_backward(hidden_[L - 1], buffer_.value(deconv_weight_), d_upsampled_pre_, kUpsample,
                            &zeroed_like(d_hidden_[L - 1], hidden_[L - 1]), gradient_or_null(d_deconv_weight),
                            gradient_or_null(d_deconv_bias));
  for (size_t i = L; i-- > 0;) {
    relu_backward(hidden_[i], d_hidden_[i], zeroed_like(d_pre_[i], hidden_[i]));
    const Tensor& input = i == 0 ? pooled_ : hidden_[i - 1];
    Tensor* d_input = i == 0 ? d_pooled : &zeroed_like(d_hidden_[i - 1], hidden_[i - 1]);
    Tensor d_weight = buffer_.gradient(conv_weight_[i]), d_bias = buffer_.gradient(conv_bias_[i]);
    conv2d_backward(input, buffer_.value(conv_weight_[i]), d_pre_[i], kConv3x3, d_input,
                    gradient_or_null(d_weight), gradient_or_null(d_bias));
  }
}

}  // namespace wise
