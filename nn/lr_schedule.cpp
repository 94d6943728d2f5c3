#include "nn/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "kernels/check.h"

namespace wise {

LrSchedule::LrSchedule(LrScheduleOptions options) : options_(std::move(options)) {
  WISE_CHECK(std::isfinite(options_.base_lr) && options_.base_lr >= 0.0,
             "LrSchedule: base_lr must be a finite number >= 0, got ", options_.base_lr);
  WISE_CHECK(options_.warmup_iters >= 0, "LrSchedule: warmup_iters must be >= 0, got ",
             options_.warmup_iters);
  WISE_CHECK(std::isfinite(options_.warmup_factor) && options_.warmup_factor >= 0.0,
             "LrSchedule: warmup_factor must be a finite number >= 0, got ", options_.warmup_factor);
  WISE_CHECK(std::isfinite(options_.gamma) && options_.gamma >= 0.0,
             "LrSchedule: gamma must be a finite number >= 0, got ", options_.gamma);
  const auto& milestones = options_.milestones;
  for (size_t i = 0; i < milestones.size(); ++i) {
    WISE_CHECK(milestones[i] >= 0, "LrSchedule: milestones[", i, "] must be >= 0, got ",
               milestones[i]);
    WISE_CHECK(i == 0 || milestones[i - 1] <= milestones[i],
               "LrSchedule: milestones must be non-decreasing, got milestones[", i - 1, "] = ",
               milestones[i - 1], " > milestones[", i, "] = ", milestones[i]);
  }
}

double LrSchedule::factor_at(int64_t iteration) const {
  WISE_CHECK(iteration >= 0, "LrSchedule: iteration must be >= 0, got ", iteration);
  // Written as torchvision's lambda, so the doubles match torch's LambdaLR bit for bit.
  double warmup = 1.0;
  if (iteration < options_.warmup_iters) {
    const double alpha = static_cast<double>(iteration) / static_cast<double>(options_.warmup_iters);
    warmup = options_.warmup_factor * (1.0 - alpha) + alpha;
  }
  // bisect_right: milestones <= iteration have been passed.
  const auto passed = std::upper_bound(options_.milestones.begin(), options_.milestones.end(), iteration) -
                      options_.milestones.begin();
  return warmup * std::pow(options_.gamma, static_cast<double>(passed));
}

}  // namespace wise
