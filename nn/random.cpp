#include "nn/random.h"

#include <cmath>

#include "kernels/random.h"

namespace wise {

namespace {

float* plain_float_data(Tensor& tensor, const char* what) {
  WISE_CHECK(tensor.format() == MemoryFormat::plain, what, " needs a plain tensor, got ",
             tensor.describe());
  return tensor.data<float>();
}

}  // namespace

void uniform_(Tensor& tensor, Generator& generator, float low, float high) {
  kernels::fill_uniform(tensor.device(), plain_float_data(tensor, "uniform_"), tensor.numel(),
                        generator.seed, generator.offset, low, high);
  generator.offset += static_cast<uint64_t>(tensor.numel());
}

void normal_(Tensor& tensor, Generator& generator, float mean, float std) {
  kernels::fill_normal(tensor.device(), plain_float_data(tensor, "normal_"), tensor.numel(),
                       generator.seed, generator.offset, mean, std);
  generator.offset += static_cast<uint64_t>(tensor.numel());
}

Fans compute_fans(const Shape& shape) {
  WISE_CHECK(shape.rank() >= 2, "fan in and fan out need a weight of rank >= 2, got ", shape);
  int64_t receptive_field = 1;
  for (int axis = 2; axis < shape.rank(); ++axis) receptive_field *= shape[axis];
  return {shape[1] * receptive_field, shape[0] * receptive_field};
}

double calculate_gain(const std::string& nonlinearity, double negative_slope) {
  if (nonlinearity == "linear" || nonlinearity == "conv1d" || nonlinearity == "conv2d" ||
      nonlinearity == "conv3d" || nonlinearity == "sigmoid") {
    return 1.0;
  }
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") return std::sqrt(2.0 / (1.0 + negative_slope * negative_slope));
  throw Error(concat("calculate_gain: unsupported nonlinearity \"", nonlinearity,
                     "\" (expected linear, conv2d, sigmoid, tanh, relu or leaky_relu)"));
}

namespace {

double chosen_fan(const Shape& shape, FanMode mode) {
  const Fans fans = compute_fans(shape);
  const int64_t fan = mode == FanMode::fan_in ? fans.fan_in : fans.fan_out;
  WISE_CHECK(fan > 0, "cannot initialise a weight of shape ", shape, ": its fan is 0");
  return static_cast<double>(fan);
}

}  // namespace

double kaiming_uniform_bound(const Shape& shape, double a, FanMode mode,
                             const std::string& nonlinearity) {
  return calculate_gain(nonlinearity, a) * std::sqrt(3.0 / chosen_fan(shape, mode));
}

double kaiming_normal_std(const Shape& shape, double a, FanMode mode,
                          const std::string& nonlinearity) {
  return calculate_gain(nonlinearity, a) / std::sqrt(chosen_fan(shape, mode));
}

double xavier_uniform_bound(const Shape& shape, double gain) {
  const Fans fans = compute_fans(shape);
  return gain * std::sqrt(6.0 / static_cast<double>(fans.fan_in + fans.fan_out));
}

double xavier_normal_std(const Shape& shape, double gain) {
  const Fans fans = compute_fans(shape);
  return gain * std::sqrt(2.0 / static_cast<double>(fans.fan_in + fans.fan_out));
}

void kaiming_uniform_(Tensor& tensor, Generator& generator, double a, FanMode mode,
                      const std::string& nonlinearity) {
  const auto bound = static_cast<float>(kaiming_uniform_bound(tensor.shape(), a, mode, nonlinearity));
  uniform_(tensor, generator, -bound, bound);
}

void kaiming_normal_(Tensor& tensor, Generator& generator, double a, FanMode mode,
                     const std::string& nonlinearity) {
  normal_(tensor, generator, 0.0f,
          static_cast<float>(kaiming_normal_std(tensor.shape(), a, mode, nonlinearity)));
}

void xavier_uniform_(Tensor& tensor, Generator& generator, double gain) {
  const auto bound = static_cast<float>(xavier_uniform_bound(tensor.shape(), gain));
  uniform_(tensor, generator, -bound, bound);
}

void xavier_normal_(Tensor& tensor, Generator& generator, double gain) {
  normal_(tensor, generator, 0.0f, static_cast<float>(xavier_normal_std(tensor.shape(), gain)));
}

}  // namespace wise
