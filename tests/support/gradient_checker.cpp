#include "tests/support/gradient_checker.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <sstream>

#include "tests/support/seeding.h"

namespace wise::testing {

namespace {

Tensor upload(const std::vector<float>& values, const Shape& shape, Device device) {
  return Tensor::from_vector(shape, values).to(device);
}

// L = 1/2 * sum(y^2), accumulated in double.
double objective(const std::vector<Tensor>& outputs) {
  double total = 0.0;
  for (const Tensor& output : outputs) {
    for (float y : output.to_vector<float>()) total += 0.5 * static_cast<double>(y) * y;
  }
  return total;
}

// The element indices of an input of n elements to check: all, or a sample.
std::vector<int64_t> indices_to_check(int64_t n, int64_t limit, uint64_t seed) {
  std::vector<int64_t> indices(static_cast<size_t>(n));
  std::iota(indices.begin(), indices.end(), 0);
  if (n > limit) {
    std::mt19937_64 engine(seed);
    std::shuffle(indices.begin(), indices.end(), engine);
    indices.resize(static_cast<size_t>(limit));
    std::sort(indices.begin(), indices.end());
  }
  return indices;
}

}  // namespace

GradientCheckReport check_gradients(const DifferentiableOp& op, const GradientCheckOptions& options) {
  GradientCheckReport report;
  const size_t count = op.inputs.size();
  std::vector<std::vector<float>> host_inputs(count);
  for (size_t k = 0; k < count; ++k) host_inputs[k] = op.inputs[k].to_vector<float>();

  // Analytic gradients: d_outputs = y, d_inputs pre-filled with g0 != 0.
  const std::vector<Tensor> outputs = op.forward(op.inputs, options.seed);
  std::vector<Tensor> d_outputs;
  for (const Tensor& output : outputs) d_outputs.push_back(output.clone());
  std::vector<std::vector<float>> prefill(count);
  std::vector<Tensor> d_inputs;
  for (size_t k = 0; k < count; ++k) {
    prefill[k] = random_floats(op.inputs[k].numel(), options.seed + 7919 * (k + 1), 0.5f, 1.5f);
    d_inputs.push_back(upload(prefill[k], op.inputs[k].shape(), op.inputs[k].device()));
  }
  op.backward(op.inputs, outputs, d_outputs, d_inputs, options.seed);

  for (size_t k = 0; k < count; ++k) {
    const std::vector<float> accumulated = d_inputs[k].to_vector<float>();
    const Shape shape = op.inputs[k].shape();
    const Device device = op.inputs[k].device();
    for (int64_t index : indices_to_check(op.inputs[k].numel(), options.max_checks_per_input,
                                          options.seed + k)) {
      const float x = host_inputs[k][static_cast<size_t>(index)];
      if (options.kink_range >= 0 && std::fabs(x - options.kink) <= options.kink_range) {
        ++report.skipped_at_kink;
        continue;
      }
      std::vector<Tensor> perturbed = op.inputs;
      std::vector<float> values = host_inputs[k];
      // The step actually taken is what float rounding leaves of x +- h.
      const float x_plus = static_cast<float>(x + options.step);
      const float x_minus = static_cast<float>(x - options.step);
      values[static_cast<size_t>(index)] = x_plus;
      perturbed[k] = upload(values, shape, device);
      const double plus = objective(op.forward(perturbed, options.seed));
      values[static_cast<size_t>(index)] = x_minus;
      perturbed[k] = upload(values, shape, device);
      const double minus = objective(op.forward(perturbed, options.seed));

      const double numeric = (plus - minus) / (static_cast<double>(x_plus) - x_minus);
      const double analytic = static_cast<double>(accumulated[static_cast<size_t>(index)]) -
                              prefill[k][static_cast<size_t>(index)];
      const double scale = std::max({std::fabs(analytic), std::fabs(numeric), 1.0});
      ++report.checked;
      if (!(std::fabs(analytic - numeric) <= options.threshold * scale)) {
        report.mismatches.push_back({static_cast<int>(k), index, analytic, numeric});
      }
    }
  }
  return report;
}

::testing::AssertionResult gradients_match(const GradientCheckReport& report) {
  if (report.checked == 0) {
    return ::testing::AssertionFailure() << "the gradient check checked no element ("
                                         << report.skipped_at_kink << " skipped at the kink)";
  }
  if (report.mismatches.empty()) return ::testing::AssertionSuccess();
  std::ostringstream text;
  text << report.mismatches.size() << " of " << report.checked << " gradient elements differ:";
  for (size_t i = 0; i < std::min<size_t>(report.mismatches.size(), 5); ++i) {
    const GradientMismatch& m = report.mismatches[i];
    text << "\n  input " << m.input << " [" << m.index << "]: analytic " << m.analytic
         << ", numeric " << m.numeric;
  }
  return ::testing::AssertionFailure() << text.str();
}

}  // namespace wise::testing
