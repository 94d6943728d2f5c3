#include "nn/group_norm.h"

#include "kernels/group_norm.h"
#include "nn/ensure.h"

namespace wise {

namespace {

struct Activation {
  MemoryFormat format;
  int64_t N, C, H, W, groups;
};

Activation check_activation(const Tensor& input, const GroupNormOptions& options, const char* what) {
  WISE_CHECK(input.defined(), what, " is undefined");
  require_float_on(input, input.device(), what);
  WISE_CHECK(input.rank() == 4, what, " must be 4-d (N, C, H, W), got ", input.describe());
  const int64_t C = input.size(1);
  WISE_CHECK(options.num_groups > 0 && C % options.num_groups == 0, what, ": num_groups ", options.num_groups,
             " must divide the ", C, " channels of ", input.describe());
  return {input.format(), input.size(0), C, input.size(2), input.size(3), options.num_groups};
}

// A plain float32 tensor of `shape` on `device`; undefined passes when `optional`.
const float* vector_of(const Tensor& tensor, const Shape& shape, Device device, const char* what,
                       bool optional) {
  if (optional && !tensor.defined()) return nullptr;
  require_float_on(tensor, device, what);
  WISE_CHECK(tensor.shape() == shape && tensor.format() == MemoryFormat::plain, what, " must have shape ",
             shape, ", got ", tensor.describe());
  return tensor.data<float>();
}

Tensor workspace_for(const Activation& a, Device device) {
  // Doubles in a float32 buffer: two floats per double (the allocator aligns to 64 bytes).
  const int64_t doubles = kernels::group_norm_workspace_size(a.N, a.C, a.H, a.W, a.groups);
  return Tensor::empty({2 * doubles}, DType::float32, device);
}

}  // namespace

void group_norm_forward(const Tensor& input, const Tensor& weight, const Tensor& bias,
                        const GroupNormOptions& options, Tensor& output, Tensor& mean, Tensor& rstd) {
  const Activation a = check_activation(input, options, "group_norm: input");
  const Device device = input.device();
  const float* gamma = vector_of(weight, {a.C}, device, "group_norm: weight", true);
  const float* beta = vector_of(bias, {a.C}, device, "group_norm: bias", true);
  ensure_tensor(output, input.shape(), DType::float32, device, a.format);
  ensure_tensor(mean, {a.N, a.groups}, DType::float32, device);
  ensure_tensor(rstd, {a.N, a.groups}, DType::float32, device);
  Tensor workspace = workspace_for(a, device);
  kernels::group_norm_forward(device, a.format, a.N, a.C, a.H, a.W, a.groups, static_cast<float>(options.eps),
                              input.data<float>(), gamma, beta, output.data<float>(), mean.data<float>(),
                              rstd.data<float>(), static_cast<double*>(workspace.raw_data()));
}

void group_norm_backward(const Tensor& d_output, const Tensor& input, const Tensor& weight,
                         const Tensor& mean, const Tensor& rstd, const GroupNormOptions& options,
                         Tensor* d_input, Tensor* d_weight, Tensor* d_bias) {
  const Activation a = check_activation(input, options, "group_norm_backward: input");
  const Device device = input.device();
  require_float_on(d_output, device, "group_norm_backward: d_output");
  WISE_CHECK(d_output.shape() == input.shape() && d_output.format() == input.format(),
             "group_norm_backward: d_output must match the input ", input.describe(), ", got ",
             d_output.describe());
  const float* gamma = vector_of(weight, {a.C}, device, "group_norm_backward: weight", true);
  const Shape statistics{a.N, a.groups};
  const float* saved_mean = vector_of(mean, statistics, device, "group_norm_backward: mean", false);
  const float* saved_rstd = vector_of(rstd, statistics, device, "group_norm_backward: rstd", false);
  float* dx = gradient_of(d_input, input, "group_norm_backward: d_input");
  float* dw = nullptr;
  float* db = nullptr;
  if (d_weight != nullptr) {
    dw = const_cast<float*>(vector_of(*d_weight, {a.C}, device, "group_norm_backward: d_weight", false));
  }
  if (d_bias != nullptr) {
    db = const_cast<float*>(vector_of(*d_bias, {a.C}, device, "group_norm_backward: d_bias", false));
  }
  if (input.numel() == 0) return;  // nothing contributes
  Tensor workspace = workspace_for(a, device);
  kernels::group_norm_backward(device, a.format, a.N, a.C, a.H, a.W, a.groups, d_output.data<float>(),
                               input.data<float>(), saved_mean, saved_rstd, gamma, dx, dw, db,
                               static_cast<double*>(workspace.raw_data()));
}

}  // namespace wise
