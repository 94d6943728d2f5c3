// Adam and AdamW over a ParameterBuffer: torch.optim.Adam's and torch.optim.AdamW's
// update (betas, eps, amsgrad; L2 or decoupled weight decay), with the
// per-parameter rules and gradient clipping every optimizer shares
// (nn/optimizer.h). The update, float for float as torch 1.13 computes it, is
// kernels/adam.h:
//   m = beta1 m + (1 - beta1) g,   v = beta2 v + (1 - beta2) g^2
//   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// with g = grad + weight_decay p (Adam) or p *= 1 - lr weight_decay first (AdamW).
// The moments are one tensor each over the trainable range.
#pragma once

#include "nn/optimizer.h"

namespace wise {

// torch.optim.Adam's arguments (its names), plus the rules of nn/optimizer.h
// (weight_decay is one of them; AdamW's default there is 1e-2, Adam's 0).
struct AdamOptions : ParameterGroupRules {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  bool amsgrad = false;
  // AdamW (Loshchilov & Hutter): weight decay applied to the parameter, p *= 1 -
  // lr weight_decay, instead of added to the gradient.
  bool decoupled_weight_decay = false;
};

// AdamW's defaults: torch.optim.AdamW(weight_decay=1e-2).
AdamOptions adamw_options(double weight_decay = 1e-2);

class Adam final : public Optimizer {
 public:
  // `parameters` must be allocated. Throws on invalid options, naming the option
  // and the value. State: "adam.exp_avg", "adam.exp_avg_sq", "adam.max_exp_avg_sq"
  // (amsgrad only) and "adam.step".
  Adam(const ParameterBuffer& parameters, AdamOptions options);

  const AdamOptions& options() const { return options_; }

 private:
  void update_range(const ParameterRange& range, double learning_rate, const float* gradient_scale) override;
  std::vector<std::pair<std::string, Tensor>> buffers() const override;
  std::string unexpected_state_hint(const std::string& name) const override;

  AdamOptions options_;
  Tensor exp_avg_, exp_avg_sq_;
  Tensor max_exp_avg_sq_;  // undefined unless amsgrad
};

}  // namespace wise
