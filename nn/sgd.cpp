#include "nn/sgd.h"

#include <algorithm>
#include <cmath>

#include "kernels/norms.h"
#include "kernels/sgd.h"

namespace wise {

namespace {

constexpr const char* kMomentumBufferName = "sgd.momentum_buffer";
constexpr const char* kStepName = "sgd.step";

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_bias(const std::string& name) { return ends_with(name, ".bias"); }

// A non-negative finite number, or a named error (torch's "Invalid ... value").
void require_non_negative(double value, const char* what) {
  WISE_CHECK(std::isfinite(value) && value >= 0.0, "SGD: ", what,
             " must be a finite number >= 0, got ", value);
}

void validate(const SgdOptions& options, const ParameterBuffer& parameters) {
  require_non_negative(options.momentum, "momentum");
  require_non_negative(options.weight_decay, "weight_decay");
  require_non_negative(options.bias_lr_multiplier, "bias_lr_multiplier");
  require_non_negative(options.max_norm, "max_norm");
  WISE_CHECK(std::isfinite(options.dampening), "SGD: dampening must be finite, got ",
             options.dampening);
  if (options.norm_bias_weight_decay) {
    require_non_negative(*options.norm_bias_weight_decay, "norm_bias_weight_decay");
  }
  // torch.optim.SGD's own rule.
  WISE_CHECK(!options.nesterov || (options.momentum > 0.0 && options.dampening == 0.0),
             "SGD: nesterov momentum requires momentum > 0 and dampening == 0, got momentum ",
             options.momentum, " and dampening ", options.dampening);
  for (const LrMultiplierRule& rule : options.lr_multipliers) {
    WISE_CHECK(!rule.prefixes.empty(), "SGD: an lr multiplier rule (", rule.multiplier,
               ") has no prefixes");
    require_non_negative(rule.multiplier, "an lr multiplier");
    // A prefix that names no parameter at all is a typo ("bakbone."), not a choice.
    for (const std::string& prefix : rule.prefixes) {
      bool matched = false;
      for (int i = 0; i < parameters.size() && !matched; ++i) {
        matched = starts_with(parameters.name(i), prefix);
      }
      WISE_CHECK(matched, "SGD: lr multiplier prefix \"", prefix, "\" matches none of the ",
                 parameters.size(), " parameters");
    }
  }
}

}  // namespace

bool is_norm_or_bias(const std::string& name, const Shape& shape) {
  return is_bias(name) || shape.rank() <= 1;
}

SgdParameterSettings resolve_sgd_settings(const std::string& name, const Shape& shape,
                                          const SgdOptions& options) {
  SgdParameterSettings settings;
  for (const LrMultiplierRule& rule : options.lr_multipliers) {
    const bool matches = std::any_of(rule.prefixes.begin(), rule.prefixes.end(),
                                     [&](const std::string& prefix) { return starts_with(name, prefix); });
    if (matches) {
      settings.lr_multiplier = rule.multiplier;
      break;
    }
  }
  if (is_bias(name)) settings.lr_multiplier *= options.bias_lr_multiplier;
  settings.weight_decay = options.norm_bias_weight_decay && is_norm_or_bias(name, shape)
                              ? *options.norm_bias_weight_decay
                              : options.weight_decay;
  return settings;
}

Sgd::Sgd(const ParameterBuffer& parameters, SgdOptions options) : options_(std::move(options)) {
  WISE_CHECK(parameters.allocated(), "SGD: the ParameterBuffer must be allocated first");
  validate(options_, parameters);
  values_ = parameters.trainable_values();
  gradients_ = parameters.trainable_gradients();
  const Device device = values_.device();

  // Trainable parameters in buffer order; runs of equal settings become ranges.
  std::vector<int> trainable;
  for (int i = 0; i < parameters.size(); ++i) {
    if (parameters.trainable(i)) trainable.push_back(i);
  }
  std::sort(trainable.begin(), trainable.end(),
            [&](int a, int b) { return parameters.offset(a) < parameters.offset(b); });
  for (int index : trainable) {
    const Tensor value = parameters.value(index);
    const SgdParameterSettings settings =
        resolve_sgd_settings(parameters.name(index), value.shape(), options_);
    const int64_t begin = parameters.offset(index), end = begin + value.numel();
    if (ranges_.empty() || !(ranges_.back().settings == settings)) {
      ranges_.push_back({begin, end, settings, {}});
    }
    ranges_.back().end = end;
    ranges_.back().names.push_back(parameters.name(index));
  }

  if (options_.momentum != 0.0) {
    momentum_buffer_ = Tensor::zeros(gradients_.shape(), DType::float32, device);
  }
  step_ = Tensor::zeros({1}, DType::int64, Device::cpu);
  if (options_.max_norm > 0.0) {
    // Doubles live in float32 tensors of twice the length (DType has no float64).
    const int64_t chunks = kernels::sum_of_squares_workspace_size(gradients_.numel());
    norm_workspace_ = Tensor::empty({2 * chunks}, DType::float32, device);
    sum_of_squares_ = Tensor::empty({2}, DType::float32, device);
    norm_and_coefficient_ = Tensor::empty({2}, DType::float32, device);
  }
}

int64_t Sgd::steps() const { return step_.data<int64_t>()[0]; }

std::optional<float> Sgd::step(double learning_rate) {
  require_non_negative(learning_rate, "learning_rate");
  const Device device = values_.device();
  float* values = values_.data<float>();
  const float* gradients = gradients_.data<float>();

  const float* gradient_scale = nullptr;
  if (options_.max_norm > 0.0) {
    auto* sum = static_cast<double*>(sum_of_squares_.raw_data());
    kernels::sum_of_squares(device, gradients, gradients_.numel(),
                            static_cast<double*>(norm_workspace_.raw_data()), sum);
    float* norm_and_coefficient = norm_and_coefficient_.data<float>();
    kernels::clip_grad_norm_coefficient(device, sum, static_cast<float>(options_.max_norm),
                                        norm_and_coefficient, norm_and_coefficient + 1);
    gradient_scale = norm_and_coefficient + 1;
  }

  // The floats torch would use: each Python double rounded once.
  kernels::SgdStep update;
  update.momentum = static_cast<float>(options_.momentum);
  update.one_minus_dampening = static_cast<float>(1.0 - options_.dampening);
  update.nesterov = options_.nesterov;
  update.first_step = steps() == 0;
  float* momentum_buffer = momentum_buffer_.defined() ? momentum_buffer_.data<float>() : nullptr;
  for (const SgdRange& range : ranges_) {
    update.learning_rate = static_cast<float>(learning_rate * range.settings.lr_multiplier);
    update.weight_decay = static_cast<float>(range.settings.weight_decay);
    kernels::sgd_update(device, values + range.begin, gradients + range.begin,
                        momentum_buffer != nullptr ? momentum_buffer + range.begin : nullptr,
                        gradient_scale, range.end - range.begin, update);
  }
  step_.data<int64_t>()[0] += 1;

  if (gradient_scale == nullptr) return std::nullopt;
  return norm_and_coefficient_.to_vector<float>()[0];  // the one host read-back
}

std::vector<std::pair<std::string, Tensor>> Sgd::named_state() const {
  std::vector<std::pair<std::string, Tensor>> state;
  if (momentum_buffer_.defined()) state.emplace_back(kMomentumBufferName, momentum_buffer_);
  state.emplace_back(kStepName, step_);
  return state;
}

void Sgd::load_state(const std::vector<std::pair<std::string, Tensor>>& state) {
  const auto targets = named_state();
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
    WISE_CHECK(found != state.end(), "SGD state: missing \"", name, "\" (expected ",
               expected_names(), ")");
    const Tensor& source = found->second;
    WISE_CHECK(source.defined() && source.dtype() == target.dtype() &&
                   source.shape() == target.shape() && source.format() == MemoryFormat::plain,
               "SGD state: \"", name, "\" must be ", dtype_name(target.dtype()), target.shape(),
               " plain, got ", source.defined() ? source.describe() : std::string("undefined"),
               name == kMomentumBufferName
                   ? " (the trainable range changed: other parameters, or another world_size?)"
                   : "");
    copies.emplace_back(target, source);
  }
  for (const auto& [name, tensor] : state) {
    const bool known = std::any_of(targets.begin(), targets.end(),
                                   [&](const auto& target) { return target.first == name; });
    WISE_CHECK(known, "SGD state: unexpected \"", name, "\" (expected ", expected_names(),
               name == kMomentumBufferName ? "; this optimizer has momentum = 0)" : ")");
  }
  const int64_t steps_found = copies.back().second.to_vector<int64_t>()[0];  // "sgd.step" is last
  WISE_CHECK(steps_found >= 0, "SGD state: \"", kStepName, "\" must be >= 0, got ", steps_found);
  for (auto& [target, source] : copies) target.copy_from(source);
}

}  // namespace wise
