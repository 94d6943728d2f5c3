// SGD over a ParameterBuffer: torch.optim.SGD's update (momentum, dampening,
// Nesterov, weight decay), per-parameter settings from name rules, and
// clip_grad_norm_-style gradient clipping.
//
// The update rule is torch 1.13's, float for float (kernels/sgd.h):
//   d_p = grad + weight_decay * p
//   buf = d_p on the first step, else momentum * buf + (1 - dampening) * d_p
//   d_p = d_p + momentum * buf if nesterov, else buf
//   p  -= lr * d_p
// The momentum buffer is one tensor over the trainable range, at the gradients'
// offsets (nn/parameter_buffer.h), so the optimizer's state is as flat as the
// weights: saving it is one tensor, and a sharded optimizer would slice it.
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
// zero, so zeros there (as allocate() leaves them) stay zero. Frozen parameters
// sit outside the trainable range and are never touched.
//
// Clipping (max_norm > 0) follows torch.nn.utils.clip_grad_norm_ (norm_type 2):
// total_norm = L2 norm over all trainable gradients (kernels/norms.h: a
// deterministic sum of squares in double), coefficient = max_norm /
// (total_norm + 1e-6) clamped to 1, applied to every gradient. The coefficient
// stays on the device; step() reads the total norm back to the host once (one
// synchronisation per step, only when clipping). Unlike torch, the gradient
// buffer is not modified: the update scales each gradient as it reads it.
//
// What SGD does not do: it does not zero the gradients (ParameterBuffer::
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

// torch.optim.SGD's arguments (its names), plus the rules above. The learning
// rate itself is passed to each step() (nn/lr_schedule.h computes it).
struct SgdOptions {
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
  std::optional<double> norm_bias_weight_decay;  // unset: weight_decay for all
  std::vector<LrMultiplierRule> lr_multipliers;  // by name prefix, first match wins
  double bias_lr_multiplier = 1.0;               // names ending in ".bias"
  double max_norm = 0.0;                         // > 0: clip the gradients' L2 norm
};

// The "norm or bias" rule: the name ends with ".bias", or rank <= 1.
bool is_norm_or_bias(const std::string& name, const Shape& shape);

struct SgdParameterSettings {
  double lr_multiplier = 1.0;
  double weight_decay = 0.0;
  bool operator==(const SgdParameterSettings& other) const {
    return lr_multiplier == other.lr_multiplier && weight_decay == other.weight_decay;
  }
};

// The settings the rules give one parameter.
SgdParameterSettings resolve_sgd_settings(const std::string& name, const Shape& shape,
                                          const SgdOptions& options);

// Neighbouring parameters with equal settings: one kernel launch per step.
struct SgdRange {
  int64_t begin = 0, end = 0;  // floats into the trainable range
  SgdParameterSettings settings;
  std::vector<std::string> names;  // in buffer order
};

class Sgd {
 public:
  // `parameters` must be allocated; the optimizer keeps handles to its value and
  // gradient buffers (not a reference to the object) and allocates its state on
  // their device. Throws on invalid options, naming the option and the value.
  Sgd(const ParameterBuffer& parameters, SgdOptions options);

  // One update of every trainable parameter at base learning rate
  // `learning_rate` (each range uses learning_rate x its multiplier). Returns the
  // total gradient norm before clipping when max_norm > 0 (read back to the
  // host), and nothing otherwise (no norm computed, no synchronisation).
  std::optional<float> step(double learning_rate);

  int64_t steps() const;  // steps taken (restored by load_state)
  const SgdOptions& options() const { return options_; }
  const std::vector<SgdRange>& ranges() const { return ranges_; }

  // The optimizer's state for checkpoints: ("sgd.momentum_buffer", float32
  // [trainable_numel], only when momentum != 0) and ("sgd.step", int64 [1] on
  // the CPU). These are the optimizer's own tensors, not copies, as
  // ParameterBuffer::named_values: saving writes them, and loading a file into
  // them (nn/state_dict.h's load_into) restores the optimizer.
  std::vector<std::pair<std::string, Tensor>> named_state() const;
  // Copies exactly the tensors named_state() names (from any device) into the
  // state. Every name, shape and dtype is checked before anything is written.
  void load_state(const std::vector<std::pair<std::string, Tensor>>& state);

 private:
  SgdOptions options_;
  std::vector<SgdRange> ranges_;
  Tensor values_, gradients_;  // the trainable range of the ParameterBuffer
  Tensor momentum_buffer_;     // undefined when momentum == 0
  Tensor step_;                // int64 [1], CPU
  // Clipping scratch on the device (max_norm > 0): chunk sums and the total as
  // doubles, then (total_norm, coefficient) as floats.
  Tensor norm_workspace_, sum_of_squares_, norm_and_coefficient_;
};

}  // namespace wise
