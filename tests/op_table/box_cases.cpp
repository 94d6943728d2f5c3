// Op-table rows for models/detection/boxes.h (kernels/box_ops.h, kernels/nms.h) against the naive
// double references in tests/reference/box_reference.h.
//
// NMS rows use boxes on a grid of halves (every product and sum exact in float), so
// the float kernel and the double reference take the same decision at every pair and
// the keep lists must be equal. Scores take 21 levels: ties everywhere.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "models/detection/boxes.h"
#include "tests/reference/box_reference.h"
#include "tests/support/compare.h"
#include "tests/support/op_table.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

using kernels::Device;

constexpr double kFloatEpsilon = 1.1920928955078125e-7;  // 2^-23

// n continuous random boxes in [low, low + 100 + 40); every 7th is degenerate.
std::vector<float> random_boxes(int64_t n, uint64_t seed, float low = 0.0f) {
  std::vector<float> boxes = random_floats(4 * n, seed, 0.0f, 1.0f);
  for (int64_t i = 0; i < n; ++i) {
    float* b = &boxes[4 * i];
    b[0] = low + 100.0f * b[0];
    b[1] = low + 100.0f * b[1];
    b[2] = i % 7 == 3 ? b[0] : b[0] + 40.0f * b[2];
    b[3] = b[1] + 40.0f * b[3];
  }
  return boxes;
}

// n boxes on a grid of halves, in overlapping clusters; some zero-sized.
std::vector<float> grid_boxes(int64_t n, std::mt19937_64& engine) {
  std::uniform_int_distribution<int> center(20, 220), offset(-12, 12), size(0, 60);
  std::vector<float> centers;
  for (int64_t c = 0; c < std::max<int64_t>(n / 50, 1) * 2; ++c)
    centers.push_back(0.5f * float(center(engine)));
  const int64_t clusters = static_cast<int64_t>(centers.size()) / 2;
  std::vector<float> boxes(static_cast<size_t>(4 * n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = static_cast<int64_t>(engine() % static_cast<uint64_t>(clusters));
    float* b = &boxes[4 * i];
    b[0] = centers[2 * c] + 0.5f * float(offset(engine));
    b[1] = centers[2 * c + 1] + 0.5f * float(offset(engine));
    b[2] = b[0] + 0.5f * float(size(engine));
    b[3] = b[1] + 0.5f * float(size(engine));
  }
  return boxes;
}

std::vector<float> tie_scores(int64_t n, std::mt19937_64& engine) {
  std::uniform_int_distribution<int> level(0, 20);
  std::vector<float> scores(static_cast<size_t>(n));
  for (float& score : scores) score = 0.05f * float(level(engine));
  return scores;
}

Tensor boxes_on(const std::vector<float>& boxes, Device device) {
  return on_device(boxes, Shape{static_cast<int64_t>(boxes.size() / 4), 4}, device);
}

std::vector<OpCase> box_cases() {
  std::vector<OpCase> cases;
  for (auto [n, m] : {std::pair<int64_t, int64_t>{1, 1}, {37, 53}, {300, 301}, {0, 5}}) {
    cases.push_back({"box_iou_" + std::to_string(n) + "x" + std::to_string(m),
                     [n = n, m = m](Device device, uint64_t seed) {
                       const std::vector<float> a = random_boxes(n, seed),
                                                b = random_boxes(m, seed + 1);
                       Tensor iou;
                       box_iou(boxes_on(a, device), boxes_on(b, device), iou);
                       EXPECT_EQ(iou.shape(), (Shape{n, m}));
                       EXPECT_TRUE(all_close(host_floats(iou), reference::box_iou_matrix(a, b),
                                             {8 * kFloatEpsilon, 1e-7}));
                     }});
  }
  for (int64_t classes : {int64_t{1}, int64_t{3}}) {
    cases.push_back(
        {"box_encode_decode_n257_classes" + std::to_string(classes),
         [classes](Device device, uint64_t seed) {
           const int64_t n = 257;
           const double weights[4] = {10.0, 10.0, 5.0, 5.0};
           BoxCoderOptions options;
           options.weights = {10.0f, 10.0f, 5.0f, 5.0f};
           std::vector<float> g = random_boxes(n, seed), p = random_boxes(n, seed + 1);
           // Widths and heights >= 1: the targets divide by them.
           for (int64_t i = 0; i < 4 * n; i += 4) {
             for (int c : {2, 3}) {
               g[i + c] += 1.0f;
               p[i + c] += 1.0f;
             }
           }
           Tensor targets;
           box_encode(boxes_on(g, device), boxes_on(p, device), options, targets);
           EXPECT_TRUE(
               all_close(host_floats(targets), reference::box_encode(g, p, weights), {1e-5, 2e-4}));
           std::vector<float> codes = random_floats(4 * n * classes, seed + 2, -3.0f, 6.0f);
           Tensor pred;
           box_decode(on_device(codes, Shape{n, 4 * classes}, device), boxes_on(p, device), options,
                      pred);
           EXPECT_TRUE(all_close(host_floats(pred),
                                 reference::box_decode(codes, p, weights, options.bbox_xform_clip),
                                 {1e-5, 1e-4}));
         }});
  }
  cases.push_back(
      {"clip_boxes_and_remove_small_n500", [](Device device, uint64_t seed) {
         const std::vector<float> boxes = random_boxes(500, seed, -30.0f);
         Tensor clipped, keep;
         clip_boxes_to_image(boxes_on(boxes, device), 90, 110, clipped);
         EXPECT_TRUE(all_close(host_floats(clipped),
                               reference::clip_boxes_to_image(boxes, 90.0, 110.0), kExact));
         remove_small_boxes(boxes_on(boxes, device), 12.5f, keep);
         EXPECT_EQ(keep.to_vector<int64_t>(), reference::remove_small_boxes(boxes, 12.5));
       }});
  return cases;
}

std::vector<OpCase> nms_cases() {
  std::vector<OpCase> cases;
  for (int64_t n :
       {int64_t{0}, int64_t{1}, int64_t{64}, int64_t{65}, int64_t{1000}, int64_t{5000}}) {
    for (double threshold : {0.3, 0.5, 0.7}) {
      const std::string name =
          "nms_n" + std::to_string(n) + "_t" + std::to_string(int(threshold * 10));
      cases.push_back({name, [n, threshold](Device device, uint64_t seed) {
                         std::mt19937_64 engine(seed);
                         const std::vector<float> boxes = grid_boxes(n, engine);
                         const std::vector<float> scores = tie_scores(n, engine);
                         Tensor keep;
                         nms(boxes_on(boxes, device), on_device(scores, device), {threshold}, keep);
                         EXPECT_EQ(keep.to_vector<int64_t>(),
                                   reference::nms(boxes, scores, {}, threshold));
                       }});
    }
  }
  for (int64_t n : {int64_t{1}, int64_t{700}, int64_t{3000}}) {
    cases.push_back(
        {"batched_nms_n" + std::to_string(n) + "_top_k", [n](Device device, uint64_t seed) {
           std::mt19937_64 engine(seed);
           const std::vector<float> boxes = grid_boxes(n, engine);
           const std::vector<float> scores = tie_scores(n, engine);
           std::vector<int64_t> categories(static_cast<size_t>(n));
           for (int64_t& category : categories) category = static_cast<int64_t>(engine() % 4);
           Tensor keep;
           batched_nms(boxes_on(boxes, device), on_device(scores, device),
                       on_device(categories, device), {0.5}, keep);
           EXPECT_EQ(keep.to_vector<int64_t>(), reference::nms(boxes, scores, categories, 0.5));
           NmsOptions top;
           top.iou_threshold = 0.6;
           top.top_k = n / 3;
           batched_nms(boxes_on(boxes, device), on_device(scores, device),
                       on_device(categories, device), top, keep);
           EXPECT_EQ(keep.to_vector<int64_t>(),
                     reference::nms(boxes, scores, categories, 0.6, n / 3));
         }});
  }
  return cases;
}

const OpCaseRegistrar register_boxes(box_cases());
const OpCaseRegistrar register_nms(nms_cases());

}  // namespace
}  // namespace wise::testing
