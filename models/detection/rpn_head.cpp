// The RPN head (see rpn_head.h): the shared 3x3 conv and the two 1x1 predictors per FPN
// level, and the NHWC flattening of their outputs into per-anchor rows.
#include "models/detection/rpn_head.h"

#include "kernels/memory.h"
#include "nn/activation.h"
#include "nn/conv2d.h"
#include "nn/ensure.h"

namespace wise {

namespace {

constexpr Conv2dOptions kConv3x3{1, 1, 1};
constexpr Conv2dOptions kConv1x1{1, 0, 1};

Tensor* gradient_or_null(Tensor& view) { return view.defined() ? &view : nullptr; }

// The level map (N, K, H, W), K = A * per_row, into rows [offset, offset + H W A) of each
// image's (T, per_row) block of `rows`: NHWC order is (h, w, a, j), the rows' order.
void flatten_level(const Tensor& map, int64_t offset, int64_t rows_per_image, int64_t per_row,
                   Tensor& rows) {
  const Tensor nhwc = map.to_format(MemoryFormat::nhwc);
  const int64_t N = map.size(0), level_floats = map.numel() / N;
  const Device device = map.device();
  for (int64_t n = 0; n < N; ++n) {
    kernels::copy_bytes(rows.data<float>() + (n * rows_per_image + offset) * per_row, device,
                        nhwc.data<float>() + n * level_floats, device,
                        sizeof(float) * static_cast<size_t>(level_floats));
  }
}

// The inverse: rows [offset, ...) of each image back into an NHWC map of `like`'s shape.
void unflatten_level(const Tensor& rows, int64_t offset, int64_t rows_per_image, int64_t per_row,
                     const Tensor& like, Tensor& map) {
  ensure_tensor(map, like.shape(), DType::float32, like.device(), MemoryFormat::nhwc);
  const int64_t N = like.size(0), level_floats = like.numel() / N;
  for (int64_t n = 0; n < N; ++n) {
    kernels::copy_bytes(map.data<float>() + n * level_floats, like.device(),
                        rows.data<float>() + (n * rows_per_image + offset) * per_row,
                        like.device(), sizeof(float) * static_cast<size_t>(level_floats));
  }
}

}  // namespace

RpnHead::RpnHead(int64_t in_channels, int64_t num_anchors, ParameterBuffer& buffer,
                 std::string prefix)
    : buffer_(buffer), in_channels_(in_channels), num_anchors_(num_anchors) {
  WISE_CHECK(in_channels > 0 && num_anchors > 0, "RpnHead: in_channels and num_anchors must be > 0, got ",
             in_channels, " and ", num_anchors);
  const int64_t C = in_channels, A = num_anchors;
  conv_weight_ = buffer.add(prefix + "conv.0.0.weight", {C, C, 3, 3});
  conv_bias_ = buffer.add(prefix + "conv.0.0.bias", {C});
  cls_weight_ = buffer.add(prefix + "cls_logits.weight", {A, C, 1, 1});
  cls_bias_ = buffer.add(prefix + "cls_logits.bias", {A});
  bbox_weight_ = buffer.add(prefix + "bbox_pred.weight", {4 * A, C, 1, 1});
  bbox_bias_ = buffer.add(prefix + "bbox_pred.bias", {4 * A});
}

void RpnHead::initialize(Generator& generator) {
  for (int weight : {conv_weight_, cls_weight_, bbox_weight_}) {
    Tensor value = buffer_.value(weight);
    normal_(value, generator, 0.0f, 0.01f);
  }
  for (int bias : {conv_bias_, cls_bias_, bbox_bias_}) buffer_.value(bias).zero();
  buffer_.mark_changed();
}

void RpnHead::forward(const std::vector<Tensor>& features) {
  WISE_CHECK(!features.empty(), "RpnHead: expected at least one feature map");
  const size_t L = features.size();
  const int64_t N = features[0].size(0), A = num_anchors_;
  rows_per_level_.assign(L, 0);
  int64_t T = 0;
  for (size_t l = 0; l < L; ++l) {
    const Tensor& p = features[l];
    WISE_CHECK(p.rank() == 4 && p.size(0) == N && p.size(1) == in_channels_, "RpnHead: feature ", l,
               " must be (", N, ", ", in_channels_, ", H, W), got ", p.describe());
    rows_per_level_[l] = p.size(2) * p.size(3) * A;
    T += rows_per_level_[l];
  }
  features_ = features;
  hidden_.resize(L);
  level_objectness_.resize(L);
  level_deltas_.resize(L);
  const Device device = features[0].device();
  ensure_tensor(objectness_, {N, T}, DType::float32, device);
  ensure_tensor(pred_bbox_deltas_, {N, T, 4}, DType::float32, device);
  int64_t offset = 0;
  for (size_t l = 0; l < L; ++l) {
    conv2d_forward(features[l], buffer_.value(conv_weight_), buffer_.value(conv_bias_), kConv3x3,
                   hidden_[l], {/*relu=*/true});
    conv2d_forward(hidden_[l], buffer_.value(cls_weight_), buffer_.value(cls_bias_), kConv1x1,
                   level_objectness_[l]);
    conv2d_forward(hidden_[l], buffer_.value(bbox_weight_), buffer_.value(bbox_bias_), kConv1x1,
                   level_deltas_[l]);
    flatten_level(level_objectness_[l], offset, T, 1, objectness_);
    flatten_level(level_deltas_[l], offset, T, 4, pred_bbox_deltas_);
    offset += rows_per_level_[l];
  }
}

void RpnHead::backward(const Tensor& d_objectness, const Tensor& d_deltas,
                       std::vector<Tensor>& d_features) {
  const size_t L = features_.size();
  WISE_CHECK(L > 0 && d_features.size() == L, "RpnHead::backward: expected ", L,
             " feature gradient slots after a forward, got ", d_features.size());
  WISE_CHECK(!d_objectness.defined() || d_objectness.shape() == objectness_.shape(),
             "RpnHead::backward: d_objectness must have shape ", objectness_.shape(), ", got ",
             d_objectness.describe());
  WISE_CHECK(!d_deltas.defined() || d_deltas.shape() == pred_bbox_deltas_.shape(),
             "RpnHead::backward: d_deltas must have shape ", pred_bbox_deltas_.shape(), ", got ",
             d_deltas.describe());
  const int64_t T = objectness_.size(1);
  d_level_objectness_.resize(L);
  d_level_deltas_.resize(L);
  d_hidden_.resize(L);
  d_pre_activation_.resize(L);
  Tensor d_conv_weight = buffer_.gradient(conv_weight_), d_conv_bias = buffer_.gradient(conv_bias_);
  Tensor d_cls_weight = buffer_.gradient(cls_weight_), d_cls_bias = buffer_.gradient(cls_bias_);
  Tensor d_bbox_weight = buffer_.gradient(bbox_weight_), d_bbox_bias = buffer_.gradient(bbox_bias_);
  int64_t offset = 0;
  for (size_t l = 0; l < L; ++l) {
    const Tensor& hidden = hidden_[l];
    ensure_tensor(d_hidden_[l], hidden.shape(), DType::float32, hidden.device(), hidden.format());
    d_hidden_[l].zero();
    if (d_objectness.defined()) {
      unflatten_level(d_objectness, offset, T, 1, level_objectness_[l], d_level_objectness_[l]);
      conv2d_backward(hidden, buffer_.value(cls_weight_), d_level_objectness_[l], kConv1x1,
                      &d_hidden_[l], gradient_or_null(d_cls_weight), gradient_or_null(d_cls_bias));
    }
    if (d_deltas.defined()) {
      unflatten_level(d_deltas, offset, T, 4, level_deltas_[l], d_level_deltas_[l]);
      conv2d_backward(hidden, buffer_.value(bbox_weight_), d_level_deltas_[l], kConv1x1,
                      &d_hidden_[l], gradient_or_null(d_bbox_weight), gradient_or_null(d_bbox_bias));
    }
    // The 3x3 conv's ReLU was fused into its forward: its backward first.
    ensure_tensor(d_pre_activation_[l], hidden.shape(), DType::float32, hidden.device(),
                  hidden.format());
    d_pre_activation_[l].zero();
    relu_backward(hidden, d_hidden_[l], d_pre_activation_[l]);
    Tensor* d_feature = d_features[l].defined() ? &d_features[l] : nullptr;
    conv2d_backward(features_[l], buffer_.value(conv_weight_), d_pre_activation_[l], kConv3x3,
                    d_feature, gradient_or_null(d_conv_weight), gradient_or_null(d_conv_bias));
    offset += rows_per_level_[l];
  }
}

}  // namespace wise
