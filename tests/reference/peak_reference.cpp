// Naive peak stimulation reference (see peak_reference.h).
#include "tests/reference/peak_reference.h"

#include <algorithm>
#include <limits>

namespace wise::reference {

namespace {

// The map value at (y, x), -inf outside (PRM pads with -inf before pooling).
double padded(const float* map, int64_t H, int64_t W, int64_t y, int64_t x) {
  if (y < 0 || y >= H || x < 0 || x >= W) return -std::numeric_limits<double>::infinity();
  return map[y * W + x];
}

}  // namespace

PeakResult peak_stimulation(const std::vector<float>& maps, int64_t N, int64_t C, int64_t H,
                            int64_t W, int64_t window_size, PeakThresholdChoice threshold) {
  PeakResult result;
  const int64_t half = window_size / 2;
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t c = 0; c < C; ++c) {
      const float* map = maps.data() + (n * C + c) * H * W;
      double cut = -std::numeric_limits<double>::infinity();
      if (threshold.kind == PeakThresholdChoice::median) {
        std::vector<float> sorted(map, map + H * W);
        std::sort(sorted.begin(), sorted.end());
        cut = sorted[static_cast<size_t>((H * W - 1) / 2)];
      } else if (threshold.kind == PeakThresholdChoice::fixed) {
        cut = threshold.value;
      } else if (threshold.kind == PeakThresholdChoice::fraction_of_max) {
        // The layer's definition: the float product f x max, or the maximum itself when
        // it is not positive.
        const float maximum = *std::max_element(map, map + H * W);
        cut = maximum > 0.0f ? static_cast<float>(threshold.value) * maximum : maximum;
      }
      int64_t count = 0;
      double sum = 0.0;
      for (int64_t y = 0; y < H; ++y) {
        for (int64_t x = 0; x < W; ++x) {
          const double value = map[y * W + x];
          // maxpool(x) over the window, and whether an earlier window element ties it.
          double window_max = -std::numeric_limits<double>::infinity();
          bool earlier_equal = false;
          for (int64_t dy = -half; dy <= half; ++dy) {
            for (int64_t dx = -half; dx <= half; ++dx) {
              const double other = padded(map, H, W, y + dy, x + dx);
              window_max = std::max(window_max, other);
              const bool earlier = dy < 0 || (dy == 0 && dx < 0);
              if (earlier && other == value) earlier_equal = true;
            }
          }
          if (value != window_max || earlier_equal || !(value >= cut)) continue;
          result.peaks.insert(result.peaks.end(), {n, c, y, x});
          result.values.push_back(value);
          ++count;
          sum += value;
        }
      }
      result.counts.push_back(count);
      result.scores.push_back(count > 0 ? sum / static_cast<double>(count) : 0.0);
    }
  }
  return result;
}

std::vector<double> peak_stimulation_backward(const PeakResult& forward,
                                              const std::vector<float>& d_scores, int64_t C,
                                              int64_t H, int64_t W, bool mean,
                                              const std::vector<float>& prior) {
  std::vector<double> d_maps(prior.begin(), prior.end());
  for (size_t k = 0; k < forward.values.size(); ++k) {
    const int64_t* row = forward.peaks.data() + 4 * k;
    const int64_t map = row[0] * C + row[1];
    const double d_score = d_scores[static_cast<size_t>(map)];
    const double share = mean ? d_score / static_cast<double>(forward.counts[map]) : d_score;
    d_maps[static_cast<size_t>((map * H + row[2]) * W + row[3])] += share;
  }
  return d_maps;
}

}  // namespace wise::reference
