#include "nn/linear.h"

#include "kernels/channel_ops.h"
#include "kernels/gemm.h"
#include "nn/ensure.h"

namespace wise {

namespace {

struct LinearSizes {
  int64_t batch, in_features, out_features;
};

LinearSizes check_linear(const Tensor& input, const Tensor& weight) {
  const Device device = input.device();
  require_float_on(input, device, "linear: input");
  require_float_on(weight, device, "linear: weight");
  WISE_CHECK(input.rank() == 2 && input.format() == MemoryFormat::plain,
             "linear: input must be plain 2-d (N, in_features), got ", input.describe());
  WISE_CHECK(weight.rank() == 2 && weight.size(1) == input.size(1),
             "linear: weight must have shape [out_features, ", input.size(1), "], got ", weight.describe());
  return {input.size(0), input.size(1), weight.size(0)};
}

void check_vector(const Tensor& tensor, int64_t size, Device device, const char* what) {
  require_float_on(tensor, device, what);
  WISE_CHECK(tensor.shape() == Shape({size}), what, " must have shape [", size, "], got ", tensor.describe());
}

}  // namespace

void linear_forward(const Tensor& input, const Tensor& weight, const Tensor& bias, Tensor& output) {
  const LinearSizes s = check_linear(input, weight);
  const Device device = input.device();
  ensure_tensor(output, {s.batch, s.out_features}, DType::float32, device);
  float beta = 0.0f;
  if (bias.defined()) {
    // Start from the bias in every row, then accumulate the product onto it.
    check_vector(bias, s.out_features, device, "linear: bias");
    output.zero();
    kernels::add_channel_bias(device, bias.data<float>(), MemoryFormat::plain, s.batch, s.out_features, 1, 1,
                              output.data<float>());
    beta = 1.0f;
  }
  // y (N x out) = x (N x in) * W^T (in x out)
  kernels::gemm(device, false, true, s.batch, s.out_features, s.in_features, 1.0f, input.data<float>(),
                s.in_features, weight.data<float>(), s.in_features, beta, output.data<float>(), s.out_features);
}

void linear_backward(const Tensor& input, const Tensor& weight, const Tensor& d_output, Tensor* d_input,
                     Tensor* d_weight, Tensor* d_bias) {
  const LinearSizes s = check_linear(input, weight);
  const Device device = input.device();
  require_float_on(d_output, device, "linear: d_output");
  WISE_CHECK(d_output.shape() == Shape({s.batch, s.out_features}), "linear: d_output must have shape [", s.batch,
             ", ", s.out_features, "], got ", d_output.describe());
  if (d_input) {
    require_float_on(*d_input, device, "linear: d_input");
    WISE_CHECK(d_input->shape() == input.shape(), "linear: d_input must have shape ", input.shape(), ", got ",
               d_input->describe());
    // d_x (N x in) += d_y (N x out) * W (out x in)
    kernels::gemm(device, false, false, s.batch, s.in_features, s.out_features, 1.0f, d_output.data<float>(),
                  s.out_features, weight.data<float>(), s.in_features, 1.0f, d_input->data<float>(), s.in_features);
  }
  if (d_weight) {
    require_float_on(*d_weight, device, "linear: d_weight");
    WISE_CHECK(d_weight->shape() == weight.shape(), "linear: d_weight must have shape ", weight.shape(),
               ", got ", d_weight->describe());
    // d_W (out x in) += d_y^T (out x N) * x (N x in)
    kernels::gemm(device, true, false, s.out_features, s.in_features, s.batch, 1.0f, d_output.data<float>(),
                  s.out_features, input.data<float>(), s.in_features, 1.0f, d_weight->data<float>(), s.in_features);
  }
  if (d_bias) {
    check_vector(*d_bias, s.out_features, device, "linear: d_bias");
    kernels::sum_channels_accumulate(device, d_output.data<float>(), MemoryFormat::plain, s.batch, s.out_features,
                                     1, 1, d_bias->data<float>());
  }
}

}  // namespace wise
