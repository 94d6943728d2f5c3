// Op-table rows for nn/masks.h and models/detection/paste_masks.h against the naive
// references in tests/reference/mask_reference.h: mask IoU at several densities (with
// empty, full and identical masks, 1 x 1 masks, widths and pixel counts not multiples
// of 64), masks_to_boxes (with empty masks), and paste_masks_in_image over random boxes
// (partly outside, tiny, larger than the image; M = 28 and 14; padding 1 and 0).
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "models/detection/paste_masks.h"
#include "nn/masks.h"
#include "tests/reference/mask_reference.h"
#include "tests/support/compare.h"
#include "tests/support/op_table.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

// count masks of `pixels` pixels; mask i has foreground density densities[i % size],
// non-zero values other than 1 included (any non-zero byte is foreground).
std::vector<uint8_t> random_masks(int64_t count, int64_t pixels,
                                  const std::vector<double>& densities, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<uint8_t> masks(static_cast<size_t>(count * pixels));
  for (int64_t i = 0; i < count; ++i) {
    const double density = densities[static_cast<size_t>(i) % densities.size()];
    for (int64_t p = 0; p < pixels; ++p) {
      masks[static_cast<size_t>(i * pixels + p)] =
          uniform(engine) < density ? static_cast<uint8_t>(1 + (p % 3 == 0 ? 254 : 0)) : 0;
    }
  }
  return masks;
}

// The IoU is one double division rounded to float: within half an ulp of the reference.
constexpr Tolerance kRoundedToFloat{6e-8, 0.0};

struct IouShape {
  int64_t n, m, H, W;
};

std::vector<OpCase> iou_cases() {
  const IouShape shapes[] = {{3, 4, 1, 1},   {5, 6, 7, 9},    {4, 5, 13, 70},
                             {3, 3, 33, 129}, {2, 3, 64, 64}, {6, 7, 37, 51}};
  const std::vector<double> densities[] = {{0.0, 0.01, 0.3}, {0.5, 0.9, 1.0}, {0.02, 0.0, 0.7}};
  std::vector<OpCase> cases;
  for (const IouShape& s : shapes) {
    for (size_t d = 0; d < 3; ++d) {
      const std::vector<double> density = densities[d];
      const std::string name = "mask_iou_" + std::to_string(s.n) + "x" + std::to_string(s.m) +
                               "_" + std::to_string(s.H) + "x" + std::to_string(s.W) +
                               "_densities" + std::to_string(d);
      cases.push_back({name, [s, density](Device device, uint64_t seed) {
                         const int64_t pixels = s.H * s.W;
                         auto a = random_masks(s.n, pixels, density, seed);
                         auto b = random_masks(s.m, pixels, density, seed + 1);
                         // b's last mask a copy of a's first: IoU 1 (or 0 if it is empty).
                         std::copy(a.begin(), a.begin() + pixels, b.end() - pixels);
                         Tensor iou;
                         mask_iou(on_device(a, {s.n, s.H, s.W}, device),
                                  on_device(b, {s.m, s.H, s.W}, device), iou);
                         ASSERT_EQ(iou.shape(), Shape({s.n, s.m}));
                         EXPECT_TRUE(all_close(host_floats(iou),
                                               reference::mask_iou(a, b, s.n, s.m, s.H, s.W),
                                               kRoundedToFloat));
                       }});
    }
  }
  cases.push_back({"mask_iou_empty_sets", [](Device device, uint64_t) {
                     Tensor iou;
                     mask_iou(on_device(std::vector<uint8_t>{}, {0, 5, 7}, device),
                              on_device(std::vector<uint8_t>(70, 1), {2, 5, 7}, device), iou);
                     EXPECT_EQ(iou.shape(), Shape({0, 2}));
                   }});
  cases.push_back({"mask_iou_hand_computed", [](Device device, uint64_t) {
                     // 1 x 3 masks: a = 110, b = {011, 000}: |a&b| = 1, |a|b| = 3 -> 1/3;
                     // a vs empty -> 0 / 2 = 0.
                     Tensor iou;
                     mask_iou(on_device(std::vector<uint8_t>{1, 1, 0}, {1, 1, 3}, device),
                              on_device(std::vector<uint8_t>{0, 1, 1, 0, 0, 0}, {2, 1, 3}, device),
                              iou);
                     EXPECT_TRUE(all_close(host_floats(iou), {1.0 / 3.0, 0.0}, kRoundedToFloat));
                   }});
  return cases;
}

std::vector<OpCase> boxes_cases() {
  const int64_t shapes[][3] = {{4, 1, 1}, {6, 11, 17}, {5, 40, 3}, {3, 70, 90}};
  std::vector<OpCase> cases;
  for (const auto& s : shapes) {
    const int64_t N = s[0], H = s[1], W = s[2];
    cases.push_back({"masks_to_boxes_" + std::to_string(N) + "x" + std::to_string(H) + "x" +
                         std::to_string(W),
                     [=](Device device, uint64_t seed) {
                       // Densities 0 (empty: zeros), sparse, dense, full.
                       const auto masks = random_masks(N, H * W, {0.0, 0.005, 0.2, 1.0}, seed);
                       Tensor boxes;
                       masks_to_boxes(on_device(masks, {N, H, W}, device), boxes);
                       ASSERT_EQ(boxes.shape(), Shape({N, 4}));
                       EXPECT_TRUE(all_close(host_floats(boxes),
                                             reference::masks_to_boxes(masks, N, H, W), kExact));
                     }});
  }
  return cases;
}

struct PasteCase {
  int64_t K, M, padding, H, W;
};

// Random boxes over a region 25 % larger than the image on each side: some inside, some
// partly outside, some tiny (under a pixel), some larger than the image.
std::vector<float> random_boxes(int64_t K, int64_t H, int64_t W, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<float> x(-0.25f * float(W), 1.25f * float(W));
  std::uniform_real_distribution<float> y(-0.25f * float(H), 1.25f * float(H));
  std::uniform_real_distribution<float> size(0.0f, 1.0f);
  std::vector<float> boxes;
  for (int64_t k = 0; k < K; ++k) {
    const float x1 = x(engine), y1 = y(engine);
    const float scale = k % 4 == 0 ? 0.9f : k % 4 == 1 ? 40.0f : 1.5f * float(std::max(H, W));
    boxes.insert(boxes.end(), {x1, y1, x1 + scale * size(engine), y1 + scale * size(engine)});
  }
  return boxes;
}

// Pixels whose reference probability lies within this of the threshold may go either
// way: the kernel's float arithmetic is a few ulp (~1e-7) from the double reference.
constexpr double kThresholdBand = 1e-5;

std::vector<OpCase> paste_cases() {
  const PasteCase shapes[] = {{8, 28, 1, 60, 80}, {5, 14, 1, 33, 21}, {4, 28, 0, 47, 47},
                              {4, 1, 1, 9, 7}};
  std::vector<OpCase> cases;
  for (const PasteCase& s : shapes) {
    const std::string name = "paste_masks_in_image_" + std::to_string(s.K) + "x" +
                             std::to_string(s.M) + "_padding" + std::to_string(s.padding) +
                             "_into_" + std::to_string(s.H) + "x" + std::to_string(s.W);
    cases.push_back({name, [s](Device device, uint64_t seed) {
                       // A 1 x 1 mask pads to a 3 x 3 peak: make it 1, so its paste can pass 0.5.
                       const auto masks = s.M == 1 ? std::vector<float>(s.K, 1.0f)
                                                   : random_floats(s.K * s.M * s.M, seed, 0.0f, 1.0f);
                       const auto boxes = random_boxes(s.K, s.H, s.W, seed + 1);
                       PasteMasksOptions options;
                       options.image_height = s.H;
                       options.image_width = s.W;
                       options.padding = s.padding;
                       Tensor output;
                       paste_masks_in_image(on_device(masks, {s.K, 1, s.M, s.M}, device),
                                            on_device(boxes, {s.K, 4}, device), options, output);
                       ASSERT_EQ(output.shape(), Shape({s.K, s.H, s.W}));
                       const auto pasted = output.to_vector<uint8_t>();
                       const auto expected = reference::paste_masks_in_image(
                           masks, boxes, s.K, s.M, s.padding, s.H, s.W);
                       int64_t wrong = 0, foreground = 0;
                       for (size_t i = 0; i < pasted.size(); ++i) {
                         foreground += pasted[i] != 0 && expected[i] > 0.5;
                         if (std::fabs(expected[i] - 0.5) < kThresholdBand) continue;
                         if (pasted[i] != (expected[i] > 0.5 ? 1 : 0)) ++wrong;
                       }
                       EXPECT_EQ(wrong, 0);
                       EXPECT_GT(foreground, 0);  // the row checks something
                     }});
  }
  return cases;
}

std::vector<OpCase> all_cases() {
  std::vector<OpCase> cases = iou_cases();
  for (auto& c : boxes_cases()) cases.push_back(c);
  for (auto& c : paste_cases()) cases.push_back(c);
  return cases;
}

OpCaseRegistrar mask_cases(all_cases());

}  // namespace
}  // namespace wise::testing
