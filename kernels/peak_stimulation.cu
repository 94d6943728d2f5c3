// Peak stimulation kernels (see peak_stimulation.h). One source for CPU and CUDA.
#include "kernels/peak_stimulation.h"

#include <cmath>

#include "kernels/launch.h"

namespace wise::kernels {

void peak_thresholds(Device device, const float* maps, int64_t planes, int64_t plane_size,
                     PeakThresholdMode mode, float value, float* scratch, float* thresholds) {
  if (mode == PeakThresholdMode::fixed || mode == PeakThresholdMode::none) {
    const float cut = mode == PeakThresholdMode::fixed ? value : -HUGE_VALF;
    parallel_for(device, planes, [=] WISE_HD(int64_t plane) { thresholds[plane] = cut; });
    return;
  }
  if (mode == PeakThresholdMode::fraction_of_max) {
    // One thread per map. A map whose maximum is not positive keeps the maximum as its
    // threshold (f x a negative maximum would exceed it, leaving no peak).
    parallel_for(device, planes, [=] WISE_HD(int64_t plane) {
      const float* map = maps + plane * plane_size;
      float maximum = map[0];
      for (int64_t i = 1; i < plane_size; ++i) maximum = max_of(maximum, map[i]);
      thresholds[plane] = maximum > 0.0f ? value * maximum : maximum;
    }, plane_size);
    return;
  }
  // One thread per map: copy it, then select torch.median's lower middle element.
  parallel_for(device, planes, [=] WISE_HD(int64_t plane) {
    const float* map = maps + plane * plane_size;
    float* copy = scratch + plane * plane_size;
    for (int64_t i = 0; i < plane_size; ++i) copy[i] = map[i];
    thresholds[plane] = select_kth_smallest(copy, plane_size, (plane_size - 1) / 2);
  }, plane_size);
}

void peak_find(Device device, const float* maps, const float* thresholds, int64_t planes,
               int64_t H, int64_t W, int window_size, uint8_t* peak_mask) {
  const int64_t half_window = window_size / 2;
  const int64_t plane_size = H * W;
  parallel_for(device, planes * plane_size, [=] WISE_HD(int64_t index) {
    const int64_t plane = index / plane_size, offset = index % plane_size;
    const float* map = maps + plane * plane_size;
    const bool peak = map[offset] >= thresholds[plane] &&
                      is_window_argmax(map, H, W, offset / W, offset % W, half_window);
    peak_mask[index] = peak ? 1 : 0;
  }, window_size * window_size);
}

void peak_counts_and_scores(Device device, const float* maps, const uint8_t* peak_mask,
                            int64_t planes, int64_t plane_size, int64_t* counts, float* scores) {
  parallel_for(device, planes, [=] WISE_HD(int64_t plane) {
    const float* map = maps + plane * plane_size;
    const uint8_t* mask = peak_mask + plane * plane_size;
    int64_t count = 0;
    double sum = 0.0;
    for (int64_t i = 0; i < plane_size; ++i) {
      if (mask[i] == 0) continue;
      ++count;
      sum += map[i];
    }
    counts[plane] = count;
    // No peaks (only possible with a fixed threshold): score 0, where PRM's 0 / 0 is NaN.
    scores[plane] = count > 0 ? static_cast<float>(sum / static_cast<double>(count)) : 0.0f;
  }, plane_size);
}

void peak_list(Device device, const float* maps, const uint8_t* peak_mask, const int64_t* counts,
               const int64_t* end_offsets, int64_t planes, int64_t C, int64_t H, int64_t W,
               int64_t* peaks, float* values) {
  const int64_t plane_size = H * W;
  parallel_for(device, planes, [=] WISE_HD(int64_t plane) {
    const float* map = maps + plane * plane_size;
    const uint8_t* mask = peak_mask + plane * plane_size;
    int64_t row = end_offsets[plane] - counts[plane];
    for (int64_t i = 0; i < plane_size; ++i) {
      if (mask[i] == 0) continue;
      int64_t* out = peaks + row * 4;
      out[0] = plane / C;
      out[1] = plane % C;
      out[2] = i / W;
      out[3] = i % W;
      values[row] = map[i];
      ++row;
    }
  }, plane_size);
}

void peak_stimulation_backward(Device device, const float* d_scores, const uint8_t* peak_mask,
                               const int64_t* counts, int64_t planes, int64_t plane_size,
                               bool divide_by_count, float* d_maps) {
  parallel_for(device, planes * plane_size, [=] WISE_HD(int64_t index) {
    if (peak_mask[index] == 0) return;
    const int64_t plane = index / plane_size;
    // torch's mean backward: d_score / K in float (K >= 1 here: this pixel is a peak).
    d_maps[index] += divide_by_count ? d_scores[plane] / static_cast<float>(counts[plane])
                                     : d_scores[plane];
  });
}

}  // namespace wise::kernels
