// Op-table rows for nn/batch_norm.h and nn/group_norm.h against the naive double
// references of tests/reference/norm_reference.h.
//
// Tolerances: the kernels sum in double (like the reference) and round the
// statistics once to float (kStatistic: one rounding); the elementwise passes
// then run in float, a few roundings on values of order |x_hat| <= ~4 (worst
// error seen on the CPU: 6.6e-7), so outputs and gradients are held to a few
// 1e-6, with room for the GPU's fused multiply-adds.
#include <cmath>
#include <limits>
#include <string>

#include "nn/batch_norm.h"
#include "nn/group_norm.h"
#include "tests/reference/elementwise_reference.h"
#include "tests/reference/norm_reference.h"
#include "tests/support/compare.h"
#include "tests/support/op_table.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

using kernels::Device;
using kernels::MemoryFormat;
using reference::NormShape;

const Tolerance kOutput{3e-6, 3e-6};
const Tolerance kGradient{5e-6, 5e-6};
const Tolerance kStatistic{2e-7, 1e-7};

struct NormCase {
  NormShape shape;
  MemoryFormat format = MemoryFormat::plain;
  int64_t groups = 1;  // group norm only
  std::string name(const std::string& op) const {
    std::string text = op + "_" + std::to_string(shape.N) + "x" + std::to_string(shape.C) + "x" +
                       std::to_string(shape.H) + "x" + std::to_string(shape.W);
    if (format != MemoryFormat::plain) text += std::string("_") + kernels::memory_format_name(format);
    return text;
  }
};

std::vector<double> doubles(const std::vector<float>& values) { return {values.begin(), values.end()}; }

std::vector<double> plus(const std::vector<float>& prior, const std::vector<double>& delta) {
  std::vector<double> sum(delta.size());
  for (size_t i = 0; i < delta.size(); ++i) sum[i] = double(prior[i]) + delta[i];
  return sum;
}

Tensor activation(const std::vector<float>& plain, const NormShape& s, MemoryFormat format, Device device) {
  return on_device(plain, Shape{s.N, s.C, s.H, s.W}, device).to_format(format);
}

// An output buffer in `format` holding NaN everywhere, padding included: the
// layer reuses it (ensure_tensor), so stale padding would show.
Tensor poisoned_output(const NormShape& s, MemoryFormat format, Device device) {
  Tensor host = Tensor::empty({s.N, s.C, s.H, s.W}, DType::float32, Device::cpu, format);
  float* data = host.data<float>();
  for (int64_t i = 0; i < host.physical_numel(); ++i) data[i] = std::numeric_limits<float>::quiet_NaN();
  return host.to(device);
}

// The physical buffer is the logical values laid out in the format with zero padding.
::testing::AssertionResult layout_is_clean(const Tensor& tensor) {
  const char* layout =
      tensor.format() == MemoryFormat::plain ? "nchw" : kernels::memory_format_name(tensor.format());
  return all_close(physical_floats(tensor),
                   reference::to_layout(host_floats(tensor), tensor.size(0), tensor.size(1), tensor.size(2),
                                        tensor.size(3), layout),
                   kExact);
}

struct BatchNormData {
  std::vector<float> x, weight, bias, running_mean, running_var, d_y, d_x_prior, d_weight_prior, d_bias_prior;
};

BatchNormData batch_norm_data(const NormShape& s, uint64_t seed) {
  BatchNormData data;
  data.x = random_floats(s.numel(), seed, -2.0f, 3.0f);
  data.weight = random_floats(s.C, seed + 1, 0.5f, 1.5f);
  data.bias = random_floats(s.C, seed + 2);
  data.running_mean = random_floats(s.C, seed + 3);
  data.running_var = random_floats(s.C, seed + 4, 0.5f, 2.0f);
  data.d_y = random_floats(s.numel(), seed + 5);
  data.d_x_prior = random_floats(s.numel(), seed + 6);
  data.d_weight_prior = random_floats(s.C, seed + 7);
  data.d_bias_prior = random_floats(s.C, seed + 8);
  return data;
}

void batch_norm_training_row(const NormCase& row, Device device, uint64_t seed) {
  const NormShape s = row.shape;
  const BatchNormData data = batch_norm_data(s, seed);
  const BatchNorm2dOptions options;
  const Tensor x = activation(data.x, s, row.format, device);
  const Tensor weight = on_device(data.weight, device), bias = on_device(data.bias, device);
  Tensor running_mean = on_device(data.running_mean, device),
         running_var = on_device(data.running_var, device);
  Tensor output = poisoned_output(s, row.format, device), save_mean, save_invstd;
  batch_norm_2d_training_forward(x, weight, bias, running_mean, running_var, options, output, save_mean,
                                 save_invstd);
  const reference::BatchNormResult expected = reference::batch_norm_training(
      data.x, s, data.weight, data.bias, data.running_mean, data.running_var, options.eps, options.momentum);
  EXPECT_EQ(output.format(), row.format);
  EXPECT_TRUE(all_close(host_floats(output), expected.output, kOutput));
  EXPECT_TRUE(layout_is_clean(output));
  EXPECT_TRUE(all_close(host_floats(save_mean), expected.mean, kStatistic));
  EXPECT_TRUE(all_close(host_floats(save_invstd), expected.invstd, kStatistic));
  EXPECT_TRUE(all_close(host_floats(running_mean), expected.running_mean, kStatistic));
  EXPECT_TRUE(all_close(host_floats(running_var), expected.running_var, kStatistic));

  Tensor d_x = activation(data.d_x_prior, s, row.format, device);
  Tensor d_weight = on_device(data.d_weight_prior, device), d_bias = on_device(data.d_bias_prior, device);
  batch_norm_2d_training_backward(activation(data.d_y, s, row.format, device), x, weight, save_mean,
                                  save_invstd, &d_x, &d_weight, &d_bias);
  const reference::NormGradients gradients =
      reference::batch_norm_training_backward(data.d_y, data.x, s, data.weight, options.eps);
  EXPECT_TRUE(all_close(host_floats(d_x), plus(data.d_x_prior, gradients.d_input), kGradient));
  EXPECT_TRUE(layout_is_clean(d_x));
  EXPECT_TRUE(all_close(host_floats(d_weight), plus(data.d_weight_prior, gradients.d_weight), kGradient));
  EXPECT_TRUE(all_close(host_floats(d_bias), plus(data.d_bias_prior, gradients.d_bias), kGradient));
}

void batch_norm_eval_row(const NormCase& row, Device device, uint64_t seed) {
  const NormShape s = row.shape;
  const BatchNormData data = batch_norm_data(s, seed);
  const BatchNorm2dOptions options{1e-3, 0.1};
  const Tensor x = activation(data.x, s, row.format, device);
  const Tensor weight = on_device(data.weight, device), bias = on_device(data.bias, device);
  const Tensor running_mean = on_device(data.running_mean, device),
               running_var = on_device(data.running_var, device);
  Tensor output = poisoned_output(s, row.format, device);
  batch_norm_2d_eval_forward(x, weight, bias, running_mean, running_var, options, output);
  EXPECT_TRUE(all_close(host_floats(output),
                        reference::batch_norm_eval(data.x, s, data.weight, data.bias, data.running_mean,
                                                   data.running_var, options.eps),
                        kOutput));
  EXPECT_TRUE(layout_is_clean(output));
  // The running statistics are inputs only.
  EXPECT_TRUE(bitwise_equal(host_floats(running_mean), data.running_mean));

  Tensor d_x = activation(data.d_x_prior, s, row.format, device);
  Tensor d_weight = on_device(data.d_weight_prior, device), d_bias = on_device(data.d_bias_prior, device);
  batch_norm_2d_eval_backward(activation(data.d_y, s, row.format, device), x, weight, running_mean,
                              running_var, options, &d_x, &d_weight, &d_bias);
  const reference::NormGradients gradients = reference::batch_norm_eval_backward(
      data.d_y, data.x, s, data.weight, data.running_mean, data.running_var, options.eps);
  EXPECT_TRUE(all_close(host_floats(d_x), plus(data.d_x_prior, gradients.d_input), kGradient));
  EXPECT_TRUE(all_close(host_floats(d_weight), plus(data.d_weight_prior, gradients.d_weight), kGradient));
  EXPECT_TRUE(all_close(host_floats(d_bias), plus(data.d_bias_prior, gradients.d_bias), kGradient));
}

void group_norm_row(const NormCase& row, Device device, uint64_t seed) {
  const NormShape s = row.shape;
  const BatchNormData data = batch_norm_data(s, seed);  // x, weight, bias, d_y and priors
  const GroupNormOptions options{row.groups, 1e-5};
  const Tensor x = activation(data.x, s, row.format, device);
  const Tensor weight = on_device(data.weight, device), bias = on_device(data.bias, device);
  Tensor output = poisoned_output(s, row.format, device), mean, rstd;
  group_norm_forward(x, weight, bias, options, output, mean, rstd);
  const reference::GroupNormResult expected =
      reference::group_norm(data.x, s, row.groups, data.weight, data.bias, options.eps);
  EXPECT_EQ(mean.shape(), (Shape{s.N, row.groups}));
  EXPECT_TRUE(all_close(host_floats(output), expected.output, kOutput));
  EXPECT_TRUE(layout_is_clean(output));
  EXPECT_TRUE(all_close(host_floats(mean), expected.mean, kStatistic));
  EXPECT_TRUE(all_close(host_floats(rstd), expected.rstd, kStatistic));

  Tensor d_x = activation(data.d_x_prior, s, row.format, device);
  Tensor d_weight = on_device(data.d_weight_prior, device), d_bias = on_device(data.d_bias_prior, device);
  group_norm_backward(activation(data.d_y, s, row.format, device), x, weight, mean, rstd, options, &d_x,
                      &d_weight, &d_bias);
  const reference::NormGradients gradients =
      reference::group_norm_backward(data.d_y, data.x, s, row.groups, data.weight, options.eps);
  EXPECT_TRUE(all_close(host_floats(d_x), plus(data.d_x_prior, gradients.d_input), kGradient));
  EXPECT_TRUE(layout_is_clean(d_x));
  EXPECT_TRUE(all_close(host_floats(d_weight), plus(data.d_weight_prior, gradients.d_weight), kGradient));
  EXPECT_TRUE(all_close(host_floats(d_bias), plus(data.d_bias_prior, gradients.d_bias), kGradient));
}

std::vector<OpCase> batch_norm_cases() {
  // Odd sizes, N = 1, and 3 x 40 x 40 = 4800 values per channel (more than one
  // 2048-element chunk); one row per non-plain format, C not a multiple of the block.
  const NormCase rows[] = {{{2, 3, 5, 7}},
                           {{1, 8, 9, 11}},
                           {{4, 32, 3, 5}},
                           {{3, 5, 40, 40}},
                           {{2, 5, 3, 7}, MemoryFormat::nhwc},
                           {{2, 3, 5, 3}, MemoryFormat::nchw8c},
                           {{2, 20, 3, 5}, MemoryFormat::nchw16c}};
  std::vector<OpCase> cases;
  for (const NormCase& row : rows) {
    cases.push_back({row.name("batch_norm_training"),
                     [row](Device d, uint64_t s) { batch_norm_training_row(row, d, s); }});
    cases.push_back(
        {row.name("batch_norm_eval"), [row](Device d, uint64_t s) { batch_norm_eval_row(row, d, s); }});
  }
  return cases;
}

std::vector<OpCase> group_norm_cases() {
  const NormCase rows[] = {
      {{2, 32, 5, 7}, MemoryFormat::plain, 1},
      {{2, 32, 5, 7}, MemoryFormat::plain, 4},
      {{2, 32, 5, 7}, MemoryFormat::plain, 32},
      {{1, 3, 5, 7}, MemoryFormat::plain, 3},
      {{2, 6, 30, 31}, MemoryFormat::plain, 2},  // 2790 values per set: two chunks
      {{2, 12, 3, 5}, MemoryFormat::nhwc, 3},
      {{2, 12, 3, 5}, MemoryFormat::nchw8c, 4},
      {{2, 32, 3, 5}, MemoryFormat::nchw16c, 4},
  };
  std::vector<OpCase> cases;
  for (const NormCase& row : rows) {
    cases.push_back({row.name("group_norm_g" + std::to_string(row.groups)),
                     [row](Device d, uint64_t s) { group_norm_row(row, d, s); }});
  }
  return cases;
}

// Folding: conv(x, folded) + folded_bias must equal eval BN of conv(x, w) + b,
// with a direct double convolution standing in for wise's (not used here).
void fold_row(Device device, uint64_t seed, bool with_conv_bias) {
  const NormShape s{2, 3, 5, 6};
  const int64_t O = 4, k = 3;
  const auto x = random_floats(s.numel(), seed);
  const auto conv_weight = random_floats(O * s.C * k * k, seed + 1);
  const auto conv_bias = with_conv_bias ? random_floats(O, seed + 2) : std::vector<float>{};
  const auto weight = random_floats(O, seed + 3, 0.5f, 1.5f), bias = random_floats(O, seed + 4);
  const auto mean = random_floats(O, seed + 5), variance = random_floats(O, seed + 6, 0.5f, 2.0f);
  const double eps = 1e-5;
  Tensor folded_weight, folded_bias;
  fold_batch_norm(on_device(conv_weight, Shape{O, s.C, k, k}, device),
                  with_conv_bias ? on_device(conv_bias, device) : Tensor{}, on_device(weight, device),
                  on_device(bias, device), on_device(mean, device), on_device(variance, device), eps,
                  folded_weight, folded_bias);
  ASSERT_EQ(folded_weight.shape(), (Shape{O, s.C, k, k}));
  const std::vector<double> conv_output =
      reference::conv2d_same(doubles(x), s, doubles(conv_weight), O, k, doubles(conv_bias));
  const std::vector<float> conv_output_float(conv_output.begin(), conv_output.end());
  const std::vector<double> expected =
      reference::batch_norm_eval(conv_output_float, {s.N, O, s.H, s.W}, weight, bias, mean, variance, eps);
  const std::vector<double> folded = reference::conv2d_same(
      doubles(x), s, doubles(host_floats(folded_weight)), O, k, doubles(host_floats(folded_bias)));
  EXPECT_TRUE(all_close(std::vector<float>(folded.begin(), folded.end()), expected, {1e-5, 1e-5}));
}

// FrozenBatchNorm2d: x scale + shift is the eval transform, its backward the eval backward.
void frozen_row(Device device, uint64_t seed) {
  const NormShape s{2, 20, 3, 5};
  const MemoryFormat format = MemoryFormat::nchw16c;
  const BatchNormData data = batch_norm_data(s, seed);
  const double eps = 1e-5;
  Tensor scale, shift;
  frozen_batch_norm_scale_shift(on_device(data.weight, device), on_device(data.bias, device),
                                on_device(data.running_mean, device), on_device(data.running_var, device),
                                eps, scale, shift);
  std::vector<double> expected_scale, expected_shift;
  for (int64_t c = 0; c < s.C; ++c) {
    expected_scale.push_back(data.weight[c] / std::sqrt(double(data.running_var[c]) + eps));
    expected_shift.push_back(data.bias[c] - data.running_mean[c] * expected_scale.back());
  }
  EXPECT_TRUE(all_close(host_floats(scale), expected_scale, kStatistic));
  EXPECT_TRUE(all_close(host_floats(shift), expected_shift, kStatistic));

  Tensor output = poisoned_output(s, format, device);
  frozen_batch_norm_forward(activation(data.x, s, format, device), scale, shift, output);
  EXPECT_TRUE(all_close(host_floats(output),
                        reference::batch_norm_eval(data.x, s, data.weight, data.bias, data.running_mean,
                                                   data.running_var, eps),
                        kOutput));
  EXPECT_TRUE(layout_is_clean(output));
  Tensor d_x = activation(data.d_x_prior, s, format, device);
  frozen_batch_norm_backward(activation(data.d_y, s, format, device), scale, d_x);
  const reference::NormGradients gradients = reference::batch_norm_eval_backward(
      data.d_y, data.x, s, data.weight, data.running_mean, data.running_var, eps);
  EXPECT_TRUE(all_close(host_floats(d_x), plus(data.d_x_prior, gradients.d_input), kGradient));
}

std::vector<OpCase> frozen_cases() {
  return {{"fold_batch_norm_with_conv_bias", [](Device d, uint64_t s) { fold_row(d, s, true); }},
          {"fold_batch_norm_without_conv_bias", [](Device d, uint64_t s) { fold_row(d, s, false); }},
          {"frozen_batch_norm_2x20x3x5_nChw16c", frozen_row}};
}

// NaN and empty inputs, as torch: a NaN poisons its whole normalization set
// (channel, or sample x group) and nothing else; an empty batch is a no-op.
void batch_norm_nan_row(Device device, uint64_t seed) {
  const NormShape s{2, 3, 4, 5};
  BatchNormData data = batch_norm_data(s, seed);
  data.x[1 * 20 + 7] = std::numeric_limits<float>::quiet_NaN();  // n 0, channel 1
  Tensor running_mean = on_device(data.running_mean, device);
  Tensor running_var = on_device(data.running_var, device);
  Tensor output, save_mean, save_invstd;
  batch_norm_2d_training_forward(activation(data.x, s, MemoryFormat::plain, device),
                                 on_device(data.weight, device), on_device(data.bias, device), running_mean,
                                 running_var, {}, output, save_mean, save_invstd);
  const std::vector<float> y = host_floats(output);
  for (int64_t i = 0; i < s.numel(); ++i) {
    const bool channel_one = (i / 20) % 3 == 1;
    EXPECT_EQ(std::isnan(y[i]), channel_one) << "element " << i;
  }
  EXPECT_TRUE(std::isnan(host_floats(running_mean)[1]));
  EXPECT_FALSE(std::isnan(host_floats(running_mean)[0]));
}

void group_norm_nan_row(Device device, uint64_t seed) {
  const NormShape s{2, 4, 3, 3};
  std::vector<float> x = random_floats(s.numel(), seed);
  x[36 + 9 * 3 + 4] = std::numeric_limits<float>::quiet_NaN();  // n 1, channel 3: group 1
  Tensor output, mean, rstd;
  group_norm_forward(activation(x, s, MemoryFormat::plain, device), Tensor{}, Tensor{}, {2, 1e-5}, output,
                     mean, rstd);
  const std::vector<float> y = host_floats(output);
  for (int64_t i = 0; i < s.numel(); ++i) {
    const bool poisoned = i / 36 == 1 && (i % 36) / 9 >= 2;
    EXPECT_EQ(std::isnan(y[i]), poisoned) << "element " << i;
  }
}

void empty_batch_row(Device device, uint64_t seed) {
  const std::vector<float> running = random_floats(4, seed, 0.5f, 1.0f);
  Tensor running_mean = on_device(running, device), running_var = on_device(running, device);
  Tensor x = Tensor::zeros({0, 4, 3, 3}, DType::float32, device), output, save_mean, save_invstd;
  batch_norm_2d_training_forward(x, Tensor{}, Tensor{}, running_mean, running_var, {}, output, save_mean,
                                 save_invstd);
  EXPECT_EQ(output.shape(), x.shape());
  EXPECT_TRUE(bitwise_equal(host_floats(running_mean), running));  // untouched, as torch
  EXPECT_TRUE(bitwise_equal(host_floats(running_var), running));
  Tensor d_weight = Tensor::zeros({4}, DType::float32, device);
  Tensor weight = Tensor::zeros({4}, DType::float32, device);
  weight.fill(1.0f);
  batch_norm_2d_training_backward(x, x, weight, save_mean, save_invstd, nullptr, &d_weight, nullptr);
  EXPECT_TRUE(all_close(host_floats(d_weight), std::vector<double>(4, 0.0), kExact));
  Tensor mean, rstd;
  group_norm_forward(x, weight, Tensor{}, {2, 1e-5}, output, mean, rstd);
  EXPECT_EQ(output.shape(), x.shape());
  EXPECT_EQ(mean.shape(), (Shape{0, 2}));
  group_norm_backward(x, x, weight, mean, rstd, {2, 1e-5}, nullptr, &d_weight, nullptr);
  EXPECT_TRUE(all_close(host_floats(d_weight), std::vector<double>(4, 0.0), kExact));
}

std::vector<OpCase> edge_cases() {
  return {{"batch_norm_training_nan_poisons_its_channel", batch_norm_nan_row},
          {"group_norm_nan_poisons_its_group", group_norm_nan_row},
          {"batch_norm_and_group_norm_empty_batch", empty_batch_row}};
}

const OpCaseRegistrar register_batch_norm(batch_norm_cases());
const OpCaseRegistrar register_group_norm(group_norm_cases());
const OpCaseRegistrar register_frozen(frozen_cases());
const OpCaseRegistrar register_edges(edge_cases());

}  // namespace
}  // namespace wise::testing
