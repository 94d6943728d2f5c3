// Op-table rows for kernels/elementwise.h, kernels/reduce.h and kernels/reorder.h.
#include <cmath>
#include <limits>

#include "kernels/cpu/parallel_for.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"
#include "kernels/reorder.h"
#include "kernels/softmax.h"
#include "tests/reference/elementwise_reference.h"
#include "tests/support/compare.h"
#include "tests/support/op_table.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

namespace k = kernels;
using kernels::Device;
using kernels::MemoryFormat;

// Sizes around the CPU launcher's serial/parallel threshold and odd sizes.
const int64_t kSizes[] = {1, 7, 1000, k::cpu::kParallelThreshold + 1, 100003};

// Exactly-rounded float results of a double reference: tolerance of one
// float rounding.
const Tolerance kFloatRounding{1.2e-7, 0.0};

std::vector<OpCase> elementwise_cases() {
  std::vector<OpCase> cases;
  for (int64_t n : kSizes) {
    const std::string size = "_n" + std::to_string(n);
    cases.push_back({"fill" + size, [n](Device device, uint64_t) {
                       Tensor y = Tensor::empty({n}, DType::float32, device);
                       k::fill(device, y.data<float>(), 2.5f, n);
                       EXPECT_TRUE(all_close(host_floats(y), std::vector<double>(n, 2.5), kExact));
                     }});
    cases.push_back({"add" + size, [n](Device device, uint64_t seed) {
                       const auto a = random_floats(n, seed), b = random_floats(n, seed + 1);
                       Tensor out = Tensor::empty({n}, DType::float32, device);
                       k::add(device, on_device(a, device).data<float>(),
                              on_device(b, device).data<float>(), out.data<float>(), n);
                       EXPECT_TRUE(all_close(host_floats(out), reference::add(a, b), kFloatRounding));
                     }});
    cases.push_back({"multiply" + size, [n](Device device, uint64_t seed) {
                       const auto a = random_floats(n, seed), b = random_floats(n, seed + 1);
                       Tensor out = Tensor::empty({n}, DType::float32, device);
                       k::multiply(device, on_device(a, device).data<float>(),
                                   on_device(b, device).data<float>(), out.data<float>(), n);
                       EXPECT_TRUE(all_close(host_floats(out), reference::multiply(a, b), kFloatRounding));
                     }});
    cases.push_back({"multiply_accumulate" + size, [n](Device device, uint64_t seed) {
                       const auto a = random_floats(n, seed), b = random_floats(n, seed + 1);
                       const auto prior = random_floats(n, seed + 2);
                       Tensor out = on_device(prior, device);
                       k::multiply_accumulate(device, on_device(a, device).data<float>(),
                                              on_device(b, device).data<float>(), out.data<float>(), n);
                       // A fused multiply-add (GPU) or two roundings (CPU): allow 2 ulp.
                       EXPECT_TRUE(all_close(host_floats(out),
                                             reference::multiply_accumulate(a, b, prior),
                                             {2.5e-7, 1e-7}));
                     }});
    cases.push_back({"axpy" + size, [n](Device device, uint64_t seed) {
                       const auto x = random_floats(n, seed), y = random_floats(n, seed + 1);
                       Tensor out = on_device(y, device);
                       k::axpy(device, -0.75f, on_device(x, device).data<float>(), out.data<float>(), n);
                       EXPECT_TRUE(all_close(host_floats(out), reference::axpy(-0.75, x, y),
                                             {2.5e-7, 1e-7}));
                     }});
    cases.push_back({"scale" + size, [n](Device device, uint64_t seed) {
                       const auto y = random_floats(n, seed);
                       Tensor out = on_device(y, device);
                       k::scale(device, 3.0f, out.data<float>(), n);
                       EXPECT_TRUE(all_close(host_floats(out), reference::scale(3.0, y), kFloatRounding));
                     }});
    cases.push_back({"relu_forward" + size, [n](Device device, uint64_t seed) {
                       auto x = random_floats(n, seed);
                       x[0] = std::numeric_limits<float>::quiet_NaN();  // must pass through
                       if (n > 2) x[1] = 0.0f;
                       Tensor y = Tensor::empty({n}, DType::float32, device);
                       k::relu_forward(device, on_device(x, device).data<float>(), y.data<float>(), n);
                       EXPECT_TRUE(all_close(host_floats(y), reference::relu(x), kExact));
                     }});
    cases.push_back({"sigmoid_forward" + size, [n](Device device, uint64_t seed) {
                       auto x = random_floats(n, seed, -12.0f, 12.0f);
                       x[0] = -100.0f;  // exp(100) overflows to inf: the limit 0, not NaN
                       if (n > 2) x[1] = 100.0f;
                       Tensor y = Tensor::empty({n}, DType::float32, device);
                       k::sigmoid_forward(device, on_device(x, device).data<float>(), y.data<float>(), n);
                       // expf is within 2 ulps; 1 / (1 + e) adds two roundings
                       EXPECT_TRUE(all_close(host_floats(y), reference::sigmoid(x), {5e-7, 1e-30}));
                     }});
    cases.push_back({"softmax_rows" + size, [n](Device device, uint64_t seed) {
                       const int64_t C = 7, rows = (n + C - 1) / C;  // 7 classes, as a box head's
                       auto x = random_floats(rows * C, seed, -20.0f, 20.0f);
                       Tensor p = Tensor::empty({rows * C}, DType::float32, device);
                       k::softmax_rows(device, on_device(x, device).data<float>(), rows, C, p.data<float>());
                       // x - max rounds in float (up to ulp(40) / 2 = 1.9e-6 of the exponent,
                       // as torch's): that much relative error, plus three roundings
                       EXPECT_TRUE(all_close(host_floats(p), reference::softmax_rows(x, C), {3e-6, 1e-30}));
                     }});
    cases.push_back({"relu_backward" + size, [n](Device device, uint64_t seed) {
                       auto y = reference::relu(random_floats(n, seed));
                       std::vector<float> y_float(y.begin(), y.end());
                       const auto d_y = random_floats(n, seed + 1);
                       const auto prior = random_floats(n, seed + 2);  // += must keep it
                       Tensor d_x = on_device(prior, device);
                       k::relu_backward(device, on_device(y_float, device).data<float>(),
                                        on_device(d_y, device).data<float>(), d_x.data<float>(), n);
                       EXPECT_TRUE(all_close(host_floats(d_x),
                                             reference::relu_backward(y_float, d_y, prior),
                                             kFloatRounding));
                     }});
  }
  return cases;
}

// Sizes around the reduction chunk (4096) and the CPU threshold.
const int64_t kReduceSizes[] = {1, 4095, 4096, 4097, 3 * 4096 + 5, 1000003};

std::vector<OpCase> reduction_cases() {
  std::vector<OpCase> cases;
  for (int64_t n : kReduceSizes) {
    const std::string size = "_n" + std::to_string(n);
    auto run = [n](Device device, uint64_t seed, const char* op) {
      const auto x = random_floats(n, seed, -2.0f, 3.0f);
      Tensor workspace = Tensor::empty({k::reduce_workspace_size(n) * 2}, DType::float32, device);
      auto* scratch = static_cast<double*>(workspace.raw_data());
      Tensor out = Tensor::empty({1}, DType::float32, device);
      const Tensor x_tensor = on_device(x, device);
      const float* input = x_tensor.data<float>();
      const std::string name = op;
      double expected;
      if (name == "sum") {
        k::sum(device, input, n, scratch, out.data<float>());
        expected = reference::sum(x);
      } else if (name == "mean") {
        k::mean(device, input, n, scratch, out.data<float>());
        expected = reference::sum(x) / static_cast<double>(n);
      } else {
        k::max(device, input, n, scratch, out.data<float>());
        expected = reference::max(x);
      }
      // Accumulated in double, rounded once to float.
      EXPECT_TRUE(all_close(host_floats(out), {expected}, {1.2e-7, 1e-9}));
    };
    cases.push_back({"sum" + size, [run](Device d, uint64_t s) { run(d, s, "sum"); }});
    cases.push_back({"mean" + size, [run](Device d, uint64_t s) { run(d, s, "mean"); }});
    cases.push_back({"max" + size, [run](Device d, uint64_t s) { run(d, s, "max"); }});
  }
  cases.push_back({"sum_empty", [](Device device, uint64_t) {
                     Tensor workspace = Tensor::empty({2}, DType::float32, device);
                     Tensor out = Tensor::empty({1}, DType::float32, device);
                     k::sum(device, nullptr, 0, static_cast<double*>(workspace.raw_data()), out.data<float>());
                     EXPECT_TRUE(all_close(host_floats(out), {0.0}, kExact));
                     k::mean(device, nullptr, 0, static_cast<double*>(workspace.raw_data()), out.data<float>());
                     EXPECT_TRUE(std::isnan(host_floats(out)[0]));
                   }});
  cases.push_back({"max_propagates_nan", [](Device device, uint64_t seed) {
                     auto x = random_floats(10000, seed);
                     x[5000] = std::numeric_limits<float>::quiet_NaN();
                     Tensor workspace = Tensor::empty({2 * k::reduce_workspace_size(10000)}, DType::float32, device);
                     Tensor out = Tensor::empty({1}, DType::float32, device);
                     k::max(device, on_device(x, device).data<float>(), 10000,
                            static_cast<double*>(workspace.raw_data()), out.data<float>());
                     EXPECT_TRUE(std::isnan(host_floats(out)[0]));
                   }});
  return cases;
}

struct LayoutCase {
  MemoryFormat format;
  const char* layout;
};

std::vector<OpCase> reorder_cases() {
  const LayoutCase layouts[] = {{MemoryFormat::nhwc, "nhwc"},
                                {MemoryFormat::nchw8c, "nChw8c"},
                                {MemoryFormat::nchw16c, "nChw16c"}};
  const int64_t shapes[][4] = {{2, 3, 5, 7}, {1, 17, 4, 3}, {3, 32, 9, 11}, {1, 1, 1, 1}};
  std::vector<OpCase> cases;
  for (const LayoutCase& target : layouts) {
    for (const auto& s : shapes) {
      const int64_t N = s[0], C = s[1], H = s[2], W = s[3];
      const std::string name = std::string("reorder_plain_to_") + target.layout + "_" +
                               std::to_string(N) + "x" + std::to_string(C) + "x" +
                               std::to_string(H) + "x" + std::to_string(W);
      cases.push_back({name, [=](Device device, uint64_t seed) {
                         const auto x = random_floats(N * C * H * W, seed);
                         const Tensor plain = on_device(x, Shape{N, C, H, W}, device);
                         const Tensor reordered = plain.to_format(target.format);
                         EXPECT_TRUE(all_close(physical_floats(reordered),
                                               reference::to_layout(x, N, C, H, W, target.layout),
                                               kExact));
                         // And back: the round trip is the identity.
                         const Tensor back = reordered.to_format(MemoryFormat::plain);
                         EXPECT_TRUE(all_close(physical_floats(back),
                                               reference::to_layout(x, N, C, H, W, "nchw"), kExact));
                       }});
    }
  }
  cases.push_back({"reorder_nhwc_to_nChw16c", [](Device device, uint64_t seed) {
                     const int64_t N = 2, C = 20, H = 3, W = 5;
                     const auto x = random_floats(N * C * H * W, seed);
                     const Tensor nhwc = on_device(x, Shape{N, C, H, W}, device).to_format(MemoryFormat::nhwc);
                     EXPECT_TRUE(all_close(physical_floats(nhwc.to_format(MemoryFormat::nchw16c)),
                                           reference::to_layout(x, N, C, H, W, "nChw16c"), kExact));
                   }});
  return cases;
}

const OpCaseRegistrar register_elementwise(elementwise_cases());
const OpCaseRegistrar register_reductions(reduction_cases());
const OpCaseRegistrar register_reorders(reorder_cases());

}  // namespace
}  // namespace wise::testing
