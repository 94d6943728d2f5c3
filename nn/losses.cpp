// Losses (see losses.h): argument checks with named errors, scratch, kernel calls.
#include "nn/losses.h"

#include "kernels/reduce.h"
#include "nn/ensure.h"

namespace wise {

namespace {

// `what` of loss `op` must be a defined float32 plain tensor on `device`.
void check_float(const char* op, const char* what, const Tensor& tensor, Device device) {
  WISE_CHECK(tensor.defined(), op, ": ", what, " is undefined");
  WISE_CHECK(tensor.dtype() == DType::float32 && tensor.device() == device &&
                 tensor.format() == MemoryFormat::plain,
             op, ": ", what, " must be float32 plain on ", kernels::device_name(device), ", got ",
             tensor.describe());
}

// `what` must be float32 on `device` with the shape of `like` (named `like_name`).
void check_like(const char* op, const char* what, const Tensor& tensor, const char* like_name,
                const Tensor& like) {
  check_float(op, what, tensor, like.device());
  WISE_CHECK(tensor.shape() == like.shape(), op, ": ", what, " must have the shape of ",
             like_name, " ", like.shape(), ", got ", tensor.describe());
}

void check_d_loss(const char* op, const Tensor& d_loss, Device device) {
  check_float(op, "d_loss", d_loss, device);
  WISE_CHECK(d_loss.numel() == 1, op, ": d_loss must hold one element (the loss's gradient), got ",
             d_loss.describe());
}

// The optional weight's pointer: nullptr when undefined (no weighting).
const float* optional_data(const Tensor& tensor) {
  return tensor.defined() ? tensor.data<float>() : nullptr;
}

// Scratch from the caching allocator: the blocks come back the next step, so a
// training loop stops allocating after its first step.
Tensor scratch_floats(int64_t count, Device device) {
  return Tensor::empty({count}, DType::float32, device);
}

// Doubles for kernels/reduce.h's chunk sums, held as pairs of floats (Tensor has no float64).
Tensor reduction_workspace(int64_t n, Device device) {
  return Tensor::empty({2 * kernels::reduce_workspace_size(n)}, DType::float32, device);
}

double* as_doubles(Tensor& workspace) { return static_cast<double*>(workspace.raw_data()); }

// ---------------------------------------------------------------------------------------
// Softmax cross entropy checks.
// ---------------------------------------------------------------------------------------

constexpr const char* kCrossEntropy = "softmax_cross_entropy";

void check_cross_entropy(const Tensor& logits, const Tensor& targets,
                         const SoftmaxCrossEntropyOptions& options) {
  check_float(kCrossEntropy, "logits", logits, logits.device());
  WISE_CHECK(logits.rank() == 2, kCrossEntropy, ": logits must be 2-d (N, C), got ",
             logits.describe());
  const int64_t N = logits.size(0), C = logits.size(1);
  WISE_CHECK(C >= 1, kCrossEntropy, ": logits must have at least one class (C >= 1), got ",
             logits.describe());
  WISE_CHECK(targets.defined(), kCrossEntropy, ": targets is undefined");
  WISE_CHECK(targets.dtype() == DType::int64 && targets.device() == logits.device() &&
                 targets.format() == MemoryFormat::plain,
             kCrossEntropy, ": targets must be int64 class indices on ",
             kernels::device_name(logits.device()), " (the device of logits), got ",
             targets.describe());
  WISE_CHECK(targets.shape() == Shape{N}, kCrossEntropy, ": targets must have shape [N] = [", N,
             "], got ", targets.describe());
  // The range check needs the values on the host: done where they already are. On the GPU
  // the kernel makes such a row NaN instead (kernels/losses.h).
  if (targets.device() == Device::cpu) {
    const int64_t* values = targets.data<int64_t>();
    for (int64_t n = 0; n < N; ++n) {
      const int64_t target = values[n];
      WISE_CHECK(target == options.ignore_index || (target >= 0 && target < C), kCrossEntropy,
                 ": targets[", n, "] = ", target, " is out of range [0, ", C, ") for logits ",
                 logits.describe(), " (ignore_index = ", options.ignore_index, ")");
    }
  }
}

}  // namespace

void softmax_cross_entropy_forward(const Tensor& logits, const Tensor& targets,
                                   const SoftmaxCrossEntropyOptions& options, Tensor& loss) {
  check_cross_entropy(logits, targets, options);
  const Device device = logits.device();
  const int64_t N = logits.size(0), C = logits.size(1);
  ensure_tensor(loss, {1}, DType::float32, device);
  Tensor scratch = scratch_floats(kernels::softmax_cross_entropy_scratch_floats(N), device);
  Tensor workspace = reduction_workspace(N, device);
  kernels::softmax_cross_entropy_forward(device, logits.data<float>(), targets.data<int64_t>(), N,
                                         C, options.ignore_index, options.reduction,
                                         scratch.data<float>(), as_doubles(workspace),
                                         loss.data<float>());
}

void softmax_cross_entropy_backward(const Tensor& d_loss, const Tensor& logits,
                                    const Tensor& targets,
                                    const SoftmaxCrossEntropyOptions& options, Tensor& d_logits) {
  check_cross_entropy(logits, targets, options);
  const Device device = logits.device();
  check_d_loss(kCrossEntropy, d_loss, device);
  check_like(kCrossEntropy, "d_logits", d_logits, "logits", logits);
  const int64_t N = logits.size(0), C = logits.size(1);
  Tensor scratch = scratch_floats(kernels::softmax_cross_entropy_scratch_floats(N), device);
  Tensor workspace = reduction_workspace(N, device);
  kernels::softmax_cross_entropy_backward(device, logits.data<float>(), targets.data<int64_t>(),
                                          N, C, options.ignore_index, options.reduction,
                                          d_loss.data<float>(), scratch.data<float>(),
                                          as_doubles(workspace), d_logits.data<float>());
}

// ---------------------------------------------------------------------------------------
// Binary cross entropy with logits.
// ---------------------------------------------------------------------------------------

namespace {

constexpr const char* kBinaryCrossEntropy = "binary_cross_entropy_with_logits";

void check_binary_cross_entropy(const Tensor& logits, const Tensor& targets, const Tensor& weight) {
  check_float(kBinaryCrossEntropy, "logits", logits, logits.device());
  check_like(kBinaryCrossEntropy, "targets", targets, "logits", logits);
  if (weight.defined()) check_like(kBinaryCrossEntropy, "weight", weight, "logits", logits);
}

}  // namespace

void binary_cross_entropy_with_logits_forward(const Tensor& logits, const Tensor& targets,
                                              const Tensor& weight,
                                              const BinaryCrossEntropyWithLogitsOptions& options,
                                              Tensor& loss) {
  check_binary_cross_entropy(logits, targets, weight);
  const Device device = logits.device();
  const int64_t n = logits.numel();
  ensure_tensor(loss, {1}, DType::float32, device);
  Tensor scratch = scratch_floats(n, device);
  Tensor workspace = reduction_workspace(n, device);
  kernels::binary_cross_entropy_with_logits_forward(
      device, logits.data<float>(), targets.data<float>(), optional_data(weight), n,
      options.reduction, scratch.data<float>(), as_doubles(workspace), loss.data<float>());
}

void binary_cross_entropy_with_logits_backward(const Tensor& d_loss, const Tensor& logits,
                                               const Tensor& targets, const Tensor& weight,
                                               const BinaryCrossEntropyWithLogitsOptions& options,
                                               Tensor& d_logits) {
  check_binary_cross_entropy(logits, targets, weight);
  check_d_loss(kBinaryCrossEntropy, d_loss, logits.device());
  check_like(kBinaryCrossEntropy, "d_logits", d_logits, "logits", logits);
  kernels::binary_cross_entropy_with_logits_backward(
      logits.device(), logits.data<float>(), targets.data<float>(), optional_data(weight),
      logits.numel(), options.reduction, d_loss.data<float>(), d_logits.data<float>());
}

// ---------------------------------------------------------------------------------------
// Smooth L1.
// ---------------------------------------------------------------------------------------

namespace {

constexpr const char* kSmoothL1 = "smooth_l1";

void check_smooth_l1(const Tensor& input, const Tensor& target, const SmoothL1Options& options) {
  check_float(kSmoothL1, "input", input, input.device());
  check_like(kSmoothL1, "target", target, "input", input);
  // `beta >= 0` is false for a NaN beta too.
  WISE_CHECK(options.beta >= 0.0f, kSmoothL1,
             ": beta must be >= 0 (0 is the L1 loss), got ", options.beta);
}

}  // namespace

void smooth_l1_forward(const Tensor& input, const Tensor& target, const SmoothL1Options& options,
                       Tensor& loss) {
  check_smooth_l1(input, target, options);
  const Device device = input.device();
  const int64_t n = input.numel();
  ensure_tensor(loss, {1}, DType::float32, device);
  Tensor scratch = scratch_floats(n, device);
  Tensor workspace = reduction_workspace(n, device);
  kernels::smooth_l1_forward(device, input.data<float>(), target.data<float>(), n, options.beta,
                             options.reduction, scratch.data<float>(), as_doubles(workspace),
                             loss.data<float>());
}

void smooth_l1_backward(const Tensor& d_loss, const Tensor& input, const Tensor& target,
                        const SmoothL1Options& options, Tensor& d_input) {
  check_smooth_l1(input, target, options);
  check_d_loss(kSmoothL1, d_loss, input.device());
  check_like(kSmoothL1, "d_input", d_input, "input", input);
  kernels::smooth_l1_backward(input.device(), input.data<float>(), target.data<float>(),
                              input.numel(), options.beta, options.reduction,
                              d_loss.data<float>(), d_input.data<float>());
}

// ---------------------------------------------------------------------------------------
// Multilabel soft margin.
// ---------------------------------------------------------------------------------------

namespace {

constexpr const char* kMultilabel = "multilabel_soft_margin";

void check_multilabel(const Tensor& input, const Tensor& target, const Tensor& weight) {
  check_float(kMultilabel, "input", input, input.device());
  WISE_CHECK(input.rank() == 2, kMultilabel, ": input must be 2-d (N, C), got ",
             input.describe());
  check_like(kMultilabel, "target", target, "input", input);
  if (weight.defined()) {
    check_float(kMultilabel, "weight", weight, input.device());
    WISE_CHECK(weight.shape() == Shape{input.size(1)}, kMultilabel,
               ": weight must have shape [C] = [", input.size(1), "], got ", weight.describe());
  }
}

}  // namespace

void multilabel_soft_margin_forward(const Tensor& input, const Tensor& target,
                                    const Tensor& weight,
                                    const MultilabelSoftMarginOptions& options, Tensor& loss) {
  check_multilabel(input, target, weight);
  const Device device = input.device();
  const int64_t N = input.size(0), C = input.size(1);
  ensure_tensor(loss, {1}, DType::float32, device);
  Tensor scratch = scratch_floats(N, device);
  Tensor workspace = reduction_workspace(N, device);
  kernels::multilabel_soft_margin_forward(device, input.data<float>(), target.data<float>(),
                                          optional_data(weight), N, C, options.reduction,
                                          scratch.data<float>(), as_doubles(workspace),
                                          loss.data<float>());
}

void multilabel_soft_margin_backward(const Tensor& d_loss, const Tensor& input,
                                     const Tensor& target, const Tensor& weight,
                                     const MultilabelSoftMarginOptions& options,
                                     Tensor& d_input) {
  check_multilabel(input, target, weight);
  check_d_loss(kMultilabel, d_loss, input.device());
  check_like(kMultilabel, "d_input", d_input, "input", input);
  kernels::multilabel_soft_margin_backward(input.device(), input.data<float>(),
                                           target.data<float>(), optional_data(weight),
                                           input.size(0), input.size(1), options.reduction,
                                           d_loss.data<float>(), d_input.data<float>());
}

}  // namespace wise
