// The Feature Pyramid Network alone (models/fpn.h): parameter names and layout, the
// initialisation's bounds, output shapes at odd sizes, a hand-computed pyramid,
// gradients by finite differences (features and every parameter), undefined output
// gradients counting as zero, and named errors. Parity with torchvision:
// fpn_parity_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "models/fpn.h"
#include "tests/support/compare.h"
#include "tests/support/errors.h"
#include "tests/support/gradient_checker.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

using ::testing::HasSubstr;

TEST(FpnParameters, HaveTorchvisionNamesShapesAndExecutionOrder) {
  ParameterBuffer parameters;
  const FeaturePyramidNetwork fpn =
      declare_feature_pyramid_network(parameters, "backbone.fpn.", {{8, 16, 32}, 4});
  ASSERT_EQ(parameters.size(), 12);
  const std::vector<std::string> expected = {
      "backbone.fpn.inner_blocks.2.0.weight", "backbone.fpn.inner_blocks.2.0.bias",
      "backbone.fpn.layer_blocks.2.0.weight", "backbone.fpn.layer_blocks.2.0.bias",
      "backbone.fpn.inner_blocks.1.0.weight", "backbone.fpn.inner_blocks.1.0.bias",
      "backbone.fpn.layer_blocks.1.0.weight", "backbone.fpn.layer_blocks.1.0.bias",
      "backbone.fpn.inner_blocks.0.0.weight", "backbone.fpn.inner_blocks.0.0.bias",
      "backbone.fpn.layer_blocks.0.0.weight", "backbone.fpn.layer_blocks.0.0.bias"};
  for (int i = 0; i < parameters.size(); ++i) EXPECT_EQ(parameters.name(i), expected[static_cast<size_t>(i)]);
  parameters.allocate(Device::cpu);
  EXPECT_EQ(parameters.value(fpn.inner_weight[1]).shape(), Shape({4, 16, 1, 1}));
  EXPECT_EQ(parameters.value(fpn.layer_weight[0]).shape(), Shape({4, 4, 3, 3}));
  EXPECT_EQ(parameters.value(fpn.layer_bias[2]).shape(), Shape({4}));
  EXPECT_EQ(parameters.index_of("backbone.fpn.inner_blocks.0.0.weight"), fpn.inner_weight[0]);
  // Reverse layout: P2's 3x3 (finished first by backward) at the front of the buffer.
  EXPECT_EQ(parameters.offset(fpn.layer_bias[0]), 0);
}

TEST(FpnParameters, InitialiseAsTorchvisionKaimingUniformAOneAndZeroBias) {
  ParameterBuffer parameters;
  const FeaturePyramidNetwork fpn = declare_feature_pyramid_network(parameters, "", {{8, 64}, 16});
  parameters.allocate(Device::cpu);
  Generator generator{7, 0};
  init_feature_pyramid_network(fpn, parameters, generator);
  for (int level = 0; level < 2; ++level) {
    const auto at = static_cast<size_t>(level);
    for (int weight : {fpn.inner_weight[at], fpn.layer_weight[at]}) {
      const Tensor value = parameters.value(weight);
      // kaiming_uniform_(a=1): gain sqrt(2 / (1 + 1)) = 1, bound sqrt(3 / fan_in).
      const double fan_in = static_cast<double>(value.size(1) * value.size(2) * value.size(3));
      const double bound = std::sqrt(3.0 / fan_in);
      double max_abs = 0.0, sum_squares = 0.0;
      for (float v : host_floats(value)) {
        max_abs = std::max(max_abs, std::fabs(static_cast<double>(v)));
        sum_squares += static_cast<double>(v) * v;
      }
      EXPECT_LE(max_abs, bound) << parameters.name(weight);
      EXPECT_GT(max_abs, 0.8 * bound) << parameters.name(weight);
      // U(-b, b) has variance b^2 / 3.
      EXPECT_NEAR(sum_squares / static_cast<double>(value.numel()), bound * bound / 3.0, 0.25 * bound * bound / 3.0)
          << parameters.name(weight);
    }
    for (int bias : {fpn.inner_bias[at], fpn.layer_bias[at]}) {
      EXPECT_TRUE(all_close(host_floats(parameters.value(bias)), std::vector<double>(16, 0.0), kExact));
    }
  }
}

TEST(FpnShapes, FollowEachFeatureAndPoolTheCoarsestByTwoRoundingUp) {
  ParameterBuffer parameters;
  const FeaturePyramidNetwork fpn = declare_feature_pyramid_network(parameters, "", {{8, 16, 32, 64}, 16});
  const std::vector<Shape> shapes = feature_pyramid_output_shapes(
      fpn, {{2, 8, 17, 13}, {2, 16, 9, 7}, {2, 32, 5, 4}, {2, 64, 3, 2}});
  ASSERT_EQ(shapes.size(), 5u);
  EXPECT_EQ(shapes[0], Shape({2, 16, 17, 13}));
  EXPECT_EQ(shapes[3], Shape({2, 16, 3, 2}));
  EXPECT_EQ(shapes[4], Shape({2, 16, 2, 1}));  // max_pool2d(kernel 1, stride 2): (3 - 1) / 2 + 1
}

// One channel everywhere, identity convolutions by hand: lateral weight 1, bias b_i;
// output 3x3 with only the centre tap 1 and bias 0. Then P_i = inner_i and by hand:
//   inner_1 = C_1 + 1 (2 x 2), inner_0 = C_0 + 2 + nearest(inner_1, 3 x 3),
// nearest 2 -> 3 taking rows/columns [0, 0, 1] (floor(dst * 2/3)); pool = inner_1[::2, ::2].
TEST(FpnForward, MatchesAHandComputedPyramid) {
  ParameterBuffer parameters;
  const FeaturePyramidNetwork fpn = declare_feature_pyramid_network(parameters, "", {{1, 1}, 1});
  parameters.allocate(Device::cpu);
  for (int level = 0; level < 2; ++level) {
    const auto at = static_cast<size_t>(level);
    parameters.value(fpn.inner_weight[at]).fill(1.0f);
    parameters.value(fpn.inner_bias[at]).fill(2.0f - static_cast<float>(level));
    Tensor layer = parameters.value(fpn.layer_weight[at]);
    layer.copy_from(Tensor::from_vector<float>({1, 1, 3, 3}, {0, 0, 0, 0, 1, 0, 0, 0, 0}));
  }
  const Tensor c0 = Tensor::from_vector<float>({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  const Tensor c1 = Tensor::from_vector<float>({1, 1, 2, 2}, {10, 20, 30, 40});
  FeaturePyramidActivations activations;
  feature_pyramid_network_forward(fpn, parameters, {c0, c1}, activations);
  ASSERT_EQ(activations.outputs.size(), 3u);
  // inner_1 = [[11, 21], [31, 41]]; nearest to 3x3 = [[11, 11, 21], [11, 11, 21], [31, 31, 41]].
  EXPECT_TRUE(all_close(host_floats(activations.outputs[1]), {11, 21, 31, 41}, kExact));
  EXPECT_TRUE(all_close(host_floats(activations.outputs[0]),
                        {1 + 2 + 11, 2 + 2 + 11, 3 + 2 + 21, 4 + 2 + 11, 5 + 2 + 11, 6 + 2 + 21,
                         7 + 2 + 31, 8 + 2 + 31, 9 + 2 + 41},
                        {1e-6, 1e-6}));
  EXPECT_TRUE(all_close(host_floats(activations.outputs[2]), {11}, kExact));
}

// The op the gradient checker sees: inputs = the L features, then every parameter in
// declaration order; outputs = P_0..P_L.
DifferentiableOp fpn_op(const FeaturePyramidNetworkConfig& config, const std::vector<Shape>& feature_shapes,
                        uint64_t seed) {
  auto parameters = std::make_shared<ParameterBuffer>();
  auto fpn = std::make_shared<FeaturePyramidNetwork>(declare_feature_pyramid_network(*parameters, "", config));
  parameters->allocate(Device::cpu);
  auto activations = std::make_shared<FeaturePyramidActivations>();
  auto scratch = std::make_shared<FeaturePyramidGradients>();
  const size_t L = feature_shapes.size();

  DifferentiableOp op;
  op.name = "feature_pyramid_network";
  for (size_t i = 0; i < L; ++i) {
    op.inputs.push_back(on_device(random_floats(feature_shapes[i].numel(), seed + i), feature_shapes[i], Device::cpu));
  }
  for (int p = 0; p < parameters->size(); ++p) {
    const Shape shape = parameters->value(p).shape();
    // Weights ~ U(-0.5, 0.5), biases too: non-zero everywhere.
    op.inputs.push_back(on_device(random_floats(shape.numel(), seed + 100 + static_cast<uint64_t>(p), -0.5f, 0.5f),
                                  shape, Device::cpu));
  }
  op.forward = [=](const std::vector<Tensor>& in, uint64_t) {
    for (int p = 0; p < parameters->size(); ++p) parameters->value(p).copy_from(in[L + static_cast<size_t>(p)]);
    const std::vector<Tensor> features(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(L));
    feature_pyramid_network_forward(*fpn, *parameters, features, *activations);
    std::vector<Tensor> outputs;
    for (const Tensor& output : activations->outputs) outputs.push_back(output.to_format(MemoryFormat::plain));
    return outputs;
  };
  op.backward = [=](const std::vector<Tensor>& in, const std::vector<Tensor>&, const std::vector<Tensor>& d_out,
                    std::vector<Tensor>& d_in, uint64_t) {
    const std::vector<Tensor> features(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(L));
    std::vector<Tensor> d_features(d_in.begin(), d_in.begin() + static_cast<std::ptrdiff_t>(L));
    parameters->zero_gradients();
    feature_pyramid_network_backward(*fpn, *parameters, features, *activations, d_out, d_features, *scratch);
    for (int p = 0; p < parameters->size(); ++p) {
      Tensor& d_parameter = d_in[L + static_cast<size_t>(p)];
      const std::vector<float> gradient = host_floats(parameters->gradient(p));
      std::vector<float> sum = host_floats(d_parameter);
      for (size_t k = 0; k < sum.size(); ++k) sum[k] += gradient[k];
      d_parameter.copy_from(Tensor::from_vector(d_parameter.shape(), sum));
    }
  };
  return op;
}

TEST(FpnBackward, GradientsMatchFiniteDifferencesAtOddSizes) {
  GradientCheckOptions options;
  options.seed = seed_from_name("FpnBackward.GradientsMatchFiniteDifferencesAtOddSizes");
  options.max_checks_per_input = 24;
  SCOPED_TRACE(::testing::Message() << "seed " << options.seed);
  // Odd sizes: 7 x 5 above 4 x 3 (2h - 1 rows, 2w - 1 columns), 4 x 3 above 2 x 2, and a
  // 2 x 2 above 1 x 1 (an even 2 x 2 upsampling); 20 channels use blocked padding.
  const DifferentiableOp op =
      fpn_op({{3, 5, 20, 4}, 6}, {{2, 3, 7, 5}, {2, 5, 4, 3}, {2, 20, 2, 2}, {2, 4, 1, 1}}, options.seed);
  EXPECT_TRUE(gradients_match(check_gradients(op, options)));
}

// An undefined output gradient counts as zero: the same gradients as explicit zeros.
TEST(FpnBackward, UndefinedOutputGradientsCountAsZero) {
  ParameterBuffer parameters;
  const FeaturePyramidNetwork fpn = declare_feature_pyramid_network(parameters, "", {{4, 8, 8}, 8});
  parameters.allocate(Device::cpu);
  Generator generator{3, 0};
  init_feature_pyramid_network(fpn, parameters, generator);
  const std::vector<Shape> shapes{{1, 4, 9, 11}, {1, 8, 5, 6}, {1, 8, 3, 3}};
  std::vector<Tensor> features;
  for (size_t i = 0; i < shapes.size(); ++i) {
    features.push_back(on_device(random_floats(shapes[i].numel(), 50 + i), shapes[i], Device::cpu));
  }
  FeaturePyramidActivations activations;
  feature_pyramid_network_forward(fpn, parameters, features, activations);

  // Gradients only at P_1 and at the pool level.
  const std::vector<Shape> outputs = feature_pyramid_output_shapes(fpn, shapes);
  std::vector<Tensor> sparse(4), dense(4);
  for (size_t i = 0; i < 4; ++i) dense[i] = Tensor::zeros(outputs[i]);
  for (size_t i : {1u, 3u}) {
    sparse[i] = on_device(random_floats(outputs[i].numel(), 60 + i), outputs[i], Device::cpu);
    dense[i] = sparse[i];
  }
  std::vector<std::vector<float>> feature_gradients[2], parameter_gradients(2);
  int run = 0;
  for (const std::vector<Tensor>* d_outputs : {&sparse, &dense}) {
    parameters.zero_gradients();
    std::vector<Tensor> d_features;
    for (const Shape& shape : shapes) d_features.push_back(Tensor::zeros(shape));
    FeaturePyramidGradients scratch;
    feature_pyramid_network_backward(fpn, parameters, features, activations, *d_outputs, d_features, scratch);
    for (const Tensor& d : d_features) feature_gradients[run].push_back(host_floats(d));
    parameter_gradients[static_cast<size_t>(run)] = host_floats(parameters.trainable_gradients());
    ++run;
  }
  for (size_t i = 0; i < shapes.size(); ++i) {
    EXPECT_TRUE(bitwise_equal(feature_gradients[0][i], feature_gradients[1][i])) << "d_C" << i;
  }
  EXPECT_TRUE(bitwise_equal(parameter_gradients[0], parameter_gradients[1]));
  // And not trivially: P_1's gradient reaches C_1 and, through the top-down path, C_2
  // (via the pool level too); none reaches C_0, which only feeds P_0.
  for (size_t i = 0; i < shapes.size(); ++i) {
    double norm = 0.0;
    for (float v : feature_gradients[0][i]) norm += std::fabs(v);
    if (i == 0) {
      EXPECT_EQ(norm, 0.0) << "d_C0";
    } else {
      EXPECT_GT(norm, 0.0) << "d_C" << i;
    }
  }
}

TEST(FpnErrors, NameTheFeatureAndWhatWasExpected) {
  ParameterBuffer parameters;
  const FeaturePyramidNetwork fpn = declare_feature_pyramid_network(parameters, "", {{4, 8}, 8});
  parameters.allocate(Device::cpu);
  FeaturePyramidActivations activations;
  const Tensor c0 = Tensor::zeros({1, 4, 6, 6}), c1 = Tensor::zeros({1, 8, 3, 3});
  EXPECT_THAT(error_of([&] { feature_pyramid_network_forward(fpn, parameters, {c0}, activations); }),
              HasSubstr("expected 2 feature maps (one per in_channels_list entry), got 1"));
  EXPECT_THAT(error_of([&] {
                feature_pyramid_network_forward(fpn, parameters, {c0, Tensor::zeros({1, 6, 3, 3})}, activations);
              }),
              HasSubstr("feature 1 must be (N, 8, H, W)"));
  EXPECT_THAT(error_of([&] {
                feature_pyramid_network_forward(fpn, parameters, {c0, Tensor::zeros({2, 8, 3, 3})}, activations);
              }),
              HasSubstr("got shape [2, 8, 3, 3]"));
  feature_pyramid_network_forward(fpn, parameters, {c0, c1}, activations);
  std::vector<Tensor> d_features(2);
  FeaturePyramidGradients scratch;
  EXPECT_THAT(error_of([&] {
                feature_pyramid_network_backward(fpn, parameters, {c0, c1}, activations, {Tensor(), Tensor()},
                                                 d_features, scratch);
              }),
              HasSubstr("expected 3 output gradients"));
  EXPECT_THAT(error_of([&] {
                feature_pyramid_network_backward(fpn, parameters, {c0, c1}, activations,
                                                 {Tensor::zeros({1, 8, 5, 5}), Tensor(), Tensor()}, d_features,
                                                 scratch);
              }),
              HasSubstr("d_outputs[0] must have output 0's shape [1, 8, 6, 6]"));
  EXPECT_THAT(error_of([] {
                ParameterBuffer unused;
                declare_feature_pyramid_network(unused, "", {{4, 0}, 8});
              }),
              HasSubstr("in_channels_list entries must be > 0, got 0"));
}

}  // namespace
}  // namespace wise::testing
