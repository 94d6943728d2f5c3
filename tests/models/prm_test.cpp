// The PRM classifier (models/prm.h) against tests/fixtures/families/prm.py: the same
// network (ResNet-18 at width 1/8 with hashed weights and resnet.safetensors' calibrated
// statistics, a 1x1 classifier to 3 class maps) in float64 torch.
//  - training: CAMs, PSL class scores, the multilabel soft-margin loss, dL/d_images and
//    weight gradients (classifier, stem, two downsamples);
//  - inference: the x8 align-corners CAMs, their peaks (exact), class scores, and PRM's
//    peak response maps of three peaks (one-hot at the upsampled peak, PRM's rule at every
//    convolution), both normalised by the sum and as the clamped channel sum;
//  - the kept-peak filter, batch_norm == frozen_batch_norm under the rule, and a
//    finite-difference check of the classifier head (1x1 conv -> PSL -> loss).
// Tolerance: max |ours - torch| <= 1e-4 * max |torch| per tensor (float32 through 20
// convolutions against float64, as tests/models/resnet_parity_test.cpp), 1e-3 for the
// peak response maps: each convolution divides by its positive response z, and the 20
// divisions compound float32 rounding (observed ~1e-5 of the maximum).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "models/prm.h"
#include "nn/conv2d.h"
#include "tests/support/compare.h"
#include "tests/support/devices.h"
#include "tests/support/fixtures.h"
#include "tests/support/gradient_checker.h"
#include "tests/support/hashed_weights.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise {
namespace {

using testing::Fixture;

::testing::AssertionResult relatively_close(const Tensor& actual, const std::vector<float>& expected,
                                            const std::string& what, double relative) {
  double scale = 0.0;
  const std::vector<double> reference(expected.begin(), expected.end());
  for (double value : reference) scale = std::max(scale, std::abs(value));
  const Tensor plain = actual.to(Device::cpu).to_format(MemoryFormat::plain);
  auto result = testing::all_close(plain.to_vector<float>(), reference, {0.0, relative * scale});
  if (!result) result << " (" << what << ", max |expected| " << scale << ")";
  return result;
}

PrmConfig fixture_config(Normalization norm) {
  PrmConfig config;
  config.backbone.depth = 18;
  config.backbone.width_multiplier = 0.125;
  config.backbone.norm = norm;
  config.backbone.trainable_layers = 5;
  config.backbone.image_gradient = true;
  config.num_classes = 3;
  config.class_threshold = -std::numeric_limits<float>::infinity();  // keep every peak
  config.peak_threshold = -std::numeric_limits<float>::infinity();
  return config;
}

struct FixtureModel {
  explicit FixtureModel(Device device, const PrmConfig& config = fixture_config(Normalization::frozen_batch_norm))
      : fixture(testing::load_fixture("prm")), model(config, buffer) {
    buffer.allocate(device);
    testing::load_hashed_weights(buffer, testing::load_fixture("resnet"), "resnet18.stats.");
    images = testing::hashed("prm.input", {2, 3, 72, 72}, -1.0, 1.0).to(device);
  }
  Fixture fixture;
  ParameterBuffer buffer;
  PrmClassifier model;
  Tensor images;
};

class PrmParity : public ::testing::TestWithParam<Device> {
 protected:
  void SetUp() override { WISE_SKIP_IF_UNAVAILABLE(GetParam()); }
  Device device() const { return GetParam(); }
};

TEST_P(PrmParity, TrainingScoresLossAndGradients) {
  FixtureModel net(device());
  const Tensor& scores = net.model.forward_training(net.images);
  EXPECT_TRUE(relatively_close(net.model.class_maps(), net.fixture.floats("train.cams"), "cams", 1e-4));
  EXPECT_TRUE(relatively_close(scores, net.fixture.floats("train.scores"), "scores", 1e-4));
  const Tensor targets = Tensor::from_vector<float>({2, 3}, {1, 0, 1, 0, 1, 0}).to(device());
  const Tensor& loss = net.model.loss(targets);
  EXPECT_TRUE(relatively_close(loss, net.fixture.floats("train.loss"), "loss", 1e-5));

  net.buffer.zero_gradients();
  Tensor d_images = Tensor::zeros(net.images.shape(), DType::float32, device());
  net.model.backward_loss(&d_images);
  EXPECT_TRUE(relatively_close(d_images.to(Device::cpu).view(0, {3, 72, 72}), net.fixture.floats("train.d_input0"),
                               "d_input0", 1e-4));
  int checked = 0;
  for (const auto& [name, value] : net.buffer.named_values()) {
    if (!net.fixture.has("train.grad." + name)) continue;
    ++checked;
    EXPECT_TRUE(relatively_close(net.buffer.gradient(net.buffer.index_of(name)),
                                 net.fixture.floats("train.grad." + name), name, 1e-4));
  }
  EXPECT_EQ(checked, 5);
}

TEST_P(PrmParity, InferencePeaksAndPeakResponseMaps) {
  FixtureModel net(device());
  const PrmInference out = net.model.infer(net.images, true);
  EXPECT_TRUE(relatively_close(out.upsampled_maps, net.fixture.floats("infer.upsampled"), "upsampled", 1e-4));
  EXPECT_EQ(out.peaks.to_vector<int64_t>(), net.fixture.int64s("infer.peaks"));
  EXPECT_TRUE(relatively_close(out.scores, net.fixture.floats("infer.scores"), "scores", 1e-4));
  ASSERT_EQ(out.kept.size(), static_cast<size_t>(out.peaks.size(0)));  // thresholds at -inf
  const int64_t P = out.peaks.size(0);
  ASSERT_EQ(out.response_maps.shape(), Shape({P, 72, 72}));
  const std::vector<int64_t> selected = net.fixture.int64s("infer.selected");
  const Tensor maps = out.response_maps.to(Device::cpu);
  for (size_t s = 0; s < selected.size(); ++s) {
    const std::string name = "infer.map." + std::to_string(s);
    EXPECT_TRUE(relatively_close(maps.view(selected[s] * 72 * 72, {72, 72}), net.fixture.floats(name), name, 1e-3));
  }
}

TEST_P(PrmParity, UnnormalisedMapIsTheClampedChannelSum) {
  PrmConfig config = fixture_config(Normalization::frozen_batch_norm);
  config.response_normalization = PeakResponseNormalization::none;
  FixtureModel net(device(), config);
  const PrmInference out = net.model.infer(net.images, true);
  // The first selected peak's image gradient (3, 72, 72), summed over channels, clamped.
  const std::vector<float> gradient = net.fixture.floats("infer.d_input.0");
  std::vector<float> expected(72 * 72);
  for (size_t p = 0; p < expected.size(); ++p) {
    const double total = double(gradient[p]) + gradient[p + 5184] + gradient[p + 2 * 5184];
    expected[p] = static_cast<float>(std::max(total, 0.0));
  }
  const int64_t row = net.fixture.int64s("infer.selected")[0];
  EXPECT_TRUE(relatively_close(out.response_maps.to(Device::cpu).view(row * 5184, {72, 72}), expected,
                               "clamped channel sum", 1e-3));
}

TEST_P(PrmParity, KeptPeaksPassBothThresholds) {
  PrmConfig config = fixture_config(Normalization::frozen_batch_norm);
  config.class_threshold = 3.65f;  // between the fixture's class scores
  config.peak_threshold = 3.0f;
  FixtureModel net(device(), config);
  const PrmInference out = net.model.infer(net.images, false);
  EXPECT_FALSE(out.response_maps.defined());
  const std::vector<int64_t> peaks = net.fixture.int64s("infer.peaks");
  const std::vector<float> scores = net.fixture.floats("infer.scores");
  const std::vector<float> maps = net.fixture.floats("infer.upsampled");
  std::vector<int64_t> expected;
  for (size_t p = 0; p < peaks.size() / 4; ++p) {
    const int64_t n = peaks[4 * p], c = peaks[4 * p + 1], y = peaks[4 * p + 2], x = peaks[4 * p + 3];
    if (scores[n * 3 + c] >= 3.65f && maps[((n * 3 + c) * 24 + y) * 24 + x] > 3.0f) expected.push_back(p);
  }
  EXPECT_FALSE(expected.empty());
  EXPECT_LT(expected.size(), peaks.size() / 4);
  EXPECT_EQ(out.kept, expected);
}

// kept_peak_fraction keeps a peak at >= the fraction of its map's maximum (taken here
// over the whole fixture map, where the model takes its largest peak: the same value, as
// a map's maximum is one of its 3x3 maxima) and every peak of a map whose maximum is <= 0.
TEST_P(PrmParity, KeptPeaksReachTheirFractionOfTheMapsMaximum) {
  PrmConfig config = fixture_config(Normalization::frozen_batch_norm);
  config.class_threshold = -std::numeric_limits<float>::infinity();
  config.peak_threshold = -std::numeric_limits<float>::infinity();
  config.kept_peak_fraction = 0.6f;
  FixtureModel net(device(), config);
  const PrmInference out = net.model.infer(net.images, false);
  const std::vector<int64_t> peaks = net.fixture.int64s("infer.peaks");
  const std::vector<float> maps = net.fixture.floats("infer.upsampled");
  std::vector<int64_t> expected;
  for (size_t p = 0; p < peaks.size() / 4; ++p) {
    const int64_t n = peaks[4 * p], c = peaks[4 * p + 1], y = peaks[4 * p + 2], x = peaks[4 * p + 3];
    const float* map = maps.data() + (n * 3 + c) * 24 * 24;
    const float maximum = *std::max_element(map, map + 24 * 24);
    if (maximum <= 0.0f || map[y * 24 + x] >= 0.6f * maximum) expected.push_back(static_cast<int64_t>(p));
  }
  EXPECT_FALSE(expected.empty());
  EXPECT_LT(expected.size(), peaks.size() / 4);
  EXPECT_EQ(out.kept, expected);
}

// dominant_peaks keeps a peak only where no other class passing the class threshold (here
// every class) has a higher upsampled map (checked on the fixture's maps).
TEST_P(PrmParity, DominantPeaksAreTheHighestMapOfTheClassesPassingTheThreshold) {
  PrmConfig config = fixture_config(Normalization::frozen_batch_norm);
  config.class_threshold = -std::numeric_limits<float>::infinity();  // every class competes
  config.peak_threshold = -std::numeric_limits<float>::infinity();
  config.dominant_peaks = true;
  FixtureModel net(device(), config);
  const PrmInference out = net.model.infer(net.images, false);
  const std::vector<int64_t> peaks = net.fixture.int64s("infer.peaks");
  const std::vector<float> maps = net.fixture.floats("infer.upsampled");
  std::vector<int64_t> expected;
  int64_t outscored = 0;
  for (size_t p = 0; p < peaks.size() / 4; ++p) {
    const int64_t n = peaks[4 * p], c = peaks[4 * p + 1], y = peaks[4 * p + 2], x = peaks[4 * p + 3];
    bool highest = true;
    for (int64_t j = 0; j < 3; ++j) {
      if (j != c && maps[((n * 3 + j) * 24 + y) * 24 + x] > maps[((n * 3 + c) * 24 + y) * 24 + x])
        highest = false;
    }
    if (highest) expected.push_back(static_cast<int64_t>(p));
    else ++outscored;
  }
  EXPECT_FALSE(expected.empty());
  EXPECT_GT(outscored, 0);  // the rule is exercised
  EXPECT_EQ(out.kept, expected);
}

// A batch_norm backbone runs its running statistics under the rule, folded like a frozen
// one: the same maps as frozen_batch_norm with the same weights (and, after a training
// forward, still the same: the rule never sees batch statistics).
TEST_P(PrmParity, BatchNormMatchesFrozenBatchNormUnderTheRule) {
  FixtureModel frozen(device());
  FixtureModel batch(device(), fixture_config(Normalization::batch_norm));
  const PrmInference a = frozen.model.infer(frozen.images, true);
  batch.model.forward_training(batch.images);  // moves the running statistics
  testing::load_hashed_weights(batch.buffer, testing::load_fixture("resnet"), "resnet18.stats.");
  const PrmInference b = batch.model.infer(batch.images, true);
  EXPECT_EQ(a.peaks.to_vector<int64_t>(), b.peaks.to_vector<int64_t>());
  const std::vector<float> expected = a.response_maps.to(Device::cpu).to_vector<float>();
  EXPECT_TRUE(relatively_close(b.response_maps, expected, "batch_norm maps", 1e-4));
}

// infer() computes one peak of every image per backward pass; the rule is per sample, so
// the maps of the two-image batch are the maps each image gives alone.
TEST_P(PrmParity, BatchedMapsEqualOneImageAtATime) {
  FixtureModel net(device());
  const PrmInference both = net.model.infer(net.images, true);
  const Tensor all = both.response_maps.to(Device::cpu);
  const std::vector<int64_t> peaks = both.peaks.to_vector<int64_t>();
  int64_t first_of_image = 0;
  for (int64_t n = 0; n < 2; ++n) {
    const Tensor image = net.images.to(Device::cpu).view(n * 3 * 72 * 72, {1, 3, 72, 72}).clone().to(device());
    const PrmInference alone = net.model.infer(image, true);
    const int64_t P = alone.peaks.size(0);
    ASSERT_GT(P, 1) << "image " << n << ": the case needs several peaks per image";
    for (int64_t p = 0; p < P; ++p) ASSERT_EQ(peaks[4 * (first_of_image + p)], n);
    const std::vector<float> expected = alone.response_maps.to(Device::cpu).to_vector<float>();
    EXPECT_TRUE(relatively_close(all.view(first_of_image * 5184, {P, 72, 72}), expected,
                                 "image " + std::to_string(n), 1e-5));
    first_of_image += P;
  }
  EXPECT_EQ(first_of_image, both.peaks.size(0));
}

TEST_P(PrmParity, GroupNormMapsAreDistributions) {
  PrmConfig config = fixture_config(Normalization::group_norm);
  ParameterBuffer buffer;
  PrmClassifier model(config, buffer);
  buffer.allocate(device());
  Generator generator{7, 0};
  model.initialize(generator);
  const Tensor images = testing::hashed("prm.input", {1, 3, 72, 72}, -1.0, 1.0).to(device());
  const PrmInference out = model.infer(images, true);
  ASSERT_GT(out.kept.size(), 0u);
  const std::vector<float> maps = out.response_maps.to(Device::cpu).to_vector<float>();
  for (size_t k = 0; k < out.kept.size(); ++k) {
    double total = 0.0;
    for (int64_t p = 0; p < 5184; ++p) {
      const float value = maps[k * 5184 + p];
      ASSERT_TRUE(std::isfinite(value) && value >= 0.0f);
      total += value;
    }
    EXPECT_NEAR(total, 1.0, 1e-4) << "peak " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, PrmParity, ::testing::ValuesIn(testing::all_devices()),
                         [](const ::testing::TestParamInfo<Device>& row) {
                           return std::string(kernels::device_name(row.param));
                         });

// Finite differences through the classifier head as the model composes it: C5 -> 1x1
// conv with bias -> PSL (mean gradient: PRM's backward omits 1 / N, which is not a
// gradient) -> multilabel soft margin. Inputs: C5 (2, 16, 5, 4), weight (3, 16, 1, 1),
// bias (3). The peak set is piecewise constant in the inputs; with a step of 1e-3 and
// distinct random maps no perturbation here changes it.
TEST(PrmHead, FiniteDifferences) {
  const Device device = Device::cpu;
  const uint64_t seed = testing::seed_from_name("PrmHead.FiniteDifferences");
  PeakStimulationOptions psl;
  psl.gradient = PeakGradient::mean;
  const Tensor targets = Tensor::from_vector<float>({2, 3}, {1, 0, 1, 0, 1, 1});
  testing::DifferentiableOp op;
  op.name = "prm_head";
  op.inputs = {testing::on_device(testing::random_floats(2 * 16 * 5 * 4, seed), {2, 16, 5, 4}, device),
               testing::on_device(testing::random_floats(3 * 16, seed + 1), {3, 16, 1, 1}, device),
               testing::on_device(testing::random_floats(3, seed + 2), {3}, device)};
  const Conv2dOptions conv{1, 0, 1};
  op.forward = [=](const std::vector<Tensor>& in, uint64_t) {
    Tensor maps, peaks, values, scores, mask, counts, loss;
    conv2d_forward(in[0], in[1], in[2], conv, maps);
    const Tensor plain = maps.to_format(MemoryFormat::plain);
    peak_stimulation_forward(plain, psl, peaks, values, scores, mask, counts);
    multilabel_soft_margin_forward(scores, targets, Tensor(), {}, loss);
    return std::vector<Tensor>{loss};
  };
  op.backward = [=](const std::vector<Tensor>& in, const std::vector<Tensor>&, const std::vector<Tensor>& d_out,
                    std::vector<Tensor>& d_in, uint64_t) {
    Tensor maps, peaks, values, scores, mask, counts;
    conv2d_forward(in[0], in[1], in[2], conv, maps);
    const Tensor plain = maps.to_format(MemoryFormat::plain);
    peak_stimulation_forward(plain, psl, peaks, values, scores, mask, counts);
    Tensor d_scores = Tensor::zeros(scores.shape());
    multilabel_soft_margin_backward(d_out[0], scores, targets, Tensor(), {}, d_scores);
    Tensor d_maps = Tensor::zeros(plain.shape());
    peak_stimulation_backward(d_scores, mask, counts, psl, d_maps);
    conv2d_backward(in[0], in[1], d_maps, conv, &d_in[0], &d_in[1], &d_in[2]);
  };
  testing::GradientCheckOptions options;
  options.step = 1e-3;
  options.threshold = 2e-2;
  options.seed = seed;
  EXPECT_TRUE(testing::gradients_match(testing::check_gradients(op, options)));
}

}  // namespace
}  // namespace wise
