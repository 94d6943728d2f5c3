// The one finite-difference gradient checker every layer's backward plugs into.
//
// After Caffe's GradientChecker. An op is described by its inputs and two
// functions: forward(inputs) -> outputs, and backward(inputs, outputs,
// d_outputs, d_inputs), which must ADD its gradients into d_inputs (wise's one
// accumulation rule, kernels/elementwise.h). The checker
//   1. uses the objective L = 1/2 * sum(y^2) over all outputs, so d_outputs = y;
//   2. pre-fills every d_input with random non-zero values g0 and takes
//      analytic = d_input - g0 after backward, so a backward that assigns (=)
//      instead of accumulating (+=) fails;
//   3. for each checked input element, evaluates L at x + h and x - h (objective
//      summed in double) and takes numeric = (L+ - L-) / 2h;
//   4. passes when |analytic - numeric| <= threshold * max(|analytic|, |numeric|, 1);
//   5. skips elements within kink_range of a kink (e.g. ReLU at 0), where the
//      function is not differentiable and central differences straddle it.
// Forward receives the same seed on every call, so a stochastic op draws the
// same noise for x + h and x - h. Inputs are float32 on any device; the checker
// perturbs a host copy and uploads it for each evaluation.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nn/tensor.h"

namespace wise::testing {

struct DifferentiableOp {
  std::string name;
  std::vector<Tensor> inputs;  // float32, plain; their device is the device checked
  std::function<std::vector<Tensor>(const std::vector<Tensor>& inputs, uint64_t seed)> forward;
  std::function<void(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
                     const std::vector<Tensor>& d_outputs, std::vector<Tensor>& d_inputs,
                     uint64_t seed)>
      backward;
};

struct GradientCheckOptions {
  double step = 1e-2;       // h: float32 forward passes need a step this large
  double threshold = 1e-2;  // relative tolerance
  double kink = 0.0;
  double kink_range = -1.0;  // < 0: no kink band
  int64_t max_checks_per_input = 200;  // elements sampled per input (all if fewer)
  uint64_t seed = 0;
};

struct GradientMismatch {
  int input = 0;
  int64_t index = 0;
  double analytic = 0.0;
  double numeric = 0.0;
};

struct GradientCheckReport {
  int64_t checked = 0;
  int64_t skipped_at_kink = 0;
  std::vector<GradientMismatch> mismatches;
};

GradientCheckReport check_gradients(const DifferentiableOp& op, const GradientCheckOptions& options);

// gtest assertion: at least one element checked and no mismatch.
::testing::AssertionResult gradients_match(const GradientCheckReport& report);

}  // namespace wise::testing
