// Naive double-precision reference for the peak stimulation layer (PRM's PSL), written
// from PRM's released code independently of kernels/peak_stimulation.h: the window max
// is a max-pool with -inf padding, and a peak is an element EQUAL to its window's max
// that no earlier element of the window (row-major) equals -- the first-maximum rule of
// torch's max_pool2d with indices, as PRM compares those indices with arange. The median
// is std::sort's element (n - 1) / 2 (torch.median's lower median); the backward pass
// is a scatter over the peak list (the kernel gathers per pixel). NaN-free inputs.
#pragma once

#include <cstdint>
#include <vector>

namespace wise::reference {

struct PeakThresholdChoice {
  enum Kind { median, fixed, none, fraction_of_max } kind = median;
  double value = 0.0;  // for fixed; the fraction for fraction_of_max
};

struct PeakResult {
  std::vector<int64_t> peaks;  // (K, 4) rows (n, c, y, x), sorted
  std::vector<double> values;  // (K)
  std::vector<double> scores;  // (N, C): mean peak value, 0 without peaks
  std::vector<int64_t> counts; // (N, C)
};

PeakResult peak_stimulation(const std::vector<float>& maps, int64_t N, int64_t C, int64_t H,
                            int64_t W, int64_t window_size, PeakThresholdChoice threshold);

// prior (N, C, H, W) + d_scores[n, c] (divided by the map's count if `mean`) at each peak.
std::vector<double> peak_stimulation_backward(const PeakResult& forward,
                                              const std::vector<float>& d_scores, int64_t C,
                                              int64_t H, int64_t W, bool mean,
                                              const std::vector<float>& prior);

}  // namespace wise::reference
