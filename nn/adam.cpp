#include "nn/adam.h"

#include <cmath>

#include "kernels/adam.h"

namespace wise {

namespace {

const char* name_of(const AdamOptions& options) { return options.decoupled_weight_decay ? "AdamW" : "Adam"; }

const AdamOptions& validated(const AdamOptions& options) {
  const char* name = name_of(options);
  // torch's own rules: 0 <= beta < 1, 0 <= eps.
  for (const auto& [beta, what] : {std::pair<double, const char*>{options.beta1, "beta1"}, {options.beta2, "beta2"}}) {
    WISE_CHECK(std::isfinite(beta) && beta >= 0.0 && beta < 1.0, name, ": ", what, " must be in [0, 1), got ", beta);
  }
  require_non_negative(options.eps, name, "eps");
  return options;
}

}  // namespace

AdamOptions adamw_options(double weight_decay) {
  AdamOptions options;
  options.weight_decay = weight_decay;
  options.decoupled_weight_decay = true;
  return options;
}

Adam::Adam(const ParameterBuffer& parameters, AdamOptions options)
    : Optimizer("adam", name_of(options), parameters, validated(options)), options_(std::move(options)) {
  exp_avg_ = zeros_like_trainable();
  exp_avg_sq_ = zeros_like_trainable();
  if (options_.amsgrad) max_exp_avg_sq_ = zeros_like_trainable();
}

void Adam::update_range(const ParameterRange& range, double learning_rate, const float* gradient_scale) {
  // torch's host arithmetic, in double, each result rounded to float once.
  const double step = static_cast<double>(steps() + 1);
  const double weight_decay = range.settings.weight_decay;
  kernels::AdamStep update;
  update.beta1 = static_cast<float>(options_.beta1);
  update.one_minus_beta1 = static_cast<float>(1.0 - options_.beta1);
  update.beta2 = static_cast<float>(options_.beta2);
  update.one_minus_beta2 = static_cast<float>(1.0 - options_.beta2);
  update.eps = static_cast<float>(options_.eps);
  update.negative_step_size = static_cast<float>(-(learning_rate / (1.0 - std::pow(options_.beta1, step))));
  update.bias_correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(options_.beta2, step)));
  if (options_.decoupled_weight_decay) {
    update.decoupled_decay_factor = static_cast<float>(1.0 - learning_rate * weight_decay);
  } else {
    update.weight_decay = static_cast<float>(weight_decay);
  }
  update.amsgrad = options_.amsgrad;
  const int64_t begin = range.begin;
  kernels::adam_update(device(), values() + begin, gradients() + begin, exp_avg_.data<float>() + begin,
                       exp_avg_sq_.data<float>() + begin,
                       options_.amsgrad ? max_exp_avg_sq_.data<float>() + begin : nullptr, gradient_scale,
                       range.end - begin, update);
}

std::vector<std::pair<std::string, Tensor>> Adam::buffers() const {
  std::vector<std::pair<std::string, Tensor>> buffers = {{"exp_avg", exp_avg_}, {"exp_avg_sq", exp_avg_sq_}};
  if (options_.amsgrad) buffers.emplace_back("max_exp_avg_sq", max_exp_avg_sq_);
  return buffers;
}

std::string Adam::unexpected_state_hint(const std::string& name) const {
  return name == "adam.max_exp_avg_sq" ? "; this optimizer has amsgrad off" : "";
}

}  // namespace wise
