#include "nn/sgd.h"

#include <cmath>

#include "kernels/sgd.h"

namespace wise {

namespace {

const SgdOptions& validated(const SgdOptions& options) {
  require_non_negative(options.momentum, "SGD", "momentum");
  WISE_CHECK(std::isfinite(options.dampening), "SGD: dampening must be finite, got ", options.dampening);
  // torch.optim.SGD's own rule.
  WISE_CHECK(!options.nesterov || (options.momentum > 0.0 && options.dampening == 0.0),
             "SGD: nesterov momentum requires momentum > 0 and dampening == 0, got momentum ",
             options.momentum, " and dampening ", options.dampening);
  return options;
}

}  // namespace

Sgd::Sgd(const ParameterBuffer& parameters, SgdOptions options)
    : Optimizer("sgd", "SGD", parameters, validated(options)), options_(std::move(options)) {
  if (options_.momentum != 0.0) momentum_buffer_ = zeros_like_trainable();
}

void Sgd::update_range(const ParameterRange& range, double learning_rate, const float* gradient_scale) {
  // The floats torch would use: each Python double rounded once.
  kernels::SgdStep update;
  update.learning_rate = static_cast<float>(learning_rate);
  update.weight_decay = static_cast<float>(range.settings.weight_decay);
  update.momentum = static_cast<float>(options_.momentum);
  update.one_minus_dampening = static_cast<float>(1.0 - options_.dampening);
  update.nesterov = options_.nesterov;
  update.first_step = steps() == 0;
  float* momentum_buffer = momentum_buffer_.defined() ? momentum_buffer_.data<float>() + range.begin : nullptr;
  kernels::sgd_update(device(), values() + range.begin, gradients() + range.begin, momentum_buffer, gradient_scale,
                      range.end - range.begin, update);
}

std::vector<std::pair<std::string, Tensor>> Sgd::buffers() const {
  if (!momentum_buffer_.defined()) return {};
  return {{"momentum_buffer", momentum_buffer_}};
}

std::string Sgd::unexpected_state_hint(const std::string& name) const {
  return name == "sgd.momentum_buffer" ? "; this optimizer has momentum = 0" : "";
}

}  // namespace wise
