#include "train/solver.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "nn/adam.h"
#include "nn/sgd.h"

namespace wise {

const char* optimizer_name(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::sgd: return "sgd";
    case OptimizerKind::adam: return "adam";
    case OptimizerKind::adamw: return "adamw";
  }
  return "?";
}

OptimizerKind parse_optimizer_kind(const std::string& text) {
  for (OptimizerKind kind : {OptimizerKind::sgd, OptimizerKind::adam, OptimizerKind::adamw}) {
    if (text == optimizer_name(kind)) return kind;
  }
  throw std::invalid_argument("optimizer: expected sgd, adam or adamw, found \"" + text + "\"");
}

std::unique_ptr<Optimizer> make_optimizer(OptimizerKind kind, double momentum, double weight_decay,
                                          const ParameterBuffer& parameters,
                                          std::vector<LrMultiplierRule> lr_multipliers, double bias_lr_multiplier) {
  if (kind == OptimizerKind::sgd) {
    SgdOptions sgd;
    sgd.momentum = momentum;
    sgd.weight_decay = weight_decay;
    sgd.norm_bias_weight_decay = 0.0;
    sgd.lr_multipliers = std::move(lr_multipliers);
    sgd.bias_lr_multiplier = bias_lr_multiplier;
    return std::make_unique<Sgd>(parameters, sgd);
  }
  AdamOptions adam;
  adam.weight_decay = weight_decay;
  adam.norm_bias_weight_decay = 0.0;
  adam.lr_multipliers = std::move(lr_multipliers);
  adam.bias_lr_multiplier = bias_lr_multiplier;
  adam.decoupled_weight_decay = kind == OptimizerKind::adamw;
  return std::make_unique<Adam>(parameters, adam);
}

std::vector<int64_t> default_milestones(int64_t iterations) {
  return {iterations * 2 / 3, iterations * 8 / 9};
}

LrScheduleOptions warmup_multistep(double base_lr, int64_t warmup_iters, double warmup_factor,
                                   const std::vector<int64_t>& milestones, int64_t iterations) {
  LrScheduleOptions schedule;
  schedule.base_lr = base_lr;
  schedule.warmup_iters = std::min(warmup_iters, iterations);
  schedule.warmup_factor = warmup_factor;
  schedule.milestones = milestones.empty() ? default_milestones(iterations) : milestones;
  return schedule;
}

}  // namespace wise
