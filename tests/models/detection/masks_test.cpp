// Tests of nn/masks.h and models/detection/paste_masks.h (kept together: several tests
// cover both) beyond the op table: the bit-packed layout by hand, packed-set
// reuse, torchvision's box expansion at an exact tie, non-finite boxes, bitwise equality
// at 1 and 2 CPU threads (sizes above the parallel threshold), and the error messages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cpu/parallel_for.h"
#include "kernels/mask_ops.h"
#include "models/detection/paste_masks.h"
#include "nn/masks.h"
#include "tests/support/seeding.h"

namespace wise::testing {
namespace {

std::vector<uint8_t> random_bytes(int64_t n, double density, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::bernoulli_distribution foreground(density);
  std::vector<uint8_t> bytes(static_cast<size_t>(n));
  for (uint8_t& byte : bytes) byte = foreground(engine) ? 1 : 0;
  return bytes;
}

TEST(Masks, PackedLayoutIsRowMajorBitsLowFirst) {
  // One 2 x 35 mask = 70 pixels = 2 words; foreground at pixels 0, 36 (row 1, column 1),
  // 63 and 69 (the last, bit 5 of word 1). Tail bits stay zero.
  std::vector<uint8_t> mask(70, 0);
  mask[0] = 1, mask[36] = 7, mask[63] = 1, mask[69] = 1;
  Tensor packed, areas;
  pack_masks(Tensor::from_vector({1, 2, 35}, mask), packed, areas);
  ASSERT_EQ(packed.shape(), Shape({1, 2}));
  const auto words = packed.to_vector<int64_t>();
  EXPECT_EQ(static_cast<uint64_t>(words[0]), (1ull << 0) | (1ull << 36) | (1ull << 63));
  EXPECT_EQ(static_cast<uint64_t>(words[1]), 1ull << 5);
  EXPECT_EQ(areas.to_vector<int64_t>(), std::vector<int64_t>({4}));
}

TEST(Masks, PackedIouEqualsMaskIou) {
  const auto a = random_bytes(3 * 21 * 33, 0.4, 1), b = random_bytes(4 * 21 * 33, 0.4, 2);
  const Tensor masks_a = Tensor::from_vector({3, 21, 33}, a);
  const Tensor masks_b = Tensor::from_vector({4, 21, 33}, b);
  Tensor direct, packed_a, areas_a, packed_b, areas_b, reused;
  mask_iou(masks_a, masks_b, direct);
  pack_masks(masks_a, packed_a, areas_a);
  pack_masks(masks_b, packed_b, areas_b);
  mask_iou_packed(packed_a, areas_a, packed_b, areas_b, reused);
  EXPECT_EQ(direct.to_vector<float>(), reused.to_vector<float>());
}

TEST(Masks, PasteBoxExpansionRoundsAsTorch) {
  // Box (10, 10, 38, 38), M = 28: w_half = 14 * float(30 / 28) lies exactly halfway
  // between two floats and rounds to even, 15, so the box is 9..39 (torch agrees: the
  // fixture has this box).
  const float box[4] = {10.0f, 10.0f, 38.0f, 38.0f};
  const kernels::PasteBox expanded = kernels::paste_box(box, kernels::paste_scale(28, 1));
  EXPECT_TRUE(expanded.valid);
  EXPECT_EQ(expanded.x1, 9);
  EXPECT_EQ(expanded.y1, 9);
  EXPECT_EQ(expanded.x2, 39);
  EXPECT_EQ(expanded.y2, 39);
  // Truncation toward zero, as .to(torch.int64): x1' = -0.75 -> 0 (floor would give -1).
  const float left[4] = {0.75f, 0.0f, 2.25f, 1.0f};  // x_c 1.5, w_half 0.75 * 3 = 2.25 (M = 1)
  EXPECT_EQ(kernels::paste_box(left, kernels::paste_scale(1, 1)).x1, 0);
}

TEST(Masks, NonFiniteBoxPastesNothing) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  Tensor output;
  PasteMasksOptions options;
  options.image_height = 5;
  options.image_width = 6;
  paste_masks_in_image(Tensor::from_vector({2, 1, 2, 2}, std::vector<float>(8, 1.0f)),
                       Tensor::from_vector({2, 4}, std::vector<float>{nan, 0, 4, 4, 0, 0, inf, 4}),
                       options, output);
  EXPECT_EQ(output.to_vector<uint8_t>(), std::vector<uint8_t>(60, 0));
}

TEST(Masks, CpuResultsBitwiseEqualAtOneAndTwoThreads) {
  const int threads = kernels::cpu::num_threads();
  // IoU: 30 x 40 pairs of 97 x 101 masks (far above the parallel threshold);
  // boxes: 40 masks; paste: 9 masks into 150 x 130 (175,500 pixels).
  const Tensor a = Tensor::from_vector({30, 97, 101}, random_bytes(30 * 97 * 101, 0.3, 3));
  const Tensor b = Tensor::from_vector({40, 97, 101}, random_bytes(40 * 97 * 101, 0.05, 4));
  std::vector<float> boxes;
  for (int k = 0; k < 9; ++k) {
    boxes.insert(boxes.end(), {-10.0f + 17.3f * k, 5.5f * k, 40.0f + 11.1f * k, 60.0f + 9.7f * k});
  }
  const Tensor paste_masks = Tensor::from_vector({9, 1, 28, 28}, random_floats(9 * 784, 5, 0, 1));
  const Tensor paste_boxes = Tensor::from_vector({9, 4}, boxes);
  PasteMasksOptions options;
  options.image_height = 150;
  options.image_width = 130;
  auto run = [&](int count, Tensor& iou, Tensor& mask_boxes, Tensor& pasted) {
    kernels::cpu::set_num_threads(count);
    mask_iou(a, b, iou);
    masks_to_boxes(b, mask_boxes);
    paste_masks_in_image(paste_masks, paste_boxes, options, pasted);
  };
  Tensor iou1, boxes1, pasted1, iou2, boxes2, pasted2;
  run(1, iou1, boxes1, pasted1);
  run(2, iou2, boxes2, pasted2);
  kernels::cpu::set_num_threads(threads);
  EXPECT_EQ(iou1.to_vector<float>(), iou2.to_vector<float>());
  EXPECT_EQ(boxes1.to_vector<float>(), boxes2.to_vector<float>());
  EXPECT_EQ(pasted1.to_vector<uint8_t>(), pasted2.to_vector<uint8_t>());
}

TEST(Masks, ErrorsNameTheTensorAndTheShapes) {
  Tensor out;
  const Tensor floats = Tensor::zeros({2, 3, 4});
  EXPECT_THAT([&] { mask_iou(floats, floats, out); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr(
                  "mask_iou: masks_a must be uint8 (N, H, W), got float32[2, 3, 4]")));
  const Tensor a = Tensor::from_vector({1, 3, 4}, std::vector<uint8_t>(12, 1));
  const Tensor b = Tensor::from_vector({1, 4, 3}, std::vector<uint8_t>(12, 1));
  EXPECT_THAT([&] { mask_iou(a, b, out); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("same H x W")));
  EXPECT_THAT([&] { masks_to_boxes(floats, out); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("masks_to_boxes: masks")));
  PasteMasksOptions options;
  options.image_height = 4;
  options.image_width = 4;
  EXPECT_THAT(
      [&] { paste_masks_in_image(Tensor::zeros({2, 1, 5, 5}), Tensor::zeros({3, 4}), options, out); },
      ::testing::ThrowsMessage<Error>(::testing::HasSubstr(
          "paste_masks_in_image: boxes must be [2, 4] (one per mask), got float32[3, 4]")));
  EXPECT_THAT(
      [&] { paste_masks_in_image(Tensor::zeros({2, 5, 5}), Tensor::zeros({2, 4}), options, out); },
      ::testing::ThrowsMessage<Error>(::testing::HasSubstr("must be (K, 1, M, M)")));
}

TEST(Masks, EmptyInputs) {
  Tensor boxes, pasted;
  masks_to_boxes(Tensor::from_vector({0, 4, 4}, std::vector<uint8_t>{}), boxes);
  EXPECT_EQ(boxes.shape(), Shape({0, 4}));
  PasteMasksOptions options;
  options.image_height = 3;
  options.image_width = 2;
  paste_masks_in_image(Tensor::zeros({0, 1, 28, 28}), Tensor::zeros({0, 4}), options, pasted);
  EXPECT_EQ(pasted.shape(), Shape({0, 3, 2}));
}

}  // namespace
}  // namespace wise::testing
