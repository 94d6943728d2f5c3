#include "train/nan_guard.h"

#include <cmath>
#include <cstring>
#include <sstream>

#include "kernels/check.h"
#include "kernels/norms.h"

namespace wise {

namespace {

// sum_i x[i]^2 over a float32 buffer of `n` elements on `device`, in double.
double sum_of_squares(Device device, const float* x, int64_t n) {
  // Doubles live in int64 tensors (8 bytes each): Tensor has no float64 dtype.
  Tensor workspace = Tensor::empty({kernels::sum_of_squares_workspace_size(n)}, DType::int64, device);
  Tensor result = Tensor::empty({1}, DType::int64, device);
  kernels::sum_of_squares(device, x, n, static_cast<double*>(workspace.raw_data()),
                          static_cast<double*>(result.raw_data()));
  const int64_t bits = result.to_vector<int64_t>()[0];
  double value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// Seven significant digits (a float's worth), nan and inf as iostreams spell them.
std::string format_number(double value) {
  std::ostringstream out;
  out.precision(7);
  out << value;
  return out.str();
}

}  // namespace

bool all_finite(const LossTerms& terms) {
  for (const auto& [name, value] : terms) {
    if (!std::isfinite(value)) return false;
  }
  return true;
}

bool all_finite(const Tensor& tensor) {
  WISE_CHECK(tensor.defined() && tensor.dtype() == DType::float32,
             "all_finite: expected a float32 tensor, got ",
             tensor.defined() ? tensor.describe() : std::string("undefined"));
  // Blocked formats' padding is zero, so the physical buffer can be summed whole.
  return std::isfinite(sum_of_squares(tensor.device(), tensor.data<float>(), tensor.physical_numel()));
}

double gradient_norm(const ParameterBuffer& parameters) {
  const Tensor& gradients = parameters.trainable_gradients();
  if (!gradients.defined() || parameters.trainable_numel() == 0) return 0.0;
  return std::sqrt(sum_of_squares(gradients.device(), gradients.data<float>(), parameters.trainable_numel()));
}

namespace {

std::string resume_hint(const std::string& last_checkpoint) {
  if (last_checkpoint.empty()) {
    return "no checkpoint was written yet (start again, perhaps with a lower learning rate or gradient clipping).";
  }
  return "the last good checkpoint is " + last_checkpoint +
         " (resume from it, perhaps with a lower learning rate or gradient clipping).";
}

}  // namespace

std::string non_finite_message(int64_t step, const LossTerms& terms, std::optional<double> gradient_norm,
                               const std::string& last_checkpoint) {
  std::ostringstream out;
  out << "non-finite values in step " << step << " (iteration " << step - 1 << "): ";
  if (terms.empty()) out << "no loss terms";
  for (size_t i = 0; i < terms.size(); ++i) {
    out << (i ? ", " : "") << terms[i].first << " = " << format_number(terms[i].second);
  }
  if (gradient_norm) {
    out << "; gradient norm " << format_number(*gradient_norm);
  } else {
    out << "; gradient norm not computed (the losses already failed)";
  }
  out << ". Nothing was saved after this step; " << resume_hint(last_checkpoint);
  return out.str();
}

std::string non_finite_parameters_message(int64_t step, int64_t last_checked_step,
                                          const std::string& last_checkpoint) {
  return concat("non-finite parameters after step ", step, ", found before writing its checkpoint (they went bad in ",
                last_checked_step + 1 == step ? concat("step ", step) : concat("one of steps ", last_checked_step + 1,
                                                                                "..", step),
                ", whose losses and gradient norms were all finite: an update overflowed?). Nothing was saved after "
                "step ",
                last_checked_step, "; ", resume_hint(last_checkpoint));
}

}  // namespace wise
