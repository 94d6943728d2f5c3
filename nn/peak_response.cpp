#include "nn/peak_response.h"

#include "kernels/elementwise.h"
#include "kernels/reduce.h"
#include "nn/activation.h"
#include "nn/ensure.h"

namespace wise {

namespace {

Tensor as_plain(const Tensor& tensor) {
  return tensor.format() == MemoryFormat::plain ? tensor : tensor.to_format(MemoryFormat::plain);
}

// Doubles for kernels/reduce.h's chunk sums, held as pairs of floats (Tensor has no float64).
Tensor reduction_workspace(int64_t n, Device device) {
  return Tensor::empty({2 * kernels::reduce_workspace_size(n)}, DType::float32, device);
}

}  // namespace

void conv2d_peak_response_backward(const Tensor& input, const Tensor& weight, const Tensor& d_output,
                                   const Conv2dOptions& options, Tensor& d_input, float eps) {
  const Device device = input.device();
  require_float_on(input, device, "conv2d_peak_response_backward: input");
  require_float_on(weight, device, "conv2d_peak_response_backward: weight");
  require_float_on(d_output, device, "conv2d_peak_response_backward: d_output");
  require_float_on(d_input, device, "conv2d_peak_response_backward: d_input");
  WISE_CHECK(input.rank() == 4 && input.numel() > 0,
             "conv2d_peak_response_backward: input must be a non-empty (N, C, H, W), got ", input.describe());
  WISE_CHECK(d_input.shape() == input.shape(), "conv2d_peak_response_backward: d_input must have the input's shape ",
             input.shape(), ", got ", d_input.describe());
  WISE_CHECK(weight.format() == MemoryFormat::plain,
             "conv2d_peak_response_backward: weight must be plain (K, C, R, S), got ", weight.describe());
  conv2d_shape(input, weight, options);  // validates input against weight and options

  // x~ = x - min x, per sample, in plain layout (so no blocked padding enters the minimum).
  const Tensor x = as_plain(input);
  const int64_t N = x.size(0), M = x.numel() / N;
  Tensor shifted = Tensor::empty(x.shape(), DType::float32, device);
  Tensor workspace = Tensor::empty({kernels::peak_response_shift_workspace_size(N, M)}, DType::float32, device);
  kernels::peak_response_shift(device, x.data<float>(), N, M, workspace.data<float>(), shifted.data<float>());

  // z = W+ x~ and r = d_output / (|z| + eps) (0 where z < eps), in the backend's layout.
  Tensor positive;
  relu_forward(weight, positive);
  Tensor z;
  conv2d_forward(shifted, positive, Tensor(), options, z);
  WISE_CHECK(d_output.shape() == z.shape(), "conv2d_peak_response_backward: d_output must have the output's shape ",
             z.shape(), ", got ", d_output.describe());
  const Tensor g = d_output.format() == z.format() ? d_output : d_output.to_format(z.format());
  Tensor r = Tensor::empty(z.shape(), DType::float32, device, z.format());
  kernels::peak_response_normalize(device, g.data<float>(), z.data<float>(), eps, r.data<float>(),
                                   z.physical_numel());  // blocked padding: z = 0 there, so r = 0

  // W+^T r, then d_input += x~ (.) W+^T r.
  Tensor back = Tensor::zeros(x.shape(), DType::float32, device);
  conv2d_backward(shifted, positive, r, options, &back, nullptr, nullptr);
  if (d_input.format() == MemoryFormat::plain) {
    kernels::multiply_accumulate(device, shifted.data<float>(), back.data<float>(), d_input.data<float>(),
                                 x.numel());
    return;
  }
  Tensor product = Tensor::zeros(x.shape(), DType::float32, device);
  kernels::multiply_accumulate(device, shifted.data<float>(), back.data<float>(), product.data<float>(), x.numel());
  add_backward(product.to_format(d_input.format()), &d_input, nullptr);
}

const char* peak_response_normalization_name(PeakResponseNormalization normalization) {
  switch (normalization) {
    case PeakResponseNormalization::sum: return "sum";
    case PeakResponseNormalization::max: return "max";
    case PeakResponseNormalization::none: return "none";
  }
  return "?";
}

void peak_response_map(const Tensor& d_images, int64_t sample, PeakResponseNormalization normalization,
                       Tensor& map) {
  const Device device = d_images.device();
  require_float_on(d_images, device, "peak_response_map: d_images");
  WISE_CHECK(d_images.rank() == 4, "peak_response_map: d_images must be (N, C, H, W), got ", d_images.describe());
  WISE_CHECK(sample >= 0 && sample < d_images.size(0), "peak_response_map: sample must be in [0, ",
             d_images.size(0), "), got ", sample);
  const Tensor plain = as_plain(d_images);
  const int64_t C = plain.size(1), H = plain.size(2), W = plain.size(3);
  ensure_tensor(map, {H, W}, DType::float32, device);
  kernels::peak_response_channel_sum(device, plain.data<float>() + sample * C * H * W, C, H * W, map.data<float>());
  if (normalization == PeakResponseNormalization::none || H * W == 0) return;
  Tensor workspace = reduction_workspace(H * W, device);
  Tensor denominator = Tensor::empty({1}, DType::float32, device);
  double* doubles = static_cast<double*>(workspace.raw_data());
  if (normalization == PeakResponseNormalization::sum) {
    kernels::sum(device, map.data<float>(), H * W, doubles, denominator.data<float>());
  } else {
    kernels::max(device, map.data<float>(), H * W, doubles, denominator.data<float>());
  }
  kernels::peak_response_divide(device, map.data<float>(), H * W, denominator.data<float>());
}

}  // namespace wise
