// Mask-head targets (nn/mask_targets.h): hand-checkable cases (a full mask gives all
// ones, a half mask gives a computed fraction), K = 0, a bad matched index, bitwise
// 1-vs-2-thread results and named errors. Reference rows:
// tests/op_table/mask_target_cases.cpp; torchvision parity:
// tests/fixtures/mask_targets_parity_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "kernels/cpu/parallel_for.h"
#include "models/detection/mask_targets.h"
#include "tests/support/compare.h"
#include "tests/support/devices.h"
#include "tests/support/errors.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

using ::testing::HasSubstr;

class MaskTargets : public ::testing::TestWithParam<Device> {};

// gt 0 is empty, gt 1 is full (10 x 12). A box inside the full mask samples only ones, so
// every target is 1 (each bilinear sample is a convex combination of ones; its four float
// weights may sum to 1 - 1 ulp, as in torchvision); the same box on the empty mask gives
// exactly 0, and so does a box wholly outside the image (every sample is past
// [-1, H] x [-1, W]).
TEST_P(MaskTargets, FullMaskGivesAllOnesForABoxInsideIt) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  const int64_t H = 10, W = 12, M = 28;
  std::vector<uint8_t> masks(2 * H * W, 0);
  std::fill(masks.begin() + H * W, masks.end(), uint8_t{1});
  const std::vector<float> boxes{2.5f, 1.25f, 9.0f, 8.75f,  2.5f, 1.25f, 9.0f, 8.75f,
                                 0.0f, 0.0f,  12.0f, 10.0f, 20.0f, 15.0f, 30.0f, 25.0f};
  Tensor targets;
  project_masks_on_boxes(on_device(masks, {2, H, W}, device), on_device(boxes, {4, 4}, device),
                         on_device(std::vector<int64_t>{1, 0, 1, 1}, {4}, device), M, targets);
  ASSERT_EQ(targets.shape(), Shape({4, M, M}));
  const std::vector<float> values = host_floats(targets);
  const auto plane = [&](int64_t k) {
    return std::vector<float>(values.begin() + k * M * M, values.begin() + (k + 1) * M * M);
  };
  const std::vector<double> ones(M * M, 1.0);
  EXPECT_TRUE(all_close(plane(0), ones, {0.0, 3e-7}));
  EXPECT_TRUE(bitwise_equal(plane(1), std::vector<float>(M * M, 0.0f)));
  EXPECT_TRUE(all_close(plane(2), ones, {0.0, 3e-7}));  // the whole image
  EXPECT_TRUE(bitwise_equal(plane(3), std::vector<float>(M * M, 0.0f)));  // outside
}

// A 4 x 4 mask whose columns 0 and 1 are 1, box (0, 0, 4, 4), M = 2: cells 2 x 2 pixels,
// adaptive grid ceil(4 / 2) = 2 samples per axis at x = 0.5, 1.5 (left cell) and 2.5, 3.5
// (right cell), y likewise. Along x the mask reads 1 at 0.5 (columns 0..1), 0.5 at 1.5
// (halfway between columns 1 and 2), 0 at 2.5, and at 3.5 (past the last column: column
// 3) 0; rows are all alike. Left cell: (1 + 0.5 + 1 + 0.5) / 4 = 0.75; right cell: 0.
// The output tensor passed in (right shape, garbage) is overwritten.
TEST_P(MaskTargets, HandComputedHalfMask) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  std::vector<uint8_t> mask(16, 0);
  for (size_t row = 0; row < 4; ++row) mask[row * 4] = mask[row * 4 + 1] = 1;
  Tensor targets = on_device(std::vector<float>{7, 7, 7, 7}, {1, 2, 2}, device);
  project_masks_on_boxes(on_device(mask, {1, 4, 4}, device),
                         on_device(std::vector<float>{0, 0, 4, 4}, {1, 4}, device),
                         on_device(std::vector<int64_t>{0}, {1}, device), 2, targets);
  EXPECT_TRUE(bitwise_equal(host_floats(targets), {0.75f, 0.0f, 0.75f, 0.0f}));
}

// No positive proposals: an empty (0, M, M) target, as torchvision's roi_align gives.
TEST_P(MaskTargets, NoProposalsGiveAnEmptyTarget) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  Tensor targets;
  project_masks_on_boxes(on_device(std::vector<uint8_t>(2 * 5 * 4, 1), {2, 5, 4}, device),
                         Tensor::zeros({0, 4}, DType::float32, device),
                         Tensor::zeros({0}, DType::int64, device), 28, targets);
  EXPECT_EQ(targets.shape(), Shape({0, 28, 28}));
  EXPECT_EQ(targets.device(), device);
}

// A matched index outside [0, G): a named error on the CPU, where the indices are on the
// host; on the GPU, all-zero targets for that box and the right ones for the others.
TEST_P(MaskTargets, MatchedIndexOutOfRange) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  const Tensor masks = on_device(std::vector<uint8_t>(2 * 6 * 6, 1), {2, 6, 6}, device);
  const Tensor boxes = on_device(std::vector<float>{1, 1, 4, 4, 1, 1, 4, 4}, {2, 4}, device);
  const Tensor matched_idxs = on_device(std::vector<int64_t>{1, 2}, {2}, device);
  Tensor targets;
  if (device == Device::cpu) {
    try {
      project_masks_on_boxes(masks, boxes, matched_idxs, 3, targets);
      FAIL() << "no error";
    } catch (const Error& error) {
      EXPECT_THAT(error.what(), HasSubstr("project_masks_on_boxes: matched_idxs[1] = 2 is out of "
                                          "range [0, 2) for gt_masks uint8[2, 6, 6]"));
    }
    return;
  }
  project_masks_on_boxes(masks, boxes, matched_idxs, 3, targets);
  std::vector<float> expected(9, 1.0f);
  expected.resize(18, 0.0f);
  EXPECT_TRUE(bitwise_equal(host_floats(targets), expected));
}

INSTANTIATE_TEST_SUITE_P(Devices, MaskTargets, ::testing::ValuesIn(all_devices()),
                         device_test_name);

// A gather with no reductions across elements; checked anyway at a size above the
// launcher's serial threshold (the elements must not depend on the thread split).
TEST(MaskTargetsDeterminism, CpuIsBitwiseIdenticalAtOneAndTwoThreads) {
  const int64_t G = 3, H = 40, W = 36, K = 30, M = 28;
  std::vector<uint8_t> masks;
  for (float value : random_floats(G * H * W, 71)) masks.push_back(value > 0.0f ? 1 : 0);
  std::vector<float> boxes;
  const auto corners = random_floats(4 * K, 72, -10.0f, 50.0f);
  std::vector<int64_t> matched_idxs;
  for (int64_t k = 0; k < K; ++k) {
    const float* c = &corners[static_cast<size_t>(4 * k)];
    boxes.insert(boxes.end(), {std::min(c[0], c[2]), std::min(c[1], c[3]), std::max(c[0], c[2]),
                               std::max(c[1], c[3])});
    matched_idxs.push_back(k % G);
  }
  auto run = [&](int threads) {
    kernels::cpu::set_num_threads(threads);
    Tensor targets;
    project_masks_on_boxes(on_device(masks, {G, H, W}, Device::cpu),
                           on_device(boxes, {K, 4}, Device::cpu),
                           on_device(matched_idxs, {K}, Device::cpu), M, targets);
    return host_floats(targets);
  };
  const int threads = kernels::cpu::num_threads();
  const auto one = run(1), two = run(2);
  kernels::cpu::set_num_threads(threads);
  EXPECT_TRUE(bitwise_equal(two, one));
}

// Runs the op and returns its error message.
std::string error_of(const Tensor& gt_masks, const Tensor& boxes, const Tensor& matched_idxs,
                     int64_t M) {
  Tensor targets;
  return testing::error_of([&] { project_masks_on_boxes(gt_masks, boxes, matched_idxs, M, targets); });
}

TEST(MaskTargetsErrors, NameTheTensorAndWhatWasExpected) {
  const Tensor masks = Tensor::zeros({2, 6, 6}, DType::uint8);
  const Tensor boxes = Tensor::zeros({3, 4});
  const Tensor matched_idxs = Tensor::zeros({3}, DType::int64);
  EXPECT_THAT(error_of(Tensor::zeros({2, 6, 6}), boxes, matched_idxs, 28),
              HasSubstr("project_masks_on_boxes: gt_masks must be uint8 (G, H, W), got "
                        "float32[2, 6, 6] cpu plain"));
  EXPECT_THAT(error_of(Tensor::zeros({2, 0, 6}, DType::uint8), boxes, matched_idxs, 28),
              HasSubstr("gt_masks must have H, W > 0"));
  EXPECT_THAT(error_of(masks, Tensor::zeros({3, 5}), matched_idxs, 28),
              HasSubstr("project_masks_on_boxes: boxes must have shape [K, 4] (x1, y1, x2, y2), "
                        "got float32[3, 5] cpu plain"));
  EXPECT_THAT(error_of(masks, boxes, Tensor::zeros({2}, DType::int64), 28),
              HasSubstr("project_masks_on_boxes: matched_idxs must be int64 [3] (one per box) on "
                        "cpu, got int64[2] cpu plain"));
  EXPECT_THAT(error_of(masks, boxes, Tensor::zeros({3}), 28),
              HasSubstr("matched_idxs must be int64 [3]"));
  EXPECT_THAT(error_of(masks, boxes, matched_idxs, 0),
              HasSubstr("project_masks_on_boxes: M (the target size) must be > 0, got 0"));
  EXPECT_THAT(error_of(masks, boxes, on_device(std::vector<int64_t>{0, -1, 1}, Device::cpu), 28),
              HasSubstr("matched_idxs[1] = -1 is out of range [0, 2)"));
}

}  // namespace
}  // namespace wise::testing
