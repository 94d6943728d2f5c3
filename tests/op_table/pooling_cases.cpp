// Op-table rows for nn/pooling.h (max_pool2d, global_average_pool) against the naive
// references in tests/reference/pooling_reference.h.
#include <cmath>
#include <limits>
#include <string>

#include "nn/pooling.h"
#include "tests/reference/pooling_reference.h"
#include "tests/support/compare.h"
#include "tests/support/op_table.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

struct PoolShape {
  int64_t N, C, H, W;
  int kernel_size, stride, padding;
};

std::string name_of(const PoolShape& s) {
  return std::to_string(s.N) + "x" + std::to_string(s.C) + "x" + std::to_string(s.H) + "x" +
         std::to_string(s.W) + "_k" + std::to_string(s.kernel_size) + "s" +
         std::to_string(s.stride) + "p" + std::to_string(s.padding);
}

// ResNet's stem (3x3/2 pad 1) on odd and even sizes, FPN's P6 (1x1/2), non-overlapping
// 2x2/2, overlapping 3x3/1, and one large enough for the CPU launcher's parallel path.
const PoolShape kMaxPoolShapes[] = {{2, 3, 15, 15, 3, 2, 1}, {2, 3, 7, 9, 3, 2, 1},
                                    {1, 4, 8, 8, 3, 2, 1},   {2, 5, 7, 9, 1, 2, 0},
                                    {1, 2, 6, 7, 2, 2, 0},   {1, 3, 5, 7, 3, 1, 1},
                                    {1, 1, 1, 1, 3, 2, 1},   {2, 16, 57, 56, 3, 2, 1}};

// Values in {0, 1, 2}: most windows hold ties, which must resolve to the first maximum.
std::vector<float> tied_values(int64_t n, uint64_t seed) {
  std::vector<float> values = random_floats(n, seed, 0.0f, 3.0f);
  for (float& value : values) value = std::floor(value);
  return values;
}

std::vector<int64_t> as_int64(const std::vector<int32_t>& values) {
  return {values.begin(), values.end()};
}

// Forward (output and argmax) and backward against the references.
void check_max_pool(const PoolShape& s, const std::vector<float>& x, Device device, uint64_t seed) {
  const MaxPool2dOptions options{s.kernel_size, s.stride, s.padding};
  const reference::MaxPool2dResult expected =
      reference::max_pool2d(x, s.N, s.C, s.H, s.W, s.kernel_size, s.stride, s.padding);
  Tensor output, argmax;
  max_pool2d_forward(on_device(x, {s.N, s.C, s.H, s.W}, device), options, output, argmax);
  ASSERT_EQ(output.shape(), Shape({s.N, s.C, expected.output_height, expected.output_width}));
  EXPECT_TRUE(all_close(host_floats(output), expected.output, kExact));  // a selection
  EXPECT_EQ(as_int64(argmax.to_vector<int32_t>()), expected.argmax);

  const auto d_output = random_floats(output.numel(), seed + 1);
  const auto prior = random_floats(s.N * s.C * s.H * s.W, seed + 2);  // += must keep it
  Tensor d_input = on_device(prior, {s.N, s.C, s.H, s.W}, device);
  max_pool2d_backward(on_device(d_output, output.shape(), device), argmax, options, d_input);
  // At most ceil(k / s)^2 float additions per element against one double sum.
  EXPECT_TRUE(all_close(
      host_floats(d_input),
      reference::max_pool2d_backward(d_output, expected.argmax, s.N, s.C, s.H, s.W, prior),
      {1e-6, 1e-6}));
}

std::vector<OpCase> max_pool_cases() {
  std::vector<OpCase> cases;
  for (const PoolShape& s : kMaxPoolShapes) {
    cases.push_back({"max_pool2d_" + name_of(s), [s](Device device, uint64_t seed) {
                       check_max_pool(s, random_floats(s.N * s.C * s.H * s.W, seed), device, seed);
                     }});
    cases.push_back({"max_pool2d_ties_" + name_of(s), [s](Device device, uint64_t seed) {
                       check_max_pool(s, tied_values(s.N * s.C * s.H * s.W, seed), device, seed);
                     }});
  }
  cases.push_back({"max_pool2d_nan_and_infinities", [](Device device, uint64_t seed) {
                     const PoolShape s{2, 3, 9, 8, 3, 2, 1};
                     auto x = random_floats(s.N * s.C * s.H * s.W, seed);
                     const float nan = std::numeric_limits<float>::quiet_NaN();
                     const float inf = std::numeric_limits<float>::infinity();
                     x[0] = nan;  // a corner: in one window only
                     x[1] = nan;  // the same window: the later NaN must win
                     x[40] = nan;
                     x[100] = inf;
                     for (int i = 216; i < 288; ++i) x[i] = -inf;  // plane (1, 0), all -inf
                     check_max_pool(s, x, device, seed);
                   }});
  cases.push_back({"max_pool2d_empty_batch", [](Device device, uint64_t) {
                     Tensor output, argmax;
                     max_pool2d_forward(Tensor::zeros({0, 3, 7, 9}, DType::float32, device), {},
                                        output, argmax);
                     EXPECT_EQ(output.shape(), Shape({0, 3, 4, 5}));
                     EXPECT_EQ(argmax.shape(), Shape({0, 3, 4, 5}));
                     Tensor d_input = Tensor::zeros({0, 3, 7, 9}, DType::float32, device);
                     max_pool2d_backward(output, argmax, {}, d_input);
                   }});
  return cases;
}

struct PlaneShape {
  int64_t N, C, H, W;
};

std::vector<OpCase> global_average_pool_cases() {
  const PlaneShape shapes[] = {{2, 3, 7, 9}, {2, 5, 1, 1}, {1, 4, 15, 15}, {3, 2048, 7, 7}};
  std::vector<OpCase> cases;
  for (const PlaneShape& s : shapes) {
    const std::string name = "global_average_pool_" + std::to_string(s.N) + "x" +
                             std::to_string(s.C) + "x" + std::to_string(s.H) + "x" +
                             std::to_string(s.W);
    cases.push_back(
        {name, [s](Device device, uint64_t seed) {
           const auto x = random_floats(s.N * s.C * s.H * s.W, seed);
           Tensor output;
           global_average_pool_forward(on_device(x, {s.N, s.C, s.H, s.W}, device), output);
           ASSERT_EQ(output.shape(), Shape({s.N, s.C, 1, 1}));
           // Summed in double, rounded once.
           EXPECT_TRUE(all_close(host_floats(output),
                                 reference::global_average_pool(x, s.N, s.C, s.H, s.W),
                                 {1.2e-7, 1e-12}));
           const auto d_output = random_floats(s.N * s.C, seed + 1);
           const auto prior = random_floats(s.N * s.C * s.H * s.W, seed + 2);
           Tensor d_input = on_device(prior, {s.N, s.C, s.H, s.W}, device);
           global_average_pool_backward(on_device(d_output, output.shape(), device), d_input);
           // A division and an addition, each rounded.
           EXPECT_TRUE(all_close(
               host_floats(d_input),
               reference::global_average_pool_backward(d_output, s.N, s.C, s.H, s.W, prior),
               {2.5e-7, 1e-7}));
         }});
  }
  cases.push_back({"global_average_pool_propagates_nan", [](Device device, uint64_t seed) {
                     auto x = random_floats(2 * 3 * 4 * 5, seed);
                     x[25] = std::numeric_limits<float>::quiet_NaN();  // plane (0, 1)
                     Tensor output;
                     global_average_pool_forward(on_device(x, {2, 3, 4, 5}, device), output);
                     const auto y = host_floats(output);
                     for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(std::isnan(y[i]), i == 1) << i;
                   }});
  return cases;
}

const OpCaseRegistrar register_max_pool(max_pool_cases());
const OpCaseRegistrar register_global_average_pool(global_average_pool_cases());

}  // namespace
}  // namespace wise::testing
