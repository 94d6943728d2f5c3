// Feature Pyramid Network (see fpn.h): torchvision's FeaturePyramidNetwork + LastLevelMaxPool.
#include "models/fpn.h"

#include "nn/conv2d.h"
#include "nn/ensure.h"
#include "nn/pooling.h"
#include "nn/resize_nearest.h"

namespace wise {

namespace {

constexpr Conv2dOptions kLateral{1, 0, 1};  // 1x1, stride 1, no padding
constexpr Conv2dOptions kOutput{1, 1, 1};   // 3x3, stride 1, padding 1
// LastLevelMaxPool: F.max_pool2d(P5, kernel 1, stride 2, padding 0), i.e. every other pixel.
constexpr MaxPool2dOptions kPool{1, 2, 0};

// A gradient view, or nullptr for a frozen parameter.
Tensor* gradient_or_null(Tensor& view) { return view.defined() ? &view : nullptr; }

void check_features(const FeaturePyramidNetwork& fpn, const std::vector<Shape>& shapes) {
  const int L = fpn.levels();
  WISE_CHECK(static_cast<int>(shapes.size()) == L, "feature_pyramid_network: expected ", L,
             " feature maps (one per in_channels_list entry), got ", shapes.size());
  for (int i = 0; i < L; ++i) {
    const Shape& s = shapes[static_cast<size_t>(i)];
    WISE_CHECK(s.rank() == 4 && s[1] == fpn.config.in_channels_list[static_cast<size_t>(i)] &&
                   s[2] > 0 && s[3] > 0 && s[0] == shapes[0][0],
               "feature_pyramid_network: feature ", i, " must be (N, ",
               fpn.config.in_channels_list[static_cast<size_t>(i)],
               ", H, W) with H, W > 0 and the first feature's N = ", shapes[0][0], ", got shape ", s);
  }
}

std::vector<Shape> shapes_of(const std::vector<Tensor>& tensors) {
  std::vector<Shape> shapes;
  for (const Tensor& tensor : tensors) shapes.push_back(tensor.shape());
  return shapes;
}

}  // namespace

FeaturePyramidNetwork declare_feature_pyramid_network(ParameterBuffer& parameters,
                                                      const std::string& prefix,
                                                      const FeaturePyramidNetworkConfig& config) {
  WISE_CHECK(!config.in_channels_list.empty(),
             "FeaturePyramidNetworkConfig: in_channels_list must not be empty");
  WISE_CHECK(config.out_channels > 0, "FeaturePyramidNetworkConfig: out_channels must be > 0, got ",
             config.out_channels);
  for (int64_t channels : config.in_channels_list) {
    // torchvision: "in_channels=0 is currently not supported".
    WISE_CHECK(channels > 0, "FeaturePyramidNetworkConfig: in_channels_list entries must be > 0, got ",
               channels);
  }
  FeaturePyramidNetwork fpn;
  fpn.config = config;
  const int L = fpn.levels();
  const int64_t out = config.out_channels;
  fpn.inner_weight.resize(static_cast<size_t>(L));
  fpn.inner_bias.resize(static_cast<size_t>(L));
  fpn.layer_weight.resize(static_cast<size_t>(L));
  fpn.layer_bias.resize(static_cast<size_t>(L));
  // torchvision's execution order: the coarsest level first (see fpn.h).
  for (int i = L - 1; i >= 0; --i) {
    const auto at = static_cast<size_t>(i);
    const std::string inner = prefix + "inner_blocks." + std::to_string(i) + ".0.";
    const std::string layer = prefix + "layer_blocks." + std::to_string(i) + ".0.";
    fpn.inner_weight[at] = parameters.add(inner + "weight", {out, config.in_channels_list[at], 1, 1});
    fpn.inner_bias[at] = parameters.add(inner + "bias", {out});
    fpn.layer_weight[at] = parameters.add(layer + "weight", {out, out, 3, 3});
    fpn.layer_bias[at] = parameters.add(layer + "bias", {out});
  }
  return fpn;
}

void init_feature_pyramid_network(const FeaturePyramidNetwork& fpn, ParameterBuffer& parameters,
                                  Generator& generator) {
  for (int i = fpn.levels() - 1; i >= 0; --i) {
    const auto at = static_cast<size_t>(i);
    for (int weight : {fpn.inner_weight[at], fpn.layer_weight[at]}) {
      Tensor value = parameters.value(weight);
      kaiming_uniform_(value, generator, /*a=*/1.0);
    }
    for (int bias : {fpn.inner_bias[at], fpn.layer_bias[at]}) parameters.value(bias).zero();
  }
}

std::vector<Shape> feature_pyramid_output_shapes(const FeaturePyramidNetwork& fpn,
                                                 const std::vector<Shape>& feature_shapes) {
  check_features(fpn, feature_shapes);
  std::vector<Shape> shapes;
  for (const Shape& s : feature_shapes) shapes.push_back({s[0], fpn.config.out_channels, s[2], s[3]});
  shapes.push_back(max_pool2d_output_shape(shapes.back(), kPool));
  return shapes;
}

void feature_pyramid_network_forward(const FeaturePyramidNetwork& fpn,
                                     const ParameterBuffer& parameters,
                                     const std::vector<Tensor>& features,
                                     FeaturePyramidActivations& activations) {
  check_features(fpn, shapes_of(features));
  const int L = fpn.levels();
  std::vector<Tensor>& inner = activations.inner;
  std::vector<Tensor>& outputs = activations.outputs;
  inner.resize(static_cast<size_t>(L));
  outputs.resize(static_cast<size_t>(L) + 1);

  // Top-down path, coarsest first.
  const auto top = static_cast<size_t>(L - 1);
  conv2d_forward(features[top], parameters.value(fpn.inner_weight[top]),
                 parameters.value(fpn.inner_bias[top]), kLateral, inner[top]);
  for (int i = L - 2; i >= 0; --i) {
    const auto at = static_cast<size_t>(i);
    const Tensor& feature = features[at];
    const Tensor weight = parameters.value(fpn.inner_weight[at]);
    // inner_i = lateral_i(C_i) + nearest(inner_{i+1}): the upsampled map goes straight
    // into the convolution's output buffer, in its layout, and the convolution adds onto it.
    ensure_tensor(inner[at], {feature.size(0), fpn.config.out_channels, feature.size(2), feature.size(3)},
                  DType::float32, feature.device(), conv2d_formats(feature, weight, kLateral).output);
    resize_nearest_forward(inner[at + 1], {feature.size(2), feature.size(3)}, inner[at]);
    conv2d_forward(feature, weight, parameters.value(fpn.inner_bias[at]), kLateral, inner[at],
                   {/*relu=*/false, /*add_to_output=*/true});
  }

  // Output 3x3 per level, then the pool level from the coarsest output.
  for (int i = 0; i < L; ++i) {
    const auto at = static_cast<size_t>(i);
    conv2d_forward(inner[at], parameters.value(fpn.layer_weight[at]),
                   parameters.value(fpn.layer_bias[at]), kOutput, outputs[at]);
  }
  max_pool2d_forward(outputs[top], kPool, outputs[top + 1], activations.pool_argmax);
}

void feature_pyramid_network_backward(const FeaturePyramidNetwork& fpn,
                                      ParameterBuffer& parameters,
                                      const std::vector<Tensor>& features,
                                      const FeaturePyramidActivations& activations,
                                      const std::vector<Tensor>& d_outputs,
                                      std::vector<Tensor>& d_features,
                                      FeaturePyramidGradients& gradients) {
  check_features(fpn, shapes_of(features));
  const int L = fpn.levels();
  const auto top = static_cast<size_t>(L - 1);
  WISE_CHECK(activations.inner.size() == static_cast<size_t>(L) &&
                 activations.outputs.size() == static_cast<size_t>(L) + 1,
             "feature_pyramid_network_backward: activations hold ", activations.inner.size(),
             " inner maps and ", activations.outputs.size(), " outputs, expected ", L, " and ", L + 1,
             " (run feature_pyramid_network_forward first)");
  WISE_CHECK(d_outputs.size() == static_cast<size_t>(L) + 1, "feature_pyramid_network_backward: expected ",
             L + 1, " output gradients (P_0..P_", L - 1, " and the pool level), got ", d_outputs.size());
  WISE_CHECK(d_features.size() == static_cast<size_t>(L), "feature_pyramid_network_backward: expected ", L,
             " feature gradient slots (undefined = not wanted), got ", d_features.size());
  for (size_t i = 0; i <= top + 1; ++i) {
    const Tensor& d_output = d_outputs[i];
    WISE_CHECK(!d_output.defined() || d_output.shape() == activations.outputs[i].shape(),
               "feature_pyramid_network_backward: d_outputs[", i, "] must have output ", i, "'s shape ",
               activations.outputs[i].shape(), ", got ", d_output.describe());
  }

  // The coarsest output's gradient: its own plus what the pool level routes back.
  std::vector<Tensor> d_level(d_outputs.begin(), d_outputs.begin() + L);
  if (d_outputs[top + 1].defined()) {
    const Tensor& output = activations.outputs[top];
    Tensor& d_last = gradients.d_last_output;
    ensure_tensor(d_last, output.shape(), DType::float32, output.device(), output.format());
    if (d_level[top].defined()) {
      d_last.copy_from(d_level[top].to_format(output.format()));
    } else {
      d_last.zero();
    }
    max_pool2d_backward(d_outputs[top + 1], activations.pool_argmax, kPool, d_last);
    d_level[top] = d_last;
  }

  // Finest first: inner_i's gradient is complete once level i - 1 has sent its part down.
  std::vector<Tensor>& d_inner = gradients.d_inner;
  d_inner.resize(static_cast<size_t>(L));
  for (size_t i = 0; i <= top; ++i) {
    const Tensor& inner = activations.inner[i];
    ensure_tensor(d_inner[i], inner.shape(), DType::float32, inner.device(), inner.format());
    d_inner[i].zero();
  }
  for (size_t i = 0; i <= top; ++i) {
    if (d_level[i].defined()) {
      Tensor d_weight = parameters.gradient(fpn.layer_weight[i]);
      Tensor d_bias = parameters.gradient(fpn.layer_bias[i]);
      conv2d_backward(activations.inner[i], parameters.value(fpn.layer_weight[i]), d_level[i], kOutput,
                      &d_inner[i], gradient_or_null(d_weight), gradient_or_null(d_bias));
    }
    Tensor d_weight = parameters.gradient(fpn.inner_weight[i]);
    Tensor d_bias = parameters.gradient(fpn.inner_bias[i]);
    Tensor* d_feature = d_features[i].defined() ? &d_features[i] : nullptr;
    conv2d_backward(features[i], parameters.value(fpn.inner_weight[i]), d_inner[i], kLateral, d_feature,
                    gradient_or_null(d_weight), gradient_or_null(d_bias));
    // inner_i = lateral_i(C_i) + nearest(inner_{i+1}): the top-down term's transpose.
    if (i < top) resize_nearest_backward(d_inner[i], d_inner[i + 1]);
  }
}

}  // namespace wise
