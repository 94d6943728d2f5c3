#include "nn/conv_transpose2d.h"

#include <algorithm>

#include "kernels/channel_ops.h"
#include "kernels/elementwise.h"
#include "nn/ensure.h"

namespace wise {

namespace {

Tensor in_format(const Tensor& tensor, MemoryFormat format) {
  return tensor.format() == format ? tensor : tensor.to_format(format);
}

Tensor workspace_for(Device device, const kernels::ConvolutionShape& mirror) {
  const auto bytes = static_cast<int64_t>(kernels::convolution_workspace_bytes(device, mirror));
  return Tensor::empty({bytes}, DType::uint8, device);
}

Shape output_shape(const kernels::ConvolutionShape& mirror) {
  return {mirror.batch, mirror.in_channels, mirror.in_height, mirror.in_width};
}

}  // namespace

kernels::ConvolutionShape conv_transpose2d_mirror(const Tensor& input, const Tensor& weight,
                                                  const ConvTranspose2dOptions& options) {
  require_float_on(input, input.device(), "conv_transpose2d: input");
  require_float_on(weight, input.device(), "conv_transpose2d: weight");
  WISE_CHECK(input.rank() == 4, "conv_transpose2d: input must be 4-d (N, C_in, H, W), got ", input.describe());
  WISE_CHECK(weight.rank() == 4 && weight.format() == MemoryFormat::plain && weight.size(0) == input.size(1),
             "conv_transpose2d: weight must be plain (C_in = ", input.size(1), ", C_out, R, S), got ",
             weight.describe());
  WISE_CHECK(options.output_padding >= 0 && options.output_padding < std::max(options.stride, options.dilation),
             "conv_transpose2d: output_padding must be smaller than stride or dilation, got ", options.output_padding);
  auto out_size = [&](int64_t in, int64_t kernel) {
    return (in - 1) * options.stride - 2 * options.padding + options.dilation * (kernel - 1) +
           options.output_padding + 1;
  };
  kernels::ConvolutionShape mirror;
  mirror.batch = input.size(0);
  mirror.in_channels = weight.size(1);
  mirror.in_height = out_size(input.size(2), weight.size(2));
  mirror.in_width = out_size(input.size(3), weight.size(3));
  mirror.out_channels = weight.size(0);
  mirror.kernel_height = weight.size(2);
  mirror.kernel_width = weight.size(3);
  mirror.stride_height = mirror.stride_width = options.stride;
  mirror.padding_height = mirror.padding_width = options.padding;
  mirror.dilation_height = mirror.dilation_width = options.dilation;
  WISE_CHECK(mirror.in_height >= 1 && mirror.in_width >= 1 && mirror.out_height() == input.size(2) &&
                 mirror.out_width() == input.size(3),
             "conv_transpose2d: geometry (stride ", options.stride, ", padding ", options.padding,
             ") does not fit input ", input.describe());
  return mirror;
}

void conv_transpose2d_forward(const Tensor& input, const Tensor& weight, const Tensor& bias,
                              const ConvTranspose2dOptions& options, Tensor& output) {
  const kernels::ConvolutionShape mirror = conv_transpose2d_mirror(input, weight, options);
  const Device device = input.device();
  const kernels::ConvolutionFormats formats = kernels::convolution_formats(device, mirror);
  ensure_tensor(output, output_shape(mirror), DType::float32, device, formats.input);
  const Tensor source = in_format(input, formats.output);
  Tensor workspace = workspace_for(device, mirror);
  kernels::convolution_backward_data(device, mirror, source.data<float>(), weight.data<float>(), 0.0f,
                                     output.data<float>(), workspace.raw_data());
  if (bias.defined()) {
    require_float_on(bias, device, "conv_transpose2d: bias");
    WISE_CHECK(bias.shape() == Shape({mirror.in_channels}), "conv_transpose2d: bias must have shape [",
               mirror.in_channels, "], got ", bias.describe());
    kernels::add_channel_bias(device, bias.data<float>(), output.format(), mirror.batch, mirror.in_channels,
                              mirror.in_height, mirror.in_width, output.data<float>());
  }
}

void conv_transpose2d_backward(const Tensor& input, const Tensor& weight, const Tensor& d_output,
                               const ConvTranspose2dOptions& options, Tensor* d_input, Tensor* d_weight,
                               Tensor* d_bias) {
  const kernels::ConvolutionShape mirror = conv_transpose2d_mirror(input, weight, options);
  const Device device = input.device();
  const kernels::ConvolutionFormats formats = kernels::convolution_formats(device, mirror);
  require_float_on(d_output, device, "conv_transpose2d: d_output");
  WISE_CHECK(d_output.shape() == output_shape(mirror), "conv_transpose2d: d_output must have shape ",
             output_shape(mirror), ", got ", d_output.describe());
  const Tensor gradient = in_format(d_output, formats.input);
  Tensor workspace = workspace_for(device, mirror);

  if (d_input) {
    require_float_on(*d_input, device, "conv_transpose2d: d_input");
    WISE_CHECK(d_input->shape() == input.shape(), "conv_transpose2d: d_input must have shape ", input.shape(),
               ", got ", d_input->describe());
    // d_input = mirror forward of d_output, added into d_input (in its own format).
    Tensor computed = Tensor::empty(input.shape(), DType::float32, device, formats.output);
    kernels::convolution_forward(device, mirror, gradient.data<float>(), weight.data<float>(), nullptr, {},
                                 computed.data<float>(), workspace.raw_data());
    const Tensor converted = in_format(computed, d_input->format());
    kernels::add(device, d_input->data<float>(), converted.data<float>(), d_input->data<float>(),
                 d_input->physical_numel());
  }
  if (d_weight) {
    require_float_on(*d_weight, device, "conv_transpose2d: d_weight");
    WISE_CHECK(d_weight->shape() == weight.shape() && d_weight->format() == MemoryFormat::plain,
               "conv_transpose2d: d_weight must be plain ", weight.shape(), ", got ", d_weight->describe());
    const Tensor source = in_format(input, formats.output);
    kernels::convolution_backward_weights(device, mirror, gradient.data<float>(), source.data<float>(), 1.0f,
                                          d_weight->data<float>(), nullptr, workspace.raw_data());
  }
  if (d_bias) {
    require_float_on(*d_bias, device, "conv_transpose2d: d_bias");
    WISE_CHECK(d_bias->shape() == Shape({mirror.in_channels}), "conv_transpose2d: d_bias must have shape [",
               mirror.in_channels, "], got ", d_bias->describe());
    kernels::sum_channels_accumulate(device, gradient.data<float>(), gradient.format(), mirror.batch,
                                     mirror.in_channels, mirror.in_height, mirror.in_width, d_bias->data<float>());
  }
}

}  // namespace wise
