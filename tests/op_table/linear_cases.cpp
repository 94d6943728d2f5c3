// Op-table rows for nn/linear.h (kernels/gemm.h underneath) against a naive
// double matrix product.
#include <algorithm>
#include <cmath>

#include "nn/linear.h"
#include "tests/support/compare.h"
#include "tests/support/op_table.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

struct LinearCase {
  const char* name;
  int64_t batch, in_features, out_features;
  bool bias;
};

Tolerance product_tolerance(const std::vector<double>& expected, int64_t terms) {
  double scale = 1e-6;
  for (double value : expected) scale = std::max(scale, std::fabs(value));
  return {1e-5, 2e-6 * std::sqrt(static_cast<double>(terms)) * scale};
}

std::vector<OpCase> linear_cases() {
  std::vector<OpCase> cases;
  for (const LinearCase& c : {LinearCase{"box_head_fc", 16, 256, 64, true}, LinearCase{"odd_sizes", 7, 33, 5, false},
                              LinearCase{"single_row", 1, 100, 21, true}, LinearCase{"wide", 3, 1000, 300, true}}) {
    const LinearCase l = c;
    cases.push_back({std::string("linear_") + l.name, [l](Device device, uint64_t seed) {
      const auto x = random_floats(l.batch * l.in_features, seed);
      const auto w = random_floats(l.out_features * l.in_features, seed + 1);
      const auto b = random_floats(l.out_features, seed + 2);
      const auto dy = random_floats(l.batch * l.out_features, seed + 3);
      const auto dx0 = random_floats(l.batch * l.in_features, seed + 4);
      const auto dw0 = random_floats(l.out_features * l.in_features, seed + 5);
      const auto db0 = random_floats(l.out_features, seed + 6);
      const Tensor input = on_device(x, Shape{l.batch, l.in_features}, device);
      const Tensor weight = on_device(w, Shape{l.out_features, l.in_features}, device);
      Tensor output;
      linear_forward(input, weight, l.bias ? on_device(b, Shape{l.out_features}, device) : Tensor(), output);
      Tensor d_input = on_device(dx0, Shape{l.batch, l.in_features}, device);
      Tensor d_weight = on_device(dw0, Shape{l.out_features, l.in_features}, device);
      Tensor d_bias = on_device(db0, Shape{l.out_features}, device);
      linear_backward(input, weight, on_device(dy, Shape{l.batch, l.out_features}, device), &d_input, &d_weight,
                      &d_bias);

      // y = x W^T + b; d_x += dy W; d_W += dy^T x; d_b += column sums of dy.
      std::vector<double> y(l.batch * l.out_features), dx(dx0.begin(), dx0.end());
      std::vector<double> dw(dw0.begin(), dw0.end()), db(db0.begin(), db0.end());
      for (int64_t i = 0; i < l.batch; ++i) {
        for (int64_t o = 0; o < l.out_features; ++o) {
          double sum = l.bias ? b[o] : 0.0;
          for (int64_t j = 0; j < l.in_features; ++j) {
            sum += double(x[i * l.in_features + j]) * w[o * l.in_features + j];
            dx[i * l.in_features + j] += double(dy[i * l.out_features + o]) * w[o * l.in_features + j];
            dw[o * l.in_features + j] += double(dy[i * l.out_features + o]) * x[i * l.in_features + j];
          }
          y[i * l.out_features + o] = sum;
          db[o] += dy[i * l.out_features + o];
        }
      }
      EXPECT_TRUE(all_close(output.to_vector<float>(), y, product_tolerance(y, l.in_features))) << "y";
      EXPECT_TRUE(all_close(d_input.to_vector<float>(), dx, product_tolerance(dx, l.out_features))) << "d_input";
      EXPECT_TRUE(all_close(d_weight.to_vector<float>(), dw, product_tolerance(dw, l.batch))) << "d_weight";
      EXPECT_TRUE(all_close(d_bias.to_vector<float>(), db, product_tolerance(db, l.batch))) << "d_bias";
    }});
  }
  return cases;
}

const OpCaseRegistrar register_linear(linear_cases());

}  // namespace
}  // namespace wise::testing
