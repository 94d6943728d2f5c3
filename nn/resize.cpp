// Resizing layers (see resize.h): shape, dtype and device checks around kernels/resize.h.
#include "nn/resize.h"

#include "kernels/resize.h"
#include "nn/ensure.h"

namespace wise {

namespace {

void require_activation(const Tensor& tensor, Device device, const char* what) {
  require_float_on(tensor, device, what);
  WISE_CHECK(tensor.rank() == 4, what, " must be 4-d (N, C, H, W), got ", tensor.describe());
}

void check_sizes(const Shape& input, const ResizeBilinearOptions& options, const char* what) {
  WISE_CHECK(input[2] > 0 && input[3] > 0 && options.output_height > 0 && options.output_width > 0,
             what, ": input and output sizes must be > 0, got input ", input, " and output size ",
             options.output_height, "x", options.output_width);
}

}  // namespace

void upsample_nearest2x_forward(const Tensor& input, Tensor& output) {
  require_activation(input, input.device(), "upsample_nearest2x: input");
  const Shape& s = input.shape();
  ensure_tensor(output, {s[0], s[1], 2 * s[2], 2 * s[3]}, DType::float32, input.device(),
                input.format());
  kernels::upsample_nearest2x_forward(input.device(), input.data<float>(), input.format(),
                                      output.data<float>(), output.format(), s[0], s[1], s[2],
                                      s[3]);
}

void upsample_nearest2x_backward(const Tensor& d_output, Tensor& d_input) {
  const Device device = d_input.defined() ? d_input.device() : Device::cpu;
  require_activation(d_input, device, "upsample_nearest2x_backward: d_input");
  require_activation(d_output, device, "upsample_nearest2x_backward: d_output");
  const Shape& s = d_input.shape();
  const Shape expected{s[0], s[1], 2 * s[2], 2 * s[3]};
  WISE_CHECK(d_output.shape() == expected, "upsample_nearest2x_backward: d_output must have shape ",
             expected, " (twice d_input's ", s, "), got ", d_output.describe());
  kernels::upsample_nearest2x_backward(device, d_output.data<float>(), d_output.format(),
                                       d_input.data<float>(), d_input.format(), s[0], s[1], s[2],
                                       s[3]);
}

void resize_bilinear_forward(const Tensor& input, const ResizeBilinearOptions& options,
                             Tensor& output) {
  require_activation(input, input.device(), "resize_bilinear: input");
  const Shape& s = input.shape();
  check_sizes(s, options, "resize_bilinear");
  ensure_tensor(output, {s[0], s[1], options.output_height, options.output_width}, DType::float32,
                input.device(), input.format());
  kernels::resize_bilinear_forward(
      input.device(), input.data<float>(), input.format(), output.data<float>(), output.format(),
      s[0], s[1], s[2], s[3], options.output_height, options.output_width, options.align_corners);
}

void resize_bilinear_backward(const Tensor& d_output, const ResizeBilinearOptions& options,
                              Tensor& d_input) {
  const Device device = d_input.defined() ? d_input.device() : Device::cpu;
  require_activation(d_input, device, "resize_bilinear_backward: d_input");
  require_activation(d_output, device, "resize_bilinear_backward: d_output");
  const Shape& s = d_input.shape();
  check_sizes(s, options, "resize_bilinear_backward");
  const Shape expected{s[0], s[1], options.output_height, options.output_width};
  WISE_CHECK(d_output.shape() == expected, "resize_bilinear_backward: d_output must have shape ",
             expected, " (d_input's N, C and the options' size), got ", d_output.describe());
  kernels::resize_bilinear_backward(
      device, d_output.data<float>(), d_output.format(), d_input.data<float>(), d_input.format(),
      s[0], s[1], s[2], s[3], options.output_height, options.output_width, options.align_corners);
}

ResizeBilinearOptions upsample_bilinear_options(const Shape& input, int factor,
                                                bool align_corners) {
  WISE_CHECK(input.rank() == 4,
             "upsample_bilinear_options: input must be 4-d (N, C, H, W), got shape ", input);
  WISE_CHECK(factor >= 1, "upsample_bilinear_options: factor must be >= 1, got ", factor);
  return {input[2] * factor, input[3] * factor, align_corners};
}

}  // namespace wise
