#include "nn/optimizer.h"

#include <algorithm>
#include <cmath>

#include "kernels/norms.h"
#include "kernels/sgd.h"

namespace wise {

namespace {

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_bias(const std::string& name) { return ends_with(name, ".bias"); }

void validate(const ParameterGroupRules& rules, const ParameterBuffer& parameters, const char* optimizer) {
  require_non_negative(rules.weight_decay, optimizer, "weight_decay");
  require_non_negative(rules.bias_lr_multiplier, optimizer, "bias_lr_multiplier");
  require_non_negative(rules.max_norm, optimizer, "max_norm");
  if (rules.norm_bias_weight_decay) {
    require_non_negative(*rules.norm_bias_weight_decay, optimizer, "norm_bias_weight_decay");
  }
  for (const LrMultiplierRule& rule : rules.lr_multipliers) {
    WISE_CHECK(!rule.prefixes.empty(), optimizer, ": an lr multiplier rule (", rule.multiplier,
               ") has no prefixes");
    require_non_negative(rule.multiplier, optimizer, "an lr multiplier");
    // A prefix that names no parameter at all is a typo ("bakbone."), not a choice.
    for (const std::string& prefix : rule.prefixes) {
      bool matched = false;
      for (int i = 0; i < parameters.size() && !matched; ++i) {
        matched = starts_with(parameters.name(i), prefix);
      }
      WISE_CHECK(matched, optimizer, ": lr multiplier prefix \"", prefix, "\" matches none of the ",
                 parameters.size(), " parameters");
    }
  }
}

// Trainable parameters in buffer order; runs of equal settings become ranges.
std::vector<ParameterRange> parameter_ranges(const ParameterBuffer& parameters, const ParameterGroupRules& rules) {
  std::vector<int> trainable;
  for (int i = 0; i < parameters.size(); ++i) {
    if (parameters.trainable(i)) trainable.push_back(i);
  }
  std::sort(trainable.begin(), trainable.end(),
            [&](int a, int b) { return parameters.offset(a) < parameters.offset(b); });
  std::vector<ParameterRange> ranges;
  for (int index : trainable) {
    const Tensor value = parameters.value(index);
    const ParameterSettings settings = resolve_parameter_settings(parameters.name(index), value.shape(), rules);
    const int64_t begin = parameters.offset(index), end = begin + value.numel();
    if (ranges.empty() || !(ranges.back().settings == settings)) ranges.push_back({begin, end, settings, {}});
    ranges.back().end = end;
    ranges.back().names.push_back(parameters.name(index));
  }
  return ranges;
}

}  // namespace

void require_non_negative(double value, const char* optimizer, const char* what) {
  WISE_CHECK(std::isfinite(value) && value >= 0.0, optimizer, ": ", what, " must be a finite number >= 0, got ",
             value);
}

bool is_norm_or_bias(const std::string& name, const Shape& shape) {
  return is_bias(name) || shape.rank() <= 1;
}

ParameterSettings resolve_parameter_settings(const std::string& name, const Shape& shape,
                                             const ParameterGroupRules& rules) {
  ParameterSettings settings;
  for (const LrMultiplierRule& rule : rules.lr_multipliers) {
    const bool matches = std::any_of(rule.prefixes.begin(), rule.prefixes.end(),
                                     [&](const std::string& prefix) { return starts_with(name, prefix); });
    if (matches) {
      settings.lr_multiplier = rule.multiplier;
      break;
    }
  }
  if (is_bias(name)) settings.lr_multiplier *= rules.bias_lr_multiplier;
  settings.weight_decay = rules.norm_bias_weight_decay && is_norm_or_bias(name, shape)
                              ? *rules.norm_bias_weight_decay
                              : rules.weight_decay;
  return settings;
}

Optimizer::Optimizer(const char* kind, const char* display_name, const ParameterBuffer& parameters,
                     const ParameterGroupRules& rules)
    : kind_(kind), display_name_(display_name), max_norm_(rules.max_norm) {
  WISE_CHECK(parameters.allocated(), display_name, ": the ParameterBuffer must be allocated first");
  validate(rules, parameters, display_name);
  values_ = parameters.trainable_values();
  gradients_ = parameters.trainable_gradients();
  ranges_ = parameter_ranges(parameters, rules);
  step_ = Tensor::zeros({1}, DType::int64, Device::cpu);
  if (max_norm_ > 0.0) {
    // Doubles live in float32 tensors of twice the length (DType has no float64).
    const int64_t chunks = kernels::sum_of_squares_workspace_size(gradients_.numel());
    norm_workspace_ = Tensor::empty({2 * chunks}, DType::float32, device());
    sum_of_squares_ = Tensor::empty({2}, DType::float32, device());
    norm_and_coefficient_ = Tensor::empty({2}, DType::float32, device());
  }
}

Tensor Optimizer::zeros_like_trainable() const { return Tensor::zeros(gradients_.shape(), DType::float32, device()); }

int64_t Optimizer::steps() const { return step_.data<int64_t>()[0]; }

std::optional<float> Optimizer::step(double learning_rate) {
  require_non_negative(learning_rate, display_name_, "learning_rate");
  const float* gradient_scale = nullptr;
  if (max_norm_ > 0.0) {
    auto* sum = static_cast<double*>(sum_of_squares_.raw_data());
    kernels::sum_of_squares(device(), gradients(), gradients_.numel(), static_cast<double*>(norm_workspace_.raw_data()),
                            sum);
    float* norm_and_coefficient = norm_and_coefficient_.data<float>();
    kernels::clip_grad_norm_coefficient(device(), sum, static_cast<float>(max_norm_), norm_and_coefficient,
                                        norm_and_coefficient + 1);
    gradient_scale = norm_and_coefficient + 1;
  }
  for (const ParameterRange& range : ranges_) {
    update_range(range, learning_rate * range.settings.lr_multiplier, gradient_scale);
  }
  step_.data<int64_t>()[0] += 1;

  if (gradient_scale == nullptr) return std::nullopt;
  return norm_and_coefficient_.to_vector<float>()[0];  // the one host read-back
}

std::vector<std::pair<std::string, Tensor>> Optimizer::named_state() const {
  std::vector<std::pair<std::string, Tensor>> state;
  for (const auto& [name, tensor] : buffers()) state.emplace_back(kind_ + "." + name, tensor);
  state.emplace_back(kind_ + ".step", step_);
  return state;
}

void Optimizer::load_state(const std::vector<std::pair<std::string, Tensor>>& state) {
  const auto targets = named_state();
  const std::string step_name = kind_ + ".step";
  auto expected_names = [&] {
    std::string names;
    for (const auto& [name, tensor] : targets) names += (names.empty() ? "\"" : ", \"") + name + "\"";
    return names;
  };
  // Check everything first, so a failed load leaves the optimizer as it was.
  std::vector<std::pair<Tensor, Tensor>> copies;  // (target, source)
  for (const auto& [name, target] : targets) {
    const auto found = std::find_if(state.begin(), state.end(),
                                    [&](const auto& entry) { return entry.first == name; });
    WISE_CHECK(found != state.end(), display_name_, " state: missing \"", name, "\" (expected ", expected_names(),
               ")");
    const Tensor& source = found->second;
    WISE_CHECK(source.defined() && source.dtype() == target.dtype() && source.shape() == target.shape() &&
                   source.format() == MemoryFormat::plain,
               display_name_, " state: \"", name, "\" must be ", dtype_name(target.dtype()), target.shape(),
               " plain, got ", source.defined() ? source.describe() : std::string("undefined"),
               name != step_name ? " (the trainable range changed: other parameters, or another world_size?)" : "");
    copies.emplace_back(target, source);
  }
  for (const auto& [name, tensor] : state) {
    const bool known = std::any_of(targets.begin(), targets.end(),
                                   [&](const auto& target) { return target.first == name; });
    WISE_CHECK(known, display_name_, " state: unexpected \"", name, "\" (expected ", expected_names(),
               unexpected_state_hint(name), ")");
  }
  const int64_t steps_found = copies.back().second.to_vector<int64_t>()[0];  // the step is last
  WISE_CHECK(steps_found >= 0, display_name_, " state: \"", step_name, "\" must be >= 0, got ", steps_found);
  for (auto& [target, source] : copies) target.copy_from(source);
}

}  // namespace wise
