// SGD over a ParameterBuffer: torch.optim.SGD's update (momentum, dampening,
// Nesterov, weight decay), with the per-parameter rules and gradient clipping
// every optimizer shares (nn/optimizer.h).
//
// The update rule is torch 1.13's, float for float (kernels/sgd.h):
//   d_p = grad + weight_decay * p
//   buf = d_p on the first step, else momentum * buf + (1 - dampening) * d_p
//   d_p = d_p + momentum * buf if nesterov, else buf
//   p  -= lr * d_p
// The momentum buffer is one tensor over the trainable range.
#pragma once

#include "nn/optimizer.h"

namespace wise {

// torch.optim.SGD's arguments (its names), plus the rules of nn/optimizer.h
// (weight_decay is one of them).
struct SgdOptions : ParameterGroupRules {
  double momentum = 0.0;
  double dampening = 0.0;
  bool nesterov = false;
};

class Sgd final : public Optimizer {
 public:
  // `parameters` must be allocated. Throws on invalid options, naming the
  // option and the value. State: "sgd.momentum_buffer" (when momentum != 0) and
  // "sgd.step".
  Sgd(const ParameterBuffer& parameters, SgdOptions options);

  const SgdOptions& options() const { return options_; }

 private:
  void update_range(const ParameterRange& range, double learning_rate, const float* gradient_scale) override;
  std::vector<std::pair<std::string, Tensor>> buffers() const override;
  std::string unexpected_state_hint(const std::string& name) const override;

  SgdOptions options_;
  Tensor momentum_buffer_;  // undefined when momentum == 0
};

}  // namespace wise
