// models/mask_rcnn.h end to end on a tiny model (ResNet-18 x0.25, 16 FPN channels) and a
// tiny batch: the five losses are finite and positive, backward reaches every trainable
// parameter, and plain gradient descent fits the batch: the loss falls and inference
// finds each object with its class and a mask of IoU > 0.5 (stage-level parity with
// torchvision is in tests/fixtures/rpn_parity_test.cpp and roi_heads_parity_test.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/elementwise.h"
#include "models/detection/paste_masks.h"
#include "models/mask_rcnn.h"
#include "tests/support/devices.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

constexpr int64_t kSize = 64;

MaskRcnnConfig tiny_config() {
  ResNetFpnConfig backbone;
  backbone.body.depth = 18;
  backbone.body.width_multiplier = 0.25;
  backbone.body.norm = Normalization::group_norm;
  backbone.body.group_norm_groups = 4;
  backbone.body.trainable_layers = 5;
  backbone.out_channels = 16;
  MaskRcnnConfig config = mask_rcnn_config(backbone, /*num_classes=*/3);
  config.rpn.anchor_generator.sizes = {{8.0f}, {16.0f}, {32.0f}, {64.0f}, {128.0f}};
  config.rpn.batch_size_per_image = 64;
  config.rpn.pre_nms_top_n_train = config.rpn.post_nms_top_n_train = 100;
  config.rpn.pre_nms_top_n_test = config.rpn.post_nms_top_n_test = 50;
  config.roi_heads.box_head.representation_size = 32;
  config.roi_heads.mask_head.layers = {16, 16};
  config.roi_heads.mask_head.dim_reduced = 16;
  config.roi_heads.batch_size_per_image = 64;
  config.roi_heads.detections_per_img = 10;
  return config;
}

// Two images: a bright square (class 1) and a dark disc (class 2) on grey, in different
// places; masks and boxes exact.
struct TinyData {
  ImageBatch batch;
  std::vector<DetectionTarget> targets;
  std::vector<std::vector<uint8_t>> masks;  // per image, (2, H, W)
};

TinyData tiny_data(Device device) {
  TinyData data;
  std::vector<float> pixels(2 * 3 * kSize * kSize, 0.0f);
  const int64_t square[2][4] = {{8, 10, 30, 32}, {36, 30, 58, 52}};  // x1, y1, x2, y2
  const double disc[2][3] = {{46.0, 20.0, 11.0}, {18.0, 44.0, 12.0}};  // cx, cy, r
  for (int64_t n = 0; n < 2; ++n) {
    std::vector<uint8_t> masks(2 * kSize * kSize, 0);
    for (int64_t y = 0; y < kSize; ++y) {
      for (int64_t x = 0; x < kSize; ++x) {
        const bool in_square = x >= square[n][0] && x < square[n][2] && y >= square[n][1] && y < square[n][3];
        const double dx = x + 0.5 - disc[n][0], dy = y + 0.5 - disc[n][1];
        const bool in_disc = dx * dx + dy * dy <= disc[n][2] * disc[n][2];
        masks[static_cast<size_t>(y * kSize + x)] = in_square;
        masks[static_cast<size_t>(kSize * kSize + y * kSize + x)] = in_disc;
        const float value = in_square ? 2.0f : in_disc ? -2.0f : 0.0f;
        for (int64_t c = 0; c < 3; ++c) pixels[static_cast<size_t>(((n * 3 + c) * kSize + y) * kSize + x)] = value;
      }
    }
    const float bx = static_cast<float>(disc[n][0] - disc[n][2]), by = static_cast<float>(disc[n][1] - disc[n][2]);
    const float size = static_cast<float>(2 * disc[n][2]);
    DetectionTarget target;
    target.boxes = on_device(std::vector<float>{static_cast<float>(square[n][0]), static_cast<float>(square[n][1]),
                                                static_cast<float>(square[n][2]), static_cast<float>(square[n][3]),
                                                bx, by, bx + size, by + size},
                             {2, 4}, device);
    target.labels = on_device(std::vector<int64_t>{1, 2}, {2}, device);
    target.masks = on_device(masks, {2, kSize, kSize}, device);
    data.targets.push_back(target);
    data.masks.push_back(masks);
  }
  data.batch.images = on_device(pixels, {2, 3, kSize, kSize}, device);
  data.batch.image_sizes = {{kSize, kSize}, {kSize, kSize}};
  return data;
}

float total(const MaskRcnnLosses& losses) {
  float sum = 0.0f;
  for (const Tensor* loss : {&losses.loss_classifier, &losses.loss_box_reg, &losses.loss_mask,
                             &losses.loss_objectness, &losses.loss_rpn_box_reg}) {
    sum += host_floats(*loss)[0];
  }
  return sum;
}

class MaskRcnnModel : public ::testing::TestWithParam<Device> {
 protected:
  void SetUp() override {
    WISE_SKIP_IF_UNAVAILABLE(GetParam());
    model_ = std::make_unique<MaskRcnn>(tiny_config(), buffer_);
    buffer_.allocate(GetParam());
    Generator init{seed_from_name("MaskRcnnModel.init"), 0};
    model_->initialize(init);
  }
  ParameterBuffer buffer_;
  std::unique_ptr<MaskRcnn> model_;
};

TEST_P(MaskRcnnModel, BackwardReachesEveryTrainableParameter) {
  TinyData data = tiny_data(GetParam());
  Generator generator{seed_from_name("MaskRcnnModel.step"), 0};
  const MaskRcnnLosses& losses = model_->forward_training(data.batch, data.targets, generator);
  for (const Tensor* loss : {&losses.loss_classifier, &losses.loss_box_reg, &losses.loss_mask,
                             &losses.loss_objectness, &losses.loss_rpn_box_reg}) {
    const float value = host_floats(*loss)[0];
    EXPECT_TRUE(std::isfinite(value) && value > 0.0f) << value;
  }
  buffer_.zero_gradients();
  model_->backward();
  for (int i = 0; i < buffer_.size(); ++i) {
    if (!buffer_.trainable(i)) continue;
    const std::vector<float> gradient = host_floats(buffer_.gradient(i));
    double norm = 0.0;
    for (float g : gradient) norm += double(g) * g;
    EXPECT_GT(norm, 0.0) << buffer_.name(i) << " got no gradient";
  }
}

TEST_P(MaskRcnnModel, GradientDescentFitsATinyBatch) {
  TinyData data = tiny_data(GetParam());
  float first = 0.0f, last = 0.0f;
  for (int step = 0; step < 300; ++step) {
    Generator generator{seed_from_name("MaskRcnnModel.fit"), static_cast<uint64_t>(step) << 32};
    last = total(model_->forward_training(data.batch, data.targets, generator));
    if (step == 0) first = last;
    buffer_.zero_gradients();
    model_->backward();
    Tensor values = buffer_.trainable_values();
    kernels::axpy(GetParam(), -0.05f, buffer_.trainable_gradients().data<float>(), values.data<float>(), values.numel());
  }
  EXPECT_LT(last, 0.25f * first) << "first " << first << ", last " << last;
  const std::vector<Detections> detections = model_->infer(data.batch);
  for (size_t n = 0; n < 2; ++n) {
    const Detections& d = detections[n];
    const std::vector<int64_t> labels = d.labels.to_vector<int64_t>();
    ASSERT_FALSE(labels.empty()) << "image " << n;
    Tensor pasted;
    paste_masks_in_image(d.masks, d.boxes, {kSize, kSize, 1, 0.5f}, pasted);
    const std::vector<uint8_t> masks = pasted.to_vector<uint8_t>();
    for (int64_t label : {1, 2}) {
      // the best-scored detection of this class (detections come by score)
      const auto it = std::find(labels.begin(), labels.end(), label);
      ASSERT_NE(it, labels.end()) << "image " << n << ": no detection of class " << label;
      const size_t k = static_cast<size_t>(it - labels.begin());
      int64_t intersection = 0, uni = 0;
      for (int64_t p = 0; p < kSize * kSize; ++p) {
        const bool a = masks[k * kSize * kSize + static_cast<size_t>(p)] != 0;
        const bool b = data.masks[n][static_cast<size_t>((label - 1) * kSize * kSize + p)] != 0;
        intersection += a && b;
        uni += a || b;
      }
      EXPECT_GT(double(intersection) / double(uni), 0.5) << "image " << n << " class " << label;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, MaskRcnnModel, ::testing::ValuesIn(all_devices()), device_test_name);

}  // namespace
}  // namespace wise::testing
