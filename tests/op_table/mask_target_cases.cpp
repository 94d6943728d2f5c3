// Op-table rows for models/detection/mask_targets.h (project_masks_on_boxes) against the naive double
// reference in tests/reference/mask_target_reference.h.
//
// Tolerance: the kernel computes sample coordinates in float, the reference in double;
// coordinates below ~100 are off by a few ulps (~1e-5), moving each bilinear weight by as
// much, with mask values 0/1 (targets in [0, 1]).
#include <random>
#include <string>
#include <vector>

#include "models/detection/mask_targets.h"
#include "tests/reference/mask_target_reference.h"
#include "tests/support/compare.h"
#include "tests/support/op_table.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

struct MaskTargetRow {
  int64_t G, H, W, K, M;
};

// G masks (G, H, W): even ones an axis-aligned ellipse blob, odd ones salt-and-pepper noise.
std::vector<uint8_t> random_masks(const MaskTargetRow& r, std::mt19937_64& engine) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<uint8_t> masks(static_cast<size_t>(r.G * r.H * r.W));
  for (int64_t g = 0; g < r.G; ++g) {
    const double cy = unit(engine) * r.H, cx = unit(engine) * r.W;
    const double ry = 1 + unit(engine) * r.H / 2, rx = 1 + unit(engine) * r.W / 2;
    for (int64_t y = 0; y < r.H; ++y) {
      for (int64_t x = 0; x < r.W; ++x) {
        const double dy = (y - cy) / ry, dx = (x - cx) / rx;
        const bool on = g % 2 == 0 ? dy * dy + dx * dx <= 1.0 : unit(engine) < 0.5;
        masks[static_cast<size_t>((g * r.H + y) * r.W + x)] = on ? 1 : 0;
      }
    }
  }
  return masks;
}

// K boxes (x1, y1, x2, y2) reaching a quarter of the mask past each border, up to 1.5x its
// size (adaptive grids of 1 to 3 samples); every fourth one tiny (< 1 pixel).
std::vector<float> random_boxes(const MaskTargetRow& r, std::mt19937_64& engine) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<float> boxes;
  for (int64_t k = 0; k < r.K; ++k) {
    const double x1 = (unit(engine) * 1.25 - 0.25) * r.W;
    const double y1 = (unit(engine) * 1.25 - 0.25) * r.H;
    const double scale = k % 4 == 3 ? 0.02 : 1.5;
    const double w = unit(engine) * scale * r.W, h = unit(engine) * scale * r.H;
    boxes.insert(boxes.end(), {static_cast<float>(x1), static_cast<float>(y1),
                               static_cast<float>(x1 + w), static_cast<float>(y1 + h)});
  }
  return boxes;
}

void run_mask_target_row(const MaskTargetRow& r, Device device, uint64_t seed) {
  std::mt19937_64 engine(seed);
  const std::vector<uint8_t> masks = random_masks(r, engine);
  const std::vector<float> boxes = random_boxes(r, engine);
  std::vector<int64_t> matched_idxs;
  std::uniform_int_distribution<int64_t> gt(0, r.G - 1);
  for (int64_t k = 0; k < r.K; ++k) matched_idxs.push_back(gt(engine));
  Tensor targets;
  project_masks_on_boxes(on_device(masks, {r.G, r.H, r.W}, device),
                         on_device(boxes, {r.K, 4}, device),
                         on_device(matched_idxs, {r.K}, device), r.M, targets);
  ASSERT_EQ(targets.shape(), Shape({r.K, r.M, r.M}));
  EXPECT_TRUE(all_close(host_floats(targets),
                        reference::project_masks_on_boxes(masks, r.G, r.H, r.W, boxes,
                                                          matched_idxs, r.M),
                        {1e-5, 3e-5}));
}

std::string row_name(const MaskTargetRow& r) {
  return "project_masks_on_boxes_g" + std::to_string(r.G) + "_" + std::to_string(r.H) + "x" +
         std::to_string(r.W) + "_k" + std::to_string(r.K) + "_m" + std::to_string(r.M);
}

std::vector<OpCase> mask_target_cases() {
  const MaskTargetRow rows[] = {
      {3, 24, 19, 10, 28}, {2, 13, 11, 6, 7}, {1, 1, 1, 3, 4},
      {4, 64, 48, 40, 28},  // large enough for the parallel CPU path
      {2, 8, 8, 0, 28},     // no positive proposals
  };
  std::vector<OpCase> cases;
  for (const MaskTargetRow& r : rows) {
    cases.push_back({row_name(r), [r](Device device, uint64_t seed) {
                       run_mask_target_row(r, device, seed);
                     }});
  }
  return cases;
}

const OpCaseRegistrar register_mask_target_cases(mask_target_cases());

}  // namespace
}  // namespace wise::testing
