// The optimizer a trainer builds from its command line: SGD with momentum, or Adam /
// AdamW at torch's betas and eps, with no weight decay on norm weights and biases
// (nn/optimizer.h's norm-or-bias rule) and optional lr multipliers by name prefix.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nn/lr_schedule.h"
#include "nn/optimizer.h"

namespace wise {

enum class OptimizerKind { sgd, adam, adamw };

const char* optimizer_name(OptimizerKind kind);  // "sgd", "adam", "adamw"
// The inverse; throws naming the text and the three names.
OptimizerKind parse_optimizer_kind(const std::string& text);

// bias_lr_multiplier: parameters named *.bias train at that multiple of the rate
// (maskrcnn-benchmark's BIAS_LR_FACTOR 2, which WISE's Mask R-CNN used).
std::unique_ptr<Optimizer> make_optimizer(OptimizerKind kind, double momentum, double weight_decay,
                                          const ParameterBuffer& parameters,
                                          std::vector<LrMultiplierRule> lr_multipliers = {},
                                          double bias_lr_multiplier = 1.0);

// The trainers' schedule: linear warm-up from warmup_factor over warmup_iters (at most
// the run), then x0.1 at each milestone; no milestones given: at 2/3 and 8/9 of the run.
std::vector<int64_t> default_milestones(int64_t iterations);
LrScheduleOptions warmup_multistep(double base_lr, int64_t warmup_iters, double warmup_factor,
                                   const std::vector<int64_t>& milestones, int64_t iterations);

}  // namespace wise
