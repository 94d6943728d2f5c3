// What every optimizer over a ParameterBuffer shares: per-parameter settings from
// name rules, the ranges they form, gradient clipping, the step counter, and the
// checkpointed state. SGD (nn/sgd.h) and Adam/AdamW (nn/adam.h) add only their
// update rule and its buffers.
//
// Per-parameter settings are resolved once, at construction, from rules over the
// parameters' names (torch's param groups, written as rules):
//  - lr multipliers by name prefix: PRM trains the pretrained backbone at 0.01x
//    the new layers' rate ({{"backbone."}, 0.01}); the first matching rule wins;
//  - bias_lr_multiplier for names ending in ".bias" (maskrcnn-benchmark's and
//    WISE's BIAS_LR_FACTOR = 2); it multiplies the prefix rule's multiplier;
//  - norm_bias_weight_decay (torchvision's norm_weight_decay / bias decay): the
//    weight decay of "norm or bias" parameters. A parameter is "norm or bias"
//    when its name ends with ".bias" or it has at most one dimension (timm's
//    rule: BatchNorm / GroupNorm / LayerNorm weights are 1-d [C], conv and
//    linear weights are not). Unset: they decay like every other parameter.
// Parameters with equal settings that are neighbours in the buffer form one
// range, updated by one kernel launch per step. The launch also runs over the
// alignment gaps between them, which belong to no parameter: their gradients are
// zero, so zeros there (as allocate() leaves them) stay zero under every update
// rule here. Frozen parameters sit outside the trainable range and are never
// touched.
//
// The optimizer's buffers (momentum, Adam's moments) are each one tensor over the
// trainable range, at the gradients' offsets (nn/parameter_buffer.h), so its state
// is as flat as the weights: saving it is one tensor each, and a sharded optimizer
// would slice them.
//
// Clipping (max_norm > 0) follows torch.nn.utils.clip_grad_norm_ (norm_type 2):
// total_norm = L2 norm over all trainable gradients (kernels/norms.h: a
// deterministic sum of squares in double), coefficient = max_norm /
// (total_norm + 1e-6) clamped to 1, applied to every gradient. The coefficient
// stays on the device; step() reads the total norm back to the host once (one
// synchronisation per step, only when clipping). Unlike torch, the gradient
// buffer is not modified: the update scales each gradient as it reads it.
//
// What an optimizer does not do: it does not zero the gradients (ParameterBuffer::
// zero_gradients, once per step, is the caller's), and it does not check them.
// A NaN or Inf gradient propagates into the parameters exactly as in torch (with
// clipping, a non-finite norm makes every parameter NaN); the trainer's guard,
// which checks the loss before calling step(), is what stops a bad step.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nn/parameter_buffer.h"
#include "nn/tensor.h"

namespace wise {

// Parameters whose name starts with any of `prefixes` train at `multiplier` x the lr.
struct LrMultiplierRule {
  std::vector<std::string> prefixes;
  double multiplier = 1.0;
};

// The options every optimizer takes (torch's names where torch has them). The
// learning rate itself is passed to each step() (nn/lr_schedule.h computes it).
struct ParameterGroupRules {
  double weight_decay = 0.0;
  std::optional<double> norm_bias_weight_decay;  // unset: weight_decay for all
  std::vector<LrMultiplierRule> lr_multipliers;  // by name prefix, first match wins
  double bias_lr_multiplier = 1.0;               // names ending in ".bias"
  double max_norm = 0.0;                         // > 0: clip the gradients' L2 norm
};

// The "norm or bias" rule: the name ends with ".bias", or rank <= 1.
bool is_norm_or_bias(const std::string& name, const Shape& shape);

struct ParameterSettings {
  double lr_multiplier = 1.0;
  double weight_decay = 0.0;
  bool operator==(const ParameterSettings& other) const {
    return lr_multiplier == other.lr_multiplier && weight_decay == other.weight_decay;
  }
};

// The settings the rules give one parameter.
ParameterSettings resolve_parameter_settings(const std::string& name, const Shape& shape,
                                             const ParameterGroupRules& rules);

// Neighbouring parameters with equal settings: one kernel launch per step.
struct ParameterRange {
  int64_t begin = 0, end = 0;  // floats into the trainable range
  ParameterSettings settings;
  std::vector<std::string> names;  // in buffer order
};

// A finite number >= 0, or an error naming `what` (torch's "Invalid ... value").
void require_non_negative(double value, const char* optimizer, const char* what);

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every trainable parameter at base learning rate
  // `learning_rate` (each range uses learning_rate x its multiplier). Returns the
  // total gradient norm before clipping when max_norm > 0 (read back to the
  // host), and nothing otherwise (no norm computed, no synchronisation).
  std::optional<float> step(double learning_rate);

  int64_t steps() const;  // steps taken (restored by load_state)
  const std::vector<ParameterRange>& ranges() const { return ranges_; }

  // The optimizer's state for checkpoints: its buffers, each float32
  // [trainable_numel] named "<kind>.<buffer>", then ("<kind>.step", int64 [1] on
  // the CPU). These are the optimizer's own tensors, not copies, as
  // ParameterBuffer::named_values: saving writes them, and loading a file into
  // them (nn/state_dict.h's load_into) restores the optimizer.
  std::vector<std::pair<std::string, Tensor>> named_state() const;
  // Copies exactly the tensors named_state() names (from any device) into the
  // state. Every name, shape and dtype is checked before anything is written.
  void load_state(const std::vector<std::pair<std::string, Tensor>>& state);

 protected:
  // `kind` names the state ("sgd"), `display_name` the errors ("SGD"). Resolves
  // the ranges and validates the rules; `parameters` must be allocated. The
  // optimizer keeps handles to its value and gradient buffers (not a reference
  // to the object).
  Optimizer(const char* kind, const char* display_name, const ParameterBuffer& parameters,
            const ParameterGroupRules& rules);

  // Updates one range at its learning rate (the base rate x the range's
  // multiplier, in double like torch's group lr; each rule rounds it where torch
  // does). gradient_scale is the clipping coefficient on the device, or null.
  // steps() is the number of steps before this one.
  virtual void update_range(const ParameterRange& range, double learning_rate,
                            const float* gradient_scale) = 0;
  // The buffers of named_state() besides the step, in order ("momentum_buffer", ...).
  virtual std::vector<std::pair<std::string, Tensor>> buffers() const = 0;
  // A hint appended to the error for an unexpected state tensor (e.g. "this
  // optimizer has momentum = 0"), or "".
  virtual std::string unexpected_state_hint(const std::string& /*name*/) const { return ""; }

  // A zeroed float32 buffer over the trainable range, on the parameters' device.
  Tensor zeros_like_trainable() const;

  const char* display_name() const { return display_name_; }
  float* values() { return values_.data<float>(); }
  const float* gradients() const { return gradients_.data<float>(); }
  Device device() const { return values_.device(); }

 private:
  std::string kind_;
  const char* display_name_;
  std::vector<ParameterRange> ranges_;
  double max_norm_ = 0.0;
  Tensor values_, gradients_;  // the trainable range of the ParameterBuffer
  Tensor step_;                // int64 [1], CPU
  // Clipping scratch on the device (max_norm > 0): chunk sums and the total as
  // doubles, then (total_norm, coefficient) as floats.
  Tensor norm_workspace_, sum_of_squares_, norm_and_coefficient_;
};

}  // namespace wise
