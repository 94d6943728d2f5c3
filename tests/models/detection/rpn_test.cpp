// models/detection/rpn.h beyond the torchvision parity test (tests/fixtures/rpn_parity_test):
// the training forward with wise's own sampler (sample sizes, labels of the sampled
// anchors, images without ground truth), the same result at any thread count, and the
// head learning: plain gradient descent on the two losses fits the ground truth of a
// fixed batch (loss down, the best proposal on each gt box).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "kernels/cpu/parallel_for.h"
#include "kernels/elementwise.h"
#include "models/detection/boxes.h"
#include "models/detection/rpn.h"
#include "tests/support/compare.h"
#include "tests/support/devices.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

constexpr int64_t kChannels = 4;

RpnConfig small_config() {
  RpnConfig config;
  config.anchor_generator.sizes = {{8.0f}, {16.0f}, {32.0f}, {64.0f}, {128.0f}};
  config.batch_size_per_image = 32;
  config.pre_nms_top_n_train = 200;
  config.post_nms_top_n_train = 100;
  config.pre_nms_top_n_test = 200;
  config.post_nms_top_n_test = 50;
  return config;
}

struct Batch {
  std::vector<Tensor> features, gt;
  ImageSize size{48, 64};
  std::vector<ImageSize> sizes{{48, 64}, {48, 60}};
};

Batch make_batch(Device device, bool second_has_gt = true) {
  Batch batch;
  const int64_t grid[5][2] = {{12, 16}, {6, 8}, {3, 4}, {2, 2}, {1, 1}};
  for (int l = 0; l < 5; ++l) {
    const int64_t numel = 2 * kChannels * grid[l][0] * grid[l][1];
    batch.features.push_back(
        on_device(random_floats(numel, 100 + static_cast<uint64_t>(l)), {2, kChannels, grid[l][0], grid[l][1]}, device));
  }
  batch.gt.push_back(on_device(std::vector<float>{4, 6, 20, 22, 30, 10, 58, 40}, {2, 4}, device));
  batch.gt.push_back(second_has_gt ? on_device(std::vector<float>{10, 12, 26, 44}, {1, 4}, device)
                                   : Tensor::zeros({0, 4}, DType::float32, device));
  return batch;
}

class RpnTraining : public ::testing::TestWithParam<Device> {
 protected:
  void SetUp() override {
    WISE_SKIP_IF_UNAVAILABLE(GetParam());
    rpn_ = std::make_unique<RegionProposalNetwork>(small_config(), kChannels, buffer_);
    buffer_.allocate(GetParam());
    Generator init{seed_from_name("RpnTraining.init"), 0};
    rpn_->initialize(init);
  }
  ParameterBuffer buffer_;
  std::unique_ptr<RegionProposalNetwork> rpn_;
};

TEST_P(RpnTraining, SampleIsBalancedAndLabelled) {
  for (bool second_has_gt : {true, false}) {
    SCOPED_TRACE(second_has_gt ? "both images with gt" : "second image without gt");
    Batch batch = make_batch(GetParam(), second_has_gt);
    Generator generator{seed_from_name("RpnTraining.sample"), 0};
    rpn_->run_head(batch.features, batch.size);
    rpn_->assign_targets_to_anchors(batch.gt);
    const RpnSample sample = rpn_->sample_anchors(generator);
    const int64_t T = rpn_->anchors().size(0);
    for (int64_t n = 0; n < 2; ++n) {
      const auto in_image = [&](int64_t row) { return row / T == n; };
      const int64_t positives = std::count_if(sample.positive.begin(), sample.positive.end(), in_image);
      const int64_t negatives = std::count_if(sample.negative.begin(), sample.negative.end(), in_image);
      EXPECT_LE(positives, 16);  // batch_size_per_image 32 x positive_fraction 0.5
      EXPECT_EQ(positives + negatives, 32) << "image " << n;  // plenty of negatives
      if (n == 0 || second_has_gt) {
        EXPECT_GE(positives, 2) << "every gt keeps its best anchor";
      } else {
        EXPECT_EQ(positives, 0);
      }
    }
    for (int64_t row : sample.positive) EXPECT_GE(rpn_->anchor_matches()[static_cast<size_t>(row)], 0);
    for (int64_t row : sample.negative) {
      EXPECT_EQ(rpn_->anchor_matches()[static_cast<size_t>(row)], kBelowLowThreshold);
    }
    EXPECT_TRUE(std::is_sorted(sample.positive.begin(), sample.positive.end()));
  }
}

TEST_P(RpnTraining, GradientDescentFitsTheGroundTruth) {
  Batch batch = make_batch(GetParam());
  const Tensor one = Tensor::from_vector<float>({1}, {1.0f}).to(GetParam());
  std::vector<Tensor> no_feature_gradients(5);
  float first_loss = 0.0f, last_loss = 0.0f;
  for (int step = 0; step < 400; ++step) {
    Generator generator{seed_from_name("RpnTraining.fit"), static_cast<uint64_t>(step) * 1000000};
    rpn_->forward_training(batch.features, batch.size, batch.sizes, batch.gt, generator);
    const float loss = host_floats(rpn_->loss_objectness())[0] + host_floats(rpn_->loss_box_reg())[0];
    if (step == 0) first_loss = loss;
    last_loss = loss;
    buffer_.zero_gradients();
    rpn_->backward(one, one, no_feature_gradients);
    Tensor values = buffer_.trainable_values();
    kernels::axpy(GetParam(), -0.5f, buffer_.trainable_gradients().data<float>(), values.data<float>(),
                  values.numel());
  }
  EXPECT_LT(last_loss, 0.1f * first_loss) << "first " << first_loss << ", last " << last_loss;
  const RpnProposals& proposals = rpn_->forward_inference(batch.features, batch.size, batch.sizes);
  for (int64_t n = 0; n < 2; ++n) {
    Tensor iou;
    box_iou(batch.gt[static_cast<size_t>(n)], proposals.boxes[static_cast<size_t>(n)], iou);
    const std::vector<float> values = iou.to_vector<float>();
    const int64_t P = iou.size(1);
    for (int64_t g = 0; g < iou.size(0); ++g) {
      const float best = *std::max_element(values.begin() + g * P, values.begin() + (g + 1) * P);
      EXPECT_GT(best, 0.7f) << "image " << n << " gt " << g;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, RpnTraining, ::testing::ValuesIn(all_devices()), device_test_name);

// The sample comes from the Philox generator and every kernel but oneDNN's convolution
// reduces in a fixed order, so a rerun gives the same bits; oneDNN's weight and bias
// gradients are deterministic for a given thread count only (kernels/convolution.h), so
// 1 and 2 threads agree to rounding.
TEST(RpnDeterminism, RerunsGiveTheSameBitsAndThreadCountsAgreeToRounding) {
  auto run = [](int threads) {
    kernels::cpu::set_num_threads(threads);
    ParameterBuffer buffer;
    RegionProposalNetwork rpn(small_config(), kChannels, buffer);
    buffer.allocate(Device::cpu);
    Generator init{seed_from_name("RpnDeterminism.init"), 0};
    rpn.initialize(init);
    Batch batch = make_batch(Device::cpu);
    Generator generator{seed_from_name("RpnDeterminism.sample"), 0};
    const RpnProposals& proposals =
        rpn.forward_training(batch.features, batch.size, batch.sizes, batch.gt, generator);
    std::vector<float> result = host_floats(proposals.boxes[0]);
    std::vector<Tensor> no_feature_gradients(5);
    const Tensor one = Tensor::from_vector<float>({1}, {1.0f});
    rpn.backward(one, one, no_feature_gradients);
    result.push_back(host_floats(rpn.loss_objectness())[0]);
    result.push_back(host_floats(rpn.loss_box_reg())[0]);
    const std::vector<float> gradients = host_floats(buffer.trainable_gradients());
    result.insert(result.end(), gradients.begin(), gradients.end());
    return result;
  };
  const int saved_threads = kernels::cpu::num_threads();
  const std::vector<float> two = run(2), two_again = run(2), one = run(1);
  kernels::cpu::set_num_threads(saved_threads);
  EXPECT_TRUE(bitwise_equal(two_again, two));
  EXPECT_TRUE(all_close(one, std::vector<double>(two.begin(), two.end()), {1e-5, 1e-7}));
}

}  // namespace
}  // namespace wise::testing
