#include "nn/conv2d.h"

#include "kernels/elementwise.h"
#include "nn/ensure.h"

namespace wise {

namespace {

Tensor workspace_for(Device device, const kernels::ConvolutionShape& shape) {
  const auto bytes = static_cast<int64_t>(kernels::convolution_workspace_bytes(device, shape));
  return Tensor::empty({bytes}, DType::uint8, device);
}

// `tensor` in `format`: itself, or a reordered copy.
Tensor in_format(const Tensor& tensor, MemoryFormat format) {
  return tensor.format() == format ? tensor : tensor.to_format(format);
}

void check_bias(const Tensor& bias, const Tensor& weight) {
  if (!bias.defined()) return;
  require_float_on(bias, weight.device(), "conv2d: bias");
  WISE_CHECK(bias.rank() == 1 && bias.size(0) == weight.size(0), "conv2d: bias must have shape [",
             weight.size(0), "], got ", bias.describe());
}

}  // namespace

kernels::ConvolutionShape conv2d_shape(const Tensor& input, const Tensor& weight, const Conv2dOptions& options) {
  require_float_on(input, input.device(), "conv2d: input");
  require_float_on(weight, input.device(), "conv2d: weight");
  WISE_CHECK(input.rank() == 4, "conv2d: input must be 4-d (N, C, H, W), got ", input.describe());
  WISE_CHECK(weight.rank() == 4 && weight.format() == MemoryFormat::plain,
             "conv2d: weight must be plain 4-d (K, C, R, S), got ", weight.describe());
  WISE_CHECK(weight.size(1) == input.size(1), "conv2d: weight ", weight.shape(), " expects ", weight.size(1),
             " input channels, input ", input.describe(), " has ", input.size(1));
  kernels::ConvolutionShape shape;
  shape.batch = input.size(0);
  shape.in_channels = input.size(1);
  shape.in_height = input.size(2);
  shape.in_width = input.size(3);
  shape.out_channels = weight.size(0);
  shape.kernel_height = weight.size(2);
  shape.kernel_width = weight.size(3);
  shape.stride_height = shape.stride_width = options.stride;
  shape.padding_height = shape.padding_width = options.padding;
  shape.dilation_height = shape.dilation_width = options.dilation;
  return shape;
}

kernels::ConvolutionFormats conv2d_formats(const Tensor& input, const Tensor& weight, const Conv2dOptions& options) {
  return kernels::convolution_formats(input.device(), conv2d_shape(input, weight, options));
}

void conv2d_forward(const Tensor& input, const Tensor& weight, const Tensor& bias,
                    const Conv2dOptions& options, Tensor& output, Conv2dEpilogue epilogue) {
  const kernels::ConvolutionShape shape = conv2d_shape(input, weight, options);
  check_bias(bias, weight);
  const Device device = input.device();
  const kernels::ConvolutionFormats formats = kernels::convolution_formats(device, shape);
  const Shape output_shape{shape.batch, shape.out_channels, shape.out_height(), shape.out_width()};
  if (epilogue.add_to_output) {
    WISE_CHECK(output.defined() && output.shape() == output_shape && output.device() == device &&
                   output.format() == formats.output,
               "conv2d: add_to_output needs `output` to hold the residual as float32", output_shape, " ",
               kernels::device_name(device), " ", memory_format_name(formats.output), ", got ", output.describe());
  } else {
    ensure_tensor(output, output_shape, DType::float32, device, formats.output);
  }
  const Tensor source = in_format(input, formats.input);
  Tensor workspace = workspace_for(device, shape);
  kernels::convolution_forward(device, shape, source.data<float>(), weight.data<float>(),
                               bias.defined() ? bias.data<float>() : nullptr,
                               {epilogue.add_to_output, epilogue.relu}, output.data<float>(), workspace.raw_data());
}

void conv2d_backward(const Tensor& input, const Tensor& weight, const Tensor& d_output,
                     const Conv2dOptions& options, Tensor* d_input, Tensor* d_weight, Tensor* d_bias) {
  const kernels::ConvolutionShape shape = conv2d_shape(input, weight, options);
  const Device device = input.device();
  const kernels::ConvolutionFormats formats = kernels::convolution_formats(device, shape);
  require_float_on(d_output, device, "conv2d: d_output");
  WISE_CHECK(d_output.shape() == Shape({shape.batch, shape.out_channels, shape.out_height(), shape.out_width()}),
             "conv2d: d_output must have the output's shape [", shape.batch, ", ", shape.out_channels, ", ",
             shape.out_height(), ", ", shape.out_width(), "], got ", d_output.describe());
  const Tensor gradient = in_format(d_output, formats.output);
  Tensor workspace = workspace_for(device, shape);

  if (d_input) {
    require_float_on(*d_input, device, "conv2d: d_input");
    WISE_CHECK(d_input->shape() == input.shape(), "conv2d: d_input must have the input's shape ", input.shape(),
               ", got ", d_input->describe());
    if (d_input->format() == formats.input) {
      kernels::convolution_backward_data(device, shape, gradient.data<float>(), weight.data<float>(), 1.0f,
                                         d_input->data<float>(), workspace.raw_data());
    } else {
      Tensor computed = Tensor::empty(input.shape(), DType::float32, device, formats.input);
      kernels::convolution_backward_data(device, shape, gradient.data<float>(), weight.data<float>(), 0.0f,
                                         computed.data<float>(), workspace.raw_data());
      const Tensor converted = computed.to_format(d_input->format());
      kernels::add(device, d_input->data<float>(), converted.data<float>(), d_input->data<float>(),
                   d_input->physical_numel());
    }
  }
  if (d_weight || d_bias) {
    WISE_CHECK(d_weight, "conv2d: d_bias without d_weight is not supported (request both)");
    require_float_on(*d_weight, device, "conv2d: d_weight");
    WISE_CHECK(d_weight->shape() == weight.shape() && d_weight->format() == MemoryFormat::plain,
               "conv2d: d_weight must be plain ", weight.shape(), ", got ", d_weight->describe());
    if (d_bias) {
      require_float_on(*d_bias, device, "conv2d: d_bias");
      WISE_CHECK(d_bias->shape() == Shape({shape.out_channels}), "conv2d: d_bias must have shape [",
                 shape.out_channels, "], got ", d_bias->describe());
    }
    const Tensor source = in_format(input, formats.input);
    kernels::convolution_backward_weights(device, shape, source.data<float>(), gradient.data<float>(), 1.0f,
                                          d_weight->data<float>(), d_bias ? d_bias->data<float>() : nullptr,
                                          workspace.raw_data());
  }
}

}  // namespace wise
