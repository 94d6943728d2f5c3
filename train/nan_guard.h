// The NaN guard: a training step whose losses or gradients are not finite stops
// the run before it can reach the parameters or a checkpoint.
//
// What the training loop (train/training_loop.h) does with these, per step:
//   1. the step callback returns its loss terms (host doubles);
//   2. any non-finite term -> stop, before the optimizer runs;
//   3. gradient_norm() over the trainable gradients (one deterministic sum of
//      squares, kernels/norms.h, and one host read-back); non-finite -> stop,
//      still before the optimizer runs, so the parameters stay finite;
//   4. before every checkpoint, all_finite() over every parameter value (an
//      update can still overflow a finite gradient into Inf): a checkpoint is
//      never written after a non-finite value.
// The message names the step, every loss term, the gradient norm and the last
// good checkpoint to resume from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nn/parameter_buffer.h"
#include "nn/tensor.h"

namespace wise {

// A step's named loss terms, in the order the step reports them
// ({"loss_classifier", 0.31}, {"loss_box_reg", 0.12}, ...).
using LossTerms = std::vector<std::pair<std::string, double>>;

bool all_finite(const LossTerms& terms);

// True when every element of a float32 tensor (any device) is finite. One pass
// and one host read-back: the sum of squares of finite floats is finite in
// double, and any NaN or Inf makes it NaN or Inf.
bool all_finite(const Tensor& tensor);

// The L2 norm over all trainable gradients (clip_grad_norm_'s total_norm,
// norm_type 2), read back to the host. NaN or Inf if any gradient is.
double gradient_norm(const ParameterBuffer& parameters);

// "non-finite values in step 37 (iteration 36): loss = nan, loss_classifier =
// nan, loss_box_reg = 0.1234; gradient norm 5.2. Nothing was saved after this
// step; the last good checkpoint is out/checkpoint-00000030.safetensors
// (resume from it, perhaps with a lower learning rate or gradient clipping)."
// `step` is 1-based (the step that would complete iteration count `step`);
// an empty `last_checkpoint` says no checkpoint was written yet.
std::string non_finite_message(int64_t step, const LossTerms& terms, std::optional<double> gradient_norm,
                               const std::string& last_checkpoint);

// The parameters were found non-finite before the checkpoint of `step` although
// every loss and gradient norm was finite (an update overflowed): "non-finite
// parameters after step 60, found before writing its checkpoint (they went bad
// in one of steps 51..60, whose losses and gradient norms were all finite: an
// update overflowed?). Nothing was saved after ...; the last good checkpoint is ...".
std::string non_finite_parameters_message(int64_t step, int64_t last_checked_step,
                                          const std::string& last_checkpoint);

}  // namespace wise
