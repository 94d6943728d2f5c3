#include "train/solver.h"

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
                                          std::vector<LrMultiplierRule> lr_multipliers) {
  if (kind == OptimizerKind::sgd) {
    SgdOptions sgd;
    sgd.momentum = momentum;
    sgd.weight_decay = weight_decay;
    sgd.norm_bias_weight_decay = 0.0;
    sgd.lr_multipliers = std::move(lr_multipliers);
    return std::make_unique<Sgd>(parameters, sgd);
  }
  AdamOptions adam;
  adam.weight_decay = weight_decay;
  adam.norm_bias_weight_decay = 0.0;
  adam.lr_multipliers = std::move(lr_multipliers);
  adam.decoupled_weight_decay = kind == OptimizerKind::adamw;
  return std::make_unique<Adam>(parameters, adam);
}

}  // namespace wise
