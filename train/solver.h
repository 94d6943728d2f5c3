// The optimizer a trainer builds from its command line: SGD with momentum, or Adam /
// AdamW at torch's betas and eps, with no weight decay on norm weights and biases
// (nn/optimizer.h's norm-or-bias rule) and optional lr multipliers by name prefix.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nn/optimizer.h"

namespace wise {

enum class OptimizerKind { sgd, adam, adamw };

const char* optimizer_name(OptimizerKind kind);  // "sgd", "adam", "adamw"
// The inverse; throws naming the text and the three names.
OptimizerKind parse_optimizer_kind(const std::string& text);

std::unique_ptr<Optimizer> make_optimizer(OptimizerKind kind, double momentum, double weight_decay,
                                          const ParameterBuffer& parameters,
                                          std::vector<LrMultiplierRule> lr_multipliers = {});

}  // namespace wise
