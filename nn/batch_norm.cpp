#include "nn/batch_norm.h"

#include "kernels/batch_norm.h"
#include "nn/ensure.h"

namespace wise {

namespace {

struct Activation {
  MemoryFormat format;
  int64_t N, C, H, W;
  int64_t per_channel() const { return N * H * W; }  // M
};

Activation check_activation(const Tensor& input, const char* what) {
  WISE_CHECK(input.defined(), what, " is undefined");
  require_float_on(input, input.device(), what);
  WISE_CHECK(input.rank() == 4, what, " must be 4-d (N, C, H, W), got ", input.describe());
  return {input.format(), input.size(0), input.size(1), input.size(2), input.size(3)};
}

// A (C) plain float32 tensor on `device`; undefined passes when `optional`.
const float* channel_vector(const Tensor& tensor, int64_t C, Device device, const char* what, bool optional) {
  if (optional && !tensor.defined()) return nullptr;
  require_float_on(tensor, device, what);
  WISE_CHECK(tensor.rank() == 1 && tensor.size(0) == C && tensor.format() == MemoryFormat::plain, what,
             " must have shape [", C, "] (one per channel), got ", tensor.describe());
  return tensor.data<float>();
}

float* mutable_channel_vector(Tensor& tensor, int64_t C, Device device, const char* what, bool optional) {
  return const_cast<float*>(channel_vector(tensor, C, device, what, optional));
}

// A (C) gradient to accumulate into, or null when not wanted.
float* channel_gradient(Tensor* gradient, int64_t C, Device device, const char* what) {
  return gradient != nullptr ? mutable_channel_vector(*gradient, C, device, what, false) : nullptr;
}

void check_same(const Tensor& tensor, const Tensor& like, const char* what) {
  require_float_on(tensor, like.device(), what);
  WISE_CHECK(tensor.shape() == like.shape() && tensor.format() == like.format(), what,
             " must match the input ", like.describe(), ", got ", tensor.describe());
}

struct Workspace {
  Tensor buffer;
  double* data() { return static_cast<double*>(buffer.raw_data()); }
};

Workspace workspace_for(const Activation& a, Device device) {
  // Doubles in a float32 buffer: two floats per double (the allocator aligns to 64 bytes).
  const int64_t doubles = kernels::batch_norm_workspace_size(a.N, a.C, a.H, a.W);
  return {Tensor::empty({2 * doubles}, DType::float32, device)};
}

}  // namespace

void batch_norm_2d_training_forward(const Tensor& input, const Tensor& weight, const Tensor& bias,
                                    Tensor& running_mean, Tensor& running_var,
                                    const BatchNorm2dOptions& options, Tensor& output, Tensor& save_mean,
                                    Tensor& save_invstd) {
  const Activation a = check_activation(input, "batch_norm_2d: input");
  const Device device = input.device();
  const float* gamma = channel_vector(weight, a.C, device, "batch_norm_2d: weight", true);
  const float* beta = channel_vector(bias, a.C, device, "batch_norm_2d: bias", true);
  WISE_CHECK(running_mean.defined() == running_var.defined(),
             "batch_norm_2d: running_mean and running_var must both be defined or both undefined, got ",
             running_mean.defined() ? "only running_mean" : "only running_var");
  float* mean_running =
      mutable_channel_vector(running_mean, a.C, device, "batch_norm_2d: running_mean", true);
  float* var_running = mutable_channel_vector(running_var, a.C, device, "batch_norm_2d: running_var", true);
  WISE_CHECK(a.per_channel() != 1,
             "batch_norm_2d: expected more than 1 value per channel when training, got input ",
             input.describe());
  ensure_tensor(output, input.shape(), DType::float32, device, a.format);
  ensure_tensor(save_mean, {a.C}, DType::float32, device);
  ensure_tensor(save_invstd, {a.C}, DType::float32, device);
  if (a.per_channel() == 0) {
    // Nothing to normalize: as torch, the running statistics stay as they are.
    save_mean.zero();
    save_invstd.zero();
    output.zero();  // the padding of a blocked format, if any
    return;
  }
  Workspace workspace = workspace_for(a, device);
  kernels::batch_norm_statistics(device, a.format, a.N, a.C, a.H, a.W, input.data<float>(),
                                 static_cast<float>(options.eps), static_cast<float>(options.momentum),
                                 mean_running, var_running, save_mean.data<float>(),
                                 save_invstd.data<float>(), workspace.data());
  kernels::batch_norm_transform(device, a.format, a.N, a.C, a.H, a.W, input.data<float>(),
                                save_mean.data<float>(), save_invstd.data<float>(), gamma, beta,
                                output.data<float>());
}

void batch_norm_2d_training_backward(const Tensor& d_output, const Tensor& input, const Tensor& weight,
                                     const Tensor& save_mean, const Tensor& save_invstd, Tensor* d_input,
                                     Tensor* d_weight, Tensor* d_bias) {
  const Activation a = check_activation(input, "batch_norm_2d_backward: input");
  const Device device = input.device();
  check_same(d_output, input, "batch_norm_2d_backward: d_output");
  const float* gamma = channel_vector(weight, a.C, device, "batch_norm_2d_backward: weight", true);
  const float* mean = channel_vector(save_mean, a.C, device, "batch_norm_2d_backward: save_mean", false);
  const float* invstd =
      channel_vector(save_invstd, a.C, device, "batch_norm_2d_backward: save_invstd", false);
  float* dx = gradient_of(d_input, input, "batch_norm_2d_backward: d_input");
  WISE_CHECK(d_weight == nullptr || weight.defined(),
             "batch_norm_2d_backward: d_weight asked for, but weight is undefined (affine = False)");
  float* dw = channel_gradient(d_weight, a.C, device, "batch_norm_2d_backward: d_weight");
  float* db = channel_gradient(d_bias, a.C, device, "batch_norm_2d_backward: d_bias");
  if (a.per_channel() == 0) return;  // an empty batch contributes nothing
  Workspace workspace = workspace_for(a, device);
  kernels::batch_norm_backward(device, a.format, a.N, a.C, a.H, a.W, /*training=*/true,
                               d_output.data<float>(), input.data<float>(), mean, invstd, gamma, dx, dw, db,
                               workspace.data());
}

void batch_norm_2d_eval_forward(const Tensor& input, const Tensor& weight, const Tensor& bias,
                                const Tensor& running_mean, const Tensor& running_var,
                                const BatchNorm2dOptions& options, Tensor& output) {
  const Activation a = check_activation(input, "batch_norm_2d_eval: input");
  const Device device = input.device();
  const float* gamma = channel_vector(weight, a.C, device, "batch_norm_2d_eval: weight", true);
  const float* beta = channel_vector(bias, a.C, device, "batch_norm_2d_eval: bias", true);
  const float* mean = channel_vector(running_mean, a.C, device, "batch_norm_2d_eval: running_mean", false);
  const float* variance = channel_vector(running_var, a.C, device, "batch_norm_2d_eval: running_var", false);
  ensure_tensor(output, input.shape(), DType::float32, device, a.format);
  Tensor invstd = Tensor::empty({a.C}, DType::float32, device);
  kernels::batch_norm_inverse_std(device, variance, static_cast<float>(options.eps), a.C,
                                  invstd.data<float>());
  kernels::batch_norm_transform(device, a.format, a.N, a.C, a.H, a.W, input.data<float>(), mean,
                                invstd.data<float>(), gamma, beta, output.data<float>());
}

void batch_norm_2d_eval_backward(const Tensor& d_output, const Tensor& input, const Tensor& weight,
                                 const Tensor& running_mean, const Tensor& running_var,
                                 const BatchNorm2dOptions& options, Tensor* d_input, Tensor* d_weight,
                                 Tensor* d_bias) {
  const Activation a = check_activation(input, "batch_norm_2d_eval_backward: input");
  const Device device = input.device();
  check_same(d_output, input, "batch_norm_2d_eval_backward: d_output");
  const float* gamma = channel_vector(weight, a.C, device, "batch_norm_2d_eval_backward: weight", true);
  const float* mean =
      channel_vector(running_mean, a.C, device, "batch_norm_2d_eval_backward: running_mean", false);
  const float* variance =
      channel_vector(running_var, a.C, device, "batch_norm_2d_eval_backward: running_var", false);
  float* dx = gradient_of(d_input, input, "batch_norm_2d_eval_backward: d_input");
  float* dw = channel_gradient(d_weight, a.C, device, "batch_norm_2d_eval_backward: d_weight");
  float* db = channel_gradient(d_bias, a.C, device, "batch_norm_2d_eval_backward: d_bias");
  Tensor invstd = Tensor::empty({a.C}, DType::float32, device);
  kernels::batch_norm_inverse_std(device, variance, static_cast<float>(options.eps), a.C,
                                  invstd.data<float>());
  Workspace workspace = workspace_for(a, device);
  kernels::batch_norm_backward(device, a.format, a.N, a.C, a.H, a.W, /*training=*/false,
                               d_output.data<float>(), input.data<float>(), mean, invstd.data<float>(), gamma,
                               dx, dw, db, workspace.data());
}

void fold_batch_norm(const Tensor& conv_weight, const Tensor& conv_bias, const Tensor& weight,
                     const Tensor& bias, const Tensor& running_mean, const Tensor& running_var, double eps,
                     Tensor& folded_weight, Tensor& folded_bias) {
  WISE_CHECK(conv_weight.defined(), "fold_batch_norm: conv_weight is undefined");
  const Device device = conv_weight.device();
  require_float_on(conv_weight, device, "fold_batch_norm: conv_weight");
  WISE_CHECK(conv_weight.rank() == 4 && conv_weight.format() == MemoryFormat::plain,
             "fold_batch_norm: conv_weight must be plain 4-d (O, I, kh, kw), got ", conv_weight.describe());
  const int64_t O = conv_weight.size(0);
  const float* b = channel_vector(conv_bias, O, device, "fold_batch_norm: conv_bias", true);
  const float* gamma = channel_vector(weight, O, device, "fold_batch_norm: weight", true);
  const float* beta = channel_vector(bias, O, device, "fold_batch_norm: bias", true);
  const float* mean = channel_vector(running_mean, O, device, "fold_batch_norm: running_mean", false);
  const float* variance = channel_vector(running_var, O, device, "fold_batch_norm: running_var", false);
  ensure_tensor(folded_weight, conv_weight.shape(), DType::float32, device);
  ensure_tensor(folded_bias, {O}, DType::float32, device);
  kernels::batch_norm_fold(device, O, conv_weight.numel() / (O > 0 ? O : 1), conv_weight.data<float>(), b,
                           gamma, beta, mean, variance, static_cast<float>(eps), folded_weight.data<float>(),
                           folded_bias.data<float>());
}

void frozen_batch_norm_scale_shift(const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                                   const Tensor& running_var, double eps, Tensor& scale, Tensor& shift) {
  WISE_CHECK(running_mean.defined() && running_mean.rank() == 1,
             "frozen_batch_norm: running_mean must have shape [C], got ",
             running_mean.defined() ? running_mean.describe() : std::string("undefined"));
  const Device device = running_mean.device();
  const int64_t C = running_mean.size(0);
  const float* mean = channel_vector(running_mean, C, device, "frozen_batch_norm: running_mean", false);
  const float* variance = channel_vector(running_var, C, device, "frozen_batch_norm: running_var", false);
  const float* gamma = channel_vector(weight, C, device, "frozen_batch_norm: weight", true);
  const float* beta = channel_vector(bias, C, device, "frozen_batch_norm: bias", true);
  ensure_tensor(scale, {C}, DType::float32, device);
  ensure_tensor(shift, {C}, DType::float32, device);
  kernels::batch_norm_scale_shift(device, C, gamma, beta, mean, variance, static_cast<float>(eps),
                                  scale.data<float>(), shift.data<float>());
}

void frozen_batch_norm_forward(const Tensor& input, const Tensor& scale, const Tensor& shift,
                               Tensor& output) {
  const Activation a = check_activation(input, "frozen_batch_norm: input");
  const Device device = input.device();
  const float* s = channel_vector(scale, a.C, device, "frozen_batch_norm: scale", false);
  const float* t = channel_vector(shift, a.C, device, "frozen_batch_norm: shift", false);
  ensure_tensor(output, input.shape(), DType::float32, device, a.format);
  // The transform with mean 0, invstd = scale, weight 1 and bias = shift.
  kernels::batch_norm_transform(device, a.format, a.N, a.C, a.H, a.W, input.data<float>(), nullptr, s,
                                nullptr, t, output.data<float>());
}

void frozen_batch_norm_backward(const Tensor& d_output, const Tensor& scale, Tensor& d_input) {
  const Activation a = check_activation(d_output, "frozen_batch_norm_backward: d_output");
  const Device device = d_output.device();
  const float* s = channel_vector(scale, a.C, device, "frozen_batch_norm_backward: scale", false);
  float* dx = gradient_of(&d_input, d_output, "frozen_batch_norm_backward: d_input");
  // Eval backward with invstd = scale and no weight: d_x += d_y * scale; no sums needed.
  kernels::batch_norm_backward(device, a.format, a.N, a.C, a.H, a.W, /*training=*/false,
                               d_output.data<float>(), nullptr, nullptr, s, nullptr, dx, nullptr, nullptr,
                               nullptr);
}

}  // namespace wise
