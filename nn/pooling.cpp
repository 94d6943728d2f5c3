// Pooling layers (see pooling.h): shape, dtype and device checks around kernels/pooling.h.
#include "nn/pooling.h"

#include <limits>

#include "kernels/pooling.h"
#include "nn/ensure.h"

namespace wise {

namespace {

void require_activation(const Tensor& tensor, Device device, const char* what) {
  require_float_on(tensor, device, what);
  WISE_CHECK(tensor.rank() == 4, what, " must be 4-d (N, C, H, W), got ", tensor.describe());
}

void check_options(const MaxPool2dOptions& options) {
  WISE_CHECK(options.kernel_size >= 1 && options.stride >= 1,
             "max_pool2d: kernel_size and stride must be >= 1, got kernel_size=",
             options.kernel_size, " stride=", options.stride);
  WISE_CHECK(options.padding >= 0 && options.padding <= options.kernel_size / 2,
             "max_pool2d: padding must be in [0, kernel_size / 2], got padding=", options.padding,
             " and kernel_size=", options.kernel_size);
}

kernels::MaxPool2dGeometry geometry_of(const Shape& input, const Shape& output,
                                       const MaxPool2dOptions& options) {
  kernels::MaxPool2dGeometry geometry;
  geometry.N = input[0];
  geometry.C = input[1];
  geometry.H = input[2];
  geometry.W = input[3];
  geometry.output_height = output[2];
  geometry.output_width = output[3];
  geometry.kernel_size = options.kernel_size;
  geometry.stride = options.stride;
  geometry.padding = options.padding;
  return geometry;
}

}  // namespace

Shape max_pool2d_output_shape(const Shape& input, const MaxPool2dOptions& options) {
  check_options(options);
  WISE_CHECK(input.rank() == 4, "max_pool2d: input must be 4-d (N, C, H, W), got shape ", input);
  const int64_t span = 2 * options.padding - options.kernel_size;
  const int64_t height = input[2] + span >= 0 ? (input[2] + span) / options.stride + 1 : 0;
  const int64_t width = input[3] + span >= 0 ? (input[3] + span) / options.stride + 1 : 0;
  WISE_CHECK(height >= 1 && width >= 1, "max_pool2d: input ", input,
             " is too small for kernel_size=", options.kernel_size, " padding=", options.padding,
             ": output would be ", height, "x", width);
  return {input[0], input[1], height, width};
}

void max_pool2d_forward(const Tensor& input, const MaxPool2dOptions& options, Tensor& output,
                        Tensor& argmax) {
  require_activation(input, input.device(), "max_pool2d: input");
  const Shape output_shape = max_pool2d_output_shape(input.shape(), options);
  WISE_CHECK(input.size(2) * input.size(3) <= std::numeric_limits<int32_t>::max(),
             "max_pool2d: input plane of ", input.describe(),
             " has too many elements for an int32 argmax");
  ensure_tensor(output, output_shape, DType::float32, input.device(), input.format());
  ensure_tensor(argmax, output_shape, DType::int32, input.device());
  kernels::max_pool2d_forward(input.device(), geometry_of(input.shape(), output_shape, options),
                              input.data<float>(), input.format(), output.data<float>(),
                              output.format(), argmax.data<int32_t>());
}

void max_pool2d_backward(const Tensor& d_output, const Tensor& argmax,
                         const MaxPool2dOptions& options, Tensor& d_input) {
  const Device device = d_input.defined() ? d_input.device() : Device::cpu;
  require_activation(d_input, device, "max_pool2d_backward: d_input");
  require_activation(d_output, device, "max_pool2d_backward: d_output");
  const Shape output_shape = max_pool2d_output_shape(d_input.shape(), options);
  WISE_CHECK(d_output.shape() == output_shape, "max_pool2d_backward: d_output must have shape ",
             output_shape, " (the output of d_input's shape ", d_input.shape(), "), got ",
             d_output.describe());
  WISE_CHECK(argmax.defined() && argmax.dtype() == DType::int32 && argmax.device() == device &&
                 argmax.format() == MemoryFormat::plain && argmax.shape() == output_shape,
             "max_pool2d_backward: argmax must be int32", output_shape, " ",
             kernels::device_name(device), " plain, got ", argmax.describe());
  kernels::max_pool2d_backward(device, geometry_of(d_input.shape(), output_shape, options),
                               d_output.data<float>(), d_output.format(), argmax.data<int32_t>(),
                               d_input.data<float>(), d_input.format());
}

void global_average_pool_forward(const Tensor& input, Tensor& output) {
  require_activation(input, input.device(), "global_average_pool: input");
  const Shape& shape = input.shape();
  WISE_CHECK(shape[2] > 0 && shape[3] > 0, "global_average_pool: input must have H, W > 0, got ",
             input.describe());
  ensure_tensor(output, {shape[0], shape[1], 1, 1}, DType::float32, input.device());
  kernels::global_average_pool_forward(input.device(), input.data<float>(), input.format(),
                                       output.data<float>(), shape[0], shape[1], shape[2],
                                       shape[3]);
}

void global_average_pool_backward(const Tensor& d_output, Tensor& d_input) {
  const Device device = d_input.defined() ? d_input.device() : Device::cpu;
  require_activation(d_input, device, "global_average_pool_backward: d_input");
  const Shape& shape = d_input.shape();
  WISE_CHECK(shape[2] > 0 && shape[3] > 0,
             "global_average_pool_backward: d_input must have H, W > 0, got ", d_input.describe());
  require_float_on(d_output, device, "global_average_pool_backward: d_output");
  const Shape expected{shape[0], shape[1], 1, 1};
  WISE_CHECK(d_output.shape() == expected && d_output.format() == MemoryFormat::plain,
             "global_average_pool_backward: d_output must be float32", expected, " plain, got ",
             d_output.describe());
  kernels::global_average_pool_backward(device, d_output.data<float>(), d_input.data<float>(),
                                        d_input.format(), shape[0], shape[1], shape[2], shape[3]);
}

}  // namespace wise
