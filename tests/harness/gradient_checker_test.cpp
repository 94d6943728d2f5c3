// The gradient checker on real kernels, and proof that it catches broken ones.
#include <gtest/gtest.h>

#include "kernels/elementwise.h"
#include "kernels/reduce.h"
#include "tests/support/devices.h"
#include "tests/support/gradient_checker.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

namespace k = kernels;

Tensor random_input(const Shape& shape, uint64_t seed, Device device) {
  return on_device(random_floats(shape.numel(), seed), shape, device);
}

// y = relu(x)
DifferentiableOp relu_op(Device device, uint64_t seed) {
  DifferentiableOp op;
  op.name = "relu";
  op.inputs = {random_input({3, 5, 7}, seed, device)};
  op.forward = [](const std::vector<Tensor>& in, uint64_t) {
    Tensor y = Tensor::empty(in[0].shape(), DType::float32, in[0].device());
    k::relu_forward(y.device(), in[0].data<float>(), y.data<float>(), y.numel());
    return std::vector<Tensor>{y};
  };
  op.backward = [](const std::vector<Tensor>&, const std::vector<Tensor>& out,
                   const std::vector<Tensor>& d_out, std::vector<Tensor>& d_in, uint64_t) {
    k::relu_backward(out[0].device(), out[0].data<float>(), d_out[0].data<float>(),
                     d_in[0].data<float>(), out[0].numel());
  };
  return op;
}

// y = a * b, with d_a += d_y * b and d_b += d_y * a
DifferentiableOp multiply_op(Device device, uint64_t seed) {
  DifferentiableOp op;
  op.name = "multiply";
  op.inputs = {random_input({4, 9}, seed, device), random_input({4, 9}, seed + 1, device)};
  op.forward = [](const std::vector<Tensor>& in, uint64_t) {
    Tensor y = Tensor::empty(in[0].shape(), DType::float32, in[0].device());
    k::multiply(y.device(), in[0].data<float>(), in[1].data<float>(), y.data<float>(), y.numel());
    return std::vector<Tensor>{y};
  };
  op.backward = [](const std::vector<Tensor>& in, const std::vector<Tensor>&,
                   const std::vector<Tensor>& d_out, std::vector<Tensor>& d_in, uint64_t) {
    const Device where = in[0].device();
    const int64_t n = in[0].numel();
    k::multiply_accumulate(where, d_out[0].data<float>(), in[1].data<float>(), d_in[0].data<float>(), n);
    k::multiply_accumulate(where, d_out[0].data<float>(), in[0].data<float>(), d_in[1].data<float>(), n);
  };
  return op;
}

// y = mean(x) (a scalar), d_x += d_y / n
DifferentiableOp mean_op(Device device, uint64_t seed) {
  DifferentiableOp op;
  op.name = "mean";
  op.inputs = {random_input({50}, seed, device)};
  op.forward = [](const std::vector<Tensor>& in, uint64_t) {
    const Device where = in[0].device();
    Tensor workspace = Tensor::empty({2 * k::reduce_workspace_size(in[0].numel())}, DType::float32, where);
    Tensor y = Tensor::empty({1}, DType::float32, where);
    k::mean(where, in[0].data<float>(), in[0].numel(), static_cast<double*>(workspace.raw_data()),
            y.data<float>());
    return std::vector<Tensor>{y};
  };
  op.backward = [](const std::vector<Tensor>& in, const std::vector<Tensor>&,
                   const std::vector<Tensor>& d_out, std::vector<Tensor>& d_in, uint64_t) {
    const int64_t n = in[0].numel();
    const float d_y = d_out[0].to_vector<float>()[0];
    Tensor ones = Tensor::empty({n}, DType::float32, in[0].device());
    ones.fill(1.0f);
    k::axpy(in[0].device(), d_y / static_cast<float>(n), ones.data<float>(), d_in[0].data<float>(), n);
  };
  return op;
}

class GradientCheck : public ::testing::TestWithParam<Device> {};

TEST_P(GradientCheck, ReluMultiplyAndMeanBackwardsMatchFiniteDifferences) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  GradientCheckOptions options;
  options.seed = seed_from_name("GradientCheck");
  options.kink_range = 2 * options.step;  // ReLU's kink at 0
  EXPECT_TRUE(gradients_match(check_gradients(relu_op(device, options.seed), options)));
  GradientCheckOptions smooth = options;
  smooth.kink_range = -1;
  EXPECT_TRUE(gradients_match(check_gradients(multiply_op(device, options.seed), smooth)));
  EXPECT_TRUE(gradients_match(check_gradients(mean_op(device, options.seed), smooth)));
}

INSTANTIATE_TEST_SUITE_P(Devices, GradientCheck, ::testing::ValuesIn(all_devices()), device_test_name);

// A backward that assigns instead of accumulating must fail: the checker
// pre-fills d_input with non-zero values.
TEST(GradientChecker, CatchesABackwardThatOverwritesInsteadOfAccumulating) {
  DifferentiableOp op = relu_op(Device::cpu, 3);
  op.backward = [](const std::vector<Tensor>&, const std::vector<Tensor>& out,
                   const std::vector<Tensor>& d_out, std::vector<Tensor>& d_in, uint64_t) {
    d_in[0].zero();  // the bug: `=` semantics
    k::relu_backward(Device::cpu, out[0].data<float>(), d_out[0].data<float>(),
                     d_in[0].data<float>(), out[0].numel());
  };
  GradientCheckOptions options;
  options.kink_range = 0.02;
  const GradientCheckReport report = check_gradients(op, options);
  EXPECT_FALSE(gradients_match(report));
  EXPECT_EQ(report.mismatches.size(), static_cast<size_t>(report.checked));
}

TEST(GradientChecker, CatchesAWrongFactor) {
  DifferentiableOp op = multiply_op(Device::cpu, 4);
  op.backward = [](const std::vector<Tensor>& in, const std::vector<Tensor>&,
                   const std::vector<Tensor>& d_out, std::vector<Tensor>& d_in, uint64_t) {
    const int64_t n = in[0].numel();
    k::multiply_accumulate(Device::cpu, d_out[0].data<float>(), in[1].data<float>(), d_in[0].data<float>(), n);
    // the bug: d_b gets d_y * b instead of d_y * a
    k::multiply_accumulate(Device::cpu, d_out[0].data<float>(), in[1].data<float>(), d_in[1].data<float>(), n);
  };
  const GradientCheckReport report = check_gradients(op, {});
  EXPECT_FALSE(gradients_match(report));
  for (const GradientMismatch& mismatch : report.mismatches) EXPECT_EQ(mismatch.input, 1);
}

TEST(GradientChecker, AReportThatCheckedNothingFails) {
  EXPECT_FALSE(gradients_match(GradientCheckReport{}));
}

}  // namespace
}  // namespace wise::testing
