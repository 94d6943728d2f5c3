// Device dispatch for kernels/convolution.h; the backends are in
// kernels/cpu/onednn_convolution.cpp and kernels/cuda/cudnn_convolution.cpp.
#include "kernels/convolution.h"

#include "kernels/check.h"

namespace wise::kernels {

namespace {

void check_shape(const ConvolutionShape& s) {
  WISE_CHECK(s.batch >= 1 && s.in_channels >= 1 && s.out_channels >= 1 && s.kernel_height >= 1 &&
                 s.kernel_width >= 1 && s.stride_height >= 1 && s.stride_width >= 1 &&
                 s.dilation_height >= 1 && s.dilation_width >= 1 && s.padding_height >= 0 &&
                 s.padding_width >= 0,
             "convolution: invalid geometry (N=", s.batch, " C=", s.in_channels, " K=", s.out_channels,
             " kernel ", s.kernel_height, "x", s.kernel_width, " stride ", s.stride_height, "x",
             s.stride_width, " padding ", s.padding_height, "x", s.padding_width, " dilation ",
             s.dilation_height, "x", s.dilation_width, ")");
  WISE_CHECK(s.out_height() >= 1 && s.out_width() >= 1, "convolution: input ", s.in_height, "x",
             s.in_width, " is smaller than the dilated kernel, output would be ", s.out_height(), "x",
             s.out_width());
}

}  // namespace

ConvolutionFormats convolution_formats(Device device, const ConvolutionShape& shape) {
  check_shape(shape);
  if (device == Device::cpu) return cpu::convolution_formats(shape);
  return {MemoryFormat::plain, MemoryFormat::plain};  // cuDNN: NCHW
}

std::size_t convolution_workspace_bytes(Device device, const ConvolutionShape& shape) {
  check_shape(shape);
  require_device(device, "convolution");
  if (device == Device::cpu) return cpu::convolution_workspace_bytes(shape);
#if WISE_WITH_CUDA
  return cuda::convolution_workspace_bytes(shape);
#else
  return 0;
#endif
}

void convolution_forward(Device device, const ConvolutionShape& shape, const float* input,
                         const float* weight, const float* bias, ConvolutionEpilogue epilogue,
                         float* output, void* workspace) {
  check_shape(shape);
  require_device(device, "convolution_forward");
  if (device == Device::cpu) return cpu::convolution_forward(shape, input, weight, bias, epilogue, output, workspace);
#if WISE_WITH_CUDA
  cuda::convolution_forward(shape, input, weight, bias, epilogue, output, workspace);
#endif
}

void convolution_backward_data(Device device, const ConvolutionShape& shape, const float* d_output,
                               const float* weight, float beta, float* d_input, void* workspace) {
  check_shape(shape);
  require_device(device, "convolution_backward_data");
  if (device == Device::cpu) return cpu::convolution_backward_data(shape, d_output, weight, beta, d_input, workspace);
#if WISE_WITH_CUDA
  cuda::convolution_backward_data(shape, d_output, weight, beta, d_input, workspace);
#endif
}

void convolution_backward_weights(Device device, const ConvolutionShape& shape, const float* input,
                                  const float* d_output, float beta, float* d_weight, float* d_bias,
                                  void* workspace) {
  check_shape(shape);
  require_device(device, "convolution_backward_weights");
  if (device == Device::cpu) {
    return cpu::convolution_backward_weights(shape, input, d_output, beta, d_weight, d_bias, workspace);
  }
#if WISE_WITH_CUDA
  cuda::convolution_backward_weights(shape, input, d_output, beta, d_weight, d_bias, workspace);
#endif
}

}  // namespace wise::kernels
