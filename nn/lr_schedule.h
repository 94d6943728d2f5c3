// The learning-rate schedule: linear warm-up times multi-step decay, by iteration.
//
//   lr_at(i)     = base_lr * factor_at(i)
//   factor_at(i) = warmup(i) * gamma ^ (number of milestones <= i)
//   warmup(i)    = warmup_factor * (1 - i / warmup_iters) + i / warmup_iters   for i < warmup_iters
//                = 1                                                          otherwise
//
// This is maskrcnn-benchmark's WarmupMultiStepLR (method "linear"), and the
// torchvision detection reference's warm-up lambda (engine.py's
// warmup_lr_scheduler, later LinearLR(start_factor=warmup_factor,
// total_iters=warmup_iters)) composed with MultiStepLR, both counted in
// iterations: the factor goes linearly from warmup_factor at iteration 0 to 1 at
// warmup_iters, and is multiplied by gamma at each milestone (from that iteration
// on). Iteration i is the (i+1)-th optimizer step, as a torch scheduler's
// last_epoch when optimizer.step() runs. Milestones are iterations; a trainer that
// thinks in epochs multiplies by its iterations per epoch.
//
// lr_at is a pure function of the iteration, so resuming from a checkpoint needs
// only the iteration (the optimizer's step count), no scheduler state.
#pragma once

#include <cstdint>
#include <vector>

namespace wise {

struct LrScheduleOptions {
  double base_lr = 0.02;               // torchvision detection: 0.02 for 8 GPUs x 2 images
  int64_t warmup_iters = 0;            // 0: no warm-up
  double warmup_factor = 1.0 / 1000;   // the factor at iteration 0
  std::vector<int64_t> milestones;     // iterations, non-decreasing (a repeat decays twice)
  double gamma = 0.1;
};

class LrSchedule {
 public:
  // Throws on invalid options, naming the option and the value.
  explicit LrSchedule(LrScheduleOptions options);

  double factor_at(int64_t iteration) const;
  double lr_at(int64_t iteration) const { return options_.base_lr * factor_at(iteration); }

  const LrScheduleOptions& options() const { return options_; }

 private:
  LrScheduleOptions options_;
};

}  // namespace wise
