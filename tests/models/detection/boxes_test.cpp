// Box operations and NMS (models/detection/boxes.h): hand-computed examples, the threshold boundary,
// non-finite inputs, empty inputs, named errors, determinism across thread counts and
// devices, and 100k boxes. The reference rows are in tests/op_table/box_cases.cpp,
// torchvision parity in tests/fixtures/boxes_parity_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "kernels/cpu/parallel_for.h"
#include "models/detection/boxes.h"
#include "tests/reference/box_reference.h"
#include "tests/support/compare.h"
#include "tests/support/devices.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

using ::testing::HasSubstr;

const float kNaN = std::numeric_limits<float>::quiet_NaN();

Tensor boxes_tensor(const std::vector<float>& boxes, Device device = Device::cpu) {
  return on_device(boxes, Shape{static_cast<int64_t>(boxes.size() / 4), 4}, device);
}

std::vector<int64_t> run_nms(const std::vector<float>& boxes, const std::vector<float>& scores,
                             double threshold, Device device = Device::cpu) {
  Tensor keep;
  nms(boxes_tensor(boxes, device), on_device(scores, device), {threshold}, keep);
  return keep.to_vector<int64_t>();
}

// n boxes in n / 1000 clusters of near-identical boxes: most are suppressed.
std::vector<float> clustered_boxes(int64_t n, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<float> center(0.0f, 1000.0f), jitter(-3.0f, 3.0f),
      size(40.0f, 60.0f);
  std::vector<float> centers(static_cast<size_t>(2 * (n / 1000 + 1)));
  for (float& c : centers) c = center(engine);
  std::vector<float> boxes(static_cast<size_t>(4 * n));
  for (int64_t i = 0; i < n; ++i) {
    const size_t c = static_cast<size_t>(engine() % (centers.size() / 2));
    float* b = &boxes[4 * i];
    b[0] = centers[2 * c] + jitter(engine);
    b[1] = centers[2 * c + 1] + jitter(engine);
    b[2] = b[0] + size(engine);
    b[3] = b[1] + size(engine);
  }
  return boxes;
}

TEST(BoxIou, HandComputedValues) {
  // (0,0,2,2) and (1,1,3,3): intersection 1, union 4 + 4 - 1 = 7.
  const std::vector<float> a = {0, 0, 2, 2, 5, 5, 5, 5, 0, kNaN, 1, 1};
  const std::vector<float> b = {1, 1, 3, 3, 0, 0, 2, 2, 10, 10, 12, 12, 5, 5, 5, 5};
  Tensor iou;
  box_iou(boxes_tensor(a), boxes_tensor(b), iou);
  ASSERT_EQ(iou.shape(), (Shape{3, 4}));
  const std::vector<float> values = host_floats(iou);
  EXPECT_FLOAT_EQ(values[0], 1.0f / 7.0f);
  EXPECT_EQ(values[1], 1.0f);
  EXPECT_EQ(values[2], 0.0f);
  EXPECT_EQ(values[3], 0.0f);          // 0 / (4 + 0 - 0)
  EXPECT_TRUE(std::isnan(values[7]));  // two zero-area boxes: 0 / 0, as torchvision
  for (int j = 8; j < 12; ++j) EXPECT_TRUE(std::isnan(values[j])) << j;  // a NaN coordinate
}

TEST(Nms, KeepsAtTheThresholdAndSuppressesJustAbove) {
  // IoU exactly 0.5: kept at 0.5 (suppression needs IoU > threshold), not just below.
  const std::vector<float> boxes = {0, 0, 4, 1, 0, 0, 2, 1};
  const std::vector<float> scores = {0.9f, 0.8f};
  EXPECT_EQ(run_nms(boxes, scores, 0.5), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(run_nms(boxes, scores, std::nextafter(0.5, 0.0)), (std::vector<int64_t>{0}));
  // IoU 3/10 rounds to float 0.3f, which is above the double 0.3: torchvision
  // compares in double and suppresses, and so do we.
  const std::vector<float> tenths = {0, 0, 10, 1, 0, 0, 3, 1};
  EXPECT_EQ(run_nms(tenths, scores, 0.3), (std::vector<int64_t>{0}));
  EXPECT_EQ(run_nms(tenths, scores, double(0.3f)), (std::vector<int64_t>{0, 1}));
}

TEST(Nms, OrderIsScoreDescendingThenIndexWithNaNScoresFirst) {
  // Disjoint boxes: nothing is suppressed, the keep list is the visiting order.
  std::vector<float> boxes;
  for (int i = 0; i < 6; ++i) boxes.insert(boxes.end(), {10.0f * i, 0, 10.0f * i + 5, 5});
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> scores = {0.5f, kNaN, 0.5f, inf, kNaN, -inf};
  EXPECT_EQ(run_nms(boxes, scores, 0.5), (std::vector<int64_t>{1, 4, 3, 0, 2, 5}));
}

TEST(Nms, NonFiniteAndDegenerateBoxesNeitherSuppressNorAreSuppressed) {
  const std::vector<float> boxes = {0, 0, 10, 10,  // 0
                                    0, 0, kNaN, 10,  // 1
                                    0, 0, 10, 10,  // 2
                                    3, 3, 3, 3,  // 3
                                    3, 3, 3, 3};  // 4
  const std::vector<float> scores = {0.5f, 0.9f, 0.4f, 0.8f, 0.7f};
  // The NaN box (1) suppresses nothing; box 0 suppresses its duplicate 2; the two
  // zero-area points (IoU 0 / 0) both stay.
  EXPECT_EQ(run_nms(boxes, scores, 0.5), (std::vector<int64_t>{1, 3, 4, 0}));
}

TEST(Nms, EmptyAndSingleBox) {
  EXPECT_TRUE(run_nms({}, {}, 0.5).empty());
  EXPECT_EQ(run_nms({1, 2, 3, 4}, {0.1f}, 0.5), (std::vector<int64_t>{0}));
  Tensor keep;
  nms(boxes_tensor({}), on_device(std::vector<float>{}, Device::cpu), {0.5}, keep);
  EXPECT_EQ(keep.shape(), (Shape{0}));
  EXPECT_EQ(keep.dtype(), DType::int64);
  NmsOptions none;
  none.top_k = 0;
  nms(boxes_tensor({1, 2, 3, 4}), on_device(std::vector<float>{0.1f}, Device::cpu), none, keep);
  EXPECT_EQ(keep.shape(), (Shape{0}));
  Tensor iou;
  box_iou(boxes_tensor({}), boxes_tensor({1, 2, 3, 4}), iou);
  EXPECT_EQ(iou.shape(), (Shape{0, 1}));
  remove_small_boxes(boxes_tensor({}), 1.0f, keep);
  EXPECT_EQ(keep.shape(), (Shape{0}));
  remove_small_boxes(boxes_tensor({0, 0, 0.5f, 3}), 1.0f, keep);
  EXPECT_EQ(keep.shape(), (Shape{0}));
  Tensor decoded;
  box_decode(on_device(std::vector<float>{}, Shape{0, 8}, Device::cpu), boxes_tensor({}), {},
             decoded);
  EXPECT_EQ(decoded.shape(), (Shape{0, 8}));
}

TEST(Boxes, ErrorsNameTheTensorAndTheShape) {
  Tensor keep, iou;
  const Tensor five = on_device(std::vector<float>(10, 1.0f), Shape{2, 5}, Device::cpu);
  const Tensor two_boxes = boxes_tensor({0, 0, 1, 1, 0, 0, 2, 2});
  const Tensor three_scores = on_device(std::vector<float>{1, 2, 3}, Device::cpu);
  const Tensor two_scores = on_device(std::vector<float>{1, 2}, Device::cpu);
  EXPECT_THAT([&] { nms(five, two_scores, {0.5}, keep); },
              ::testing::ThrowsMessage<Error>(HasSubstr("nms: boxes must have shape [N, 4]")));
  EXPECT_THAT([&] { nms(two_boxes, three_scores, {0.5}, keep); },
              ::testing::ThrowsMessage<Error>(HasSubstr("nms: scores must be float32[2]")));
  EXPECT_THAT([&] { batched_nms(two_boxes, two_scores, two_scores, {0.5}, keep); },
              ::testing::ThrowsMessage<Error>(HasSubstr("batched_nms: idxs must be int64[2]")));
  EXPECT_THAT([&] { box_iou(two_boxes, five, iou); },
              ::testing::ThrowsMessage<Error>(HasSubstr("box_iou: boxes2 must have shape [N, 4]")));
  EXPECT_THAT(
      [&] { box_decode(five, two_boxes, {}, iou); },
      ::testing::ThrowsMessage<Error>(HasSubstr("box_decode: rel_codes must have shape [2, 4K]")));
}

TEST(Boxes, CpuResultsAreIdenticalAtOneAndTwoThreads) {
  const std::vector<float> boxes = clustered_boxes(5000, seed_from_name("threads"));
  std::vector<float> scores = random_floats(5000, 7, 0.0f, 1.0f);
  for (size_t i = 0; i < scores.size(); i += 3) scores[i] = 0.25f;  // ties
  const int threads = kernels::cpu::num_threads();
  std::vector<std::vector<int64_t>> keeps;
  std::vector<std::vector<float>> ious, decoded;
  for (int count : {1, 2}) {
    kernels::cpu::set_num_threads(count);
    keeps.push_back(run_nms(boxes, scores, 0.5));
    Tensor iou, pred;
    box_iou(boxes_tensor(boxes), boxes_tensor(boxes), iou);
    ious.push_back(host_floats(iou));
    box_decode(boxes_tensor(random_floats(4 * 5000, 3)), boxes_tensor(boxes), {}, pred);
    decoded.push_back(host_floats(pred));
  }
  kernels::cpu::set_num_threads(threads);
  EXPECT_EQ(keeps[0], keeps[1]);
  EXPECT_TRUE(bitwise_equal(ious[0], ious[1]));
  EXPECT_TRUE(bitwise_equal(decoded[0], decoded[1]));
}

TEST(Boxes, CudaKeepsExactlyTheCpuList) {
  WISE_SKIP_IF_UNAVAILABLE(Device::cuda);
  // Continuous coordinates, not a grid: the devices must still round identically.
  std::vector<float> boxes = clustered_boxes(20000, seed_from_name("devices"));
  std::vector<float> scores = random_floats(20000, 11, 0.0f, 1.0f);
  for (size_t i = 0; i < scores.size(); i += 5) scores[i] = 0.5f;
  scores[17] = kNaN;
  std::vector<int64_t> categories(scores.size());
  for (size_t i = 0; i < categories.size(); ++i) categories[i] = static_cast<int64_t>(i % 3);
  for (double threshold : {0.3, 0.5, 0.7}) {
    EXPECT_EQ(run_nms(boxes, scores, threshold, Device::cuda), run_nms(boxes, scores, threshold));
  }
  NmsOptions options{0.5, 4000, 1 << 20};  // top-k and several mask blocks
  Tensor cpu_keep, cuda_keep;
  batched_nms(boxes_tensor(boxes), on_device(scores, Device::cpu),
              on_device(categories, Device::cpu), options, cpu_keep);
  batched_nms(boxes_tensor(boxes, Device::cuda), on_device(scores, Device::cuda),
              on_device(categories, Device::cuda), options, cuda_keep);
  EXPECT_EQ(cuda_keep.to_vector<int64_t>(), cpu_keep.to_vector<int64_t>());
  const std::vector<float> some(boxes.begin(), boxes.begin() + 4 * 500);
  Tensor cpu_iou, cuda_iou;
  box_iou(boxes_tensor(some), boxes_tensor(some), cpu_iou);
  box_iou(boxes_tensor(some, Device::cuda), boxes_tensor(some, Device::cuda), cuda_iou);
  EXPECT_TRUE(bitwise_equal(host_floats(cuda_iou), host_floats(cpu_iou)));
}

class NmsHundredThousand : public ::testing::TestWithParam<Device> {};

TEST_P(NmsHundredThousand, MatchesTheReferenceInBlocks) {
  WISE_SKIP_IF_UNAVAILABLE(GetParam());
  // A full mask would be 100k x 1563 words = 1.25 GB; the default 64 MiB budget
  // builds it in 19 blocks, skipping the rows already removed.
  const int64_t n = 100000;
  const std::vector<float> boxes = clustered_boxes(n, seed_from_name("100k"));
  std::vector<float> scores = random_floats(n, 5, 0.0f, 1.0f);
  for (size_t i = 0; i < scores.size(); i += 4) scores[i] = 0.75f;
  EXPECT_EQ(run_nms(boxes, scores, 0.7, GetParam()), reference::nms(boxes, scores, {}, 0.7));
}

INSTANTIATE_TEST_SUITE_P(Devices, NmsHundredThousand, ::testing::ValuesIn(all_devices()),
                         device_test_name);

}  // namespace
}  // namespace wise::testing
