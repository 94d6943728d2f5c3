// Nearest resizing to a size (see resize_nearest.h): shape, dtype, device and format
// checks around kernels/resize_nearest.h.
#include "nn/resize_nearest.h"

#include "kernels/resize_nearest.h"
#include "nn/ensure.h"

namespace wise {

namespace {

void require_activation(const Tensor& tensor, Device device, const char* what) {
  require_float_on(tensor, device, what);
  WISE_CHECK(tensor.rank() == 4, what, " must be 4-d (N, C, H, W), got ", tensor.describe());
}

void require_positive_size(const Shape& shape, const char* what) {
  WISE_CHECK(shape[2] > 0 && shape[3] > 0, what, " must have H, W > 0, got shape ", shape);
}

}  // namespace

void resize_nearest_forward(const Tensor& input, const ResizeNearestOptions& options,
                            Tensor& output) {
  require_activation(input, input.device(), "resize_nearest: input");
  const Shape& s = input.shape();
  require_positive_size(s, "resize_nearest: input");
  WISE_CHECK(options.output_height > 0 && options.output_width > 0,
             "resize_nearest: output size must be > 0, got ", options.output_height, "x",
             options.output_width);
  const Shape output_shape{s[0], s[1], options.output_height, options.output_width};
  const bool reusable = output.defined() && output.shape() == output_shape &&
                        output.dtype() == DType::float32 && output.device() == input.device();
  if (!reusable) {
    output = Tensor::empty(output_shape, DType::float32, input.device(), input.format());
  }
  kernels::resize_nearest_forward(input.device(), input.data<float>(), input.format(),
                                  output.data<float>(), output.format(), s[0], s[1], s[2], s[3],
                                  options.output_height, options.output_width);
}

void resize_nearest_backward(const Tensor& d_output, Tensor& d_input) {
  const Device device = d_input.defined() ? d_input.device() : Device::cpu;
  require_activation(d_input, device, "resize_nearest_backward: d_input");
  require_activation(d_output, device, "resize_nearest_backward: d_output");
  const Shape& s = d_input.shape();
  const Shape& o = d_output.shape();
  require_positive_size(s, "resize_nearest_backward: d_input");
  require_positive_size(o, "resize_nearest_backward: d_output");
  WISE_CHECK(o[0] == s[0] && o[1] == s[1], "resize_nearest_backward: d_output ", d_output.describe(),
             " must have d_input's N and C (", s, ")");
  kernels::resize_nearest_backward(device, d_output.data<float>(), d_output.format(),
                                   d_input.data<float>(), d_input.format(), s[0], s[1], s[2], s[3],
                                   o[2], o[3]);
}

}  // namespace wise
