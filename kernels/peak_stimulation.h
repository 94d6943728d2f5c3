// Peak stimulation kernels: PRM's peak stimulation layer (Zhou et al., "Weakly
// Supervised Instance Segmentation using Class Peak Response", CVPR 2018; released
// code ZhouYanzhao/PRM, prm/functions/peak_stimulation.py), used by WISE's classifier.
//
// For every class response map M = maps[n, c] (H, W):
//   peak(y, x)  <=>  (y, x) is the argmax of its window_size x window_size window
//                     (centred, positions outside the map count as -inf), under torch's
//                     max-pool selection rule: the window is scanned row by row and an
//                     element replaces the running maximum when strictly greater (so of
//                     tied maxima only the FIRST in scan order is a peak) or NaN;
//               and M[y, x] >= threshold(n, c).
//   threshold:  the lower median of M (torch.median: sorted element (H W - 1) / 2), a
//               fixed value, a fraction f of M's maximum (the float product f max M when
//               max M > 0, else max M itself: the maximum is always a peak), or -inf (no
//               filter).
//   score[n, c] = (1 / K) sum over the K peaks of M[y, x]  (summed in double in row-major
//               order, rounded once); 0 when K = 0. With the median or no threshold K >= 1:
//               the first occurrence of the map's maximum is always a peak.
//   backward:   d_maps[n, c, y, x] += peak(y, x) ? d_score[n, c] / K : 0   (mean), or
//               d_score[n, c] without the 1 / K, as PRM's released backward does.
//
// Work split: the median is a deterministic quickselect (3-way partition, middle pivot)
// by one thread per map over a scratch copy; peak detection and the backward pass are
// one element per pixel (GATHERS: each writes only its own pixel); counts, scores and
// the compaction of the peak list are one thread per map, writing its rows in row-major
// order at its offset (an inclusive scan of the counts). Deterministic on both devices,
// bitwise identical at any CPU thread count; no atomics.
// Inputs must be finite: a NaN map's median and peaks are unspecified, and a window of
// only -inf differs from PRM's explicit -inf padding (its first in-map element wins here).
#pragma once

#include <cstdint>

#include "kernels/device.h"
#include "kernels/host_device.h"

namespace wise::kernels {

// How the per-map threshold is chosen.
enum class PeakThresholdMode : int { median = 0, fixed = 1, none = 2, fraction_of_max = 3 };

// The k-th smallest of values[0..n) (n > 0, 0 <= k < n); reorders values.
WISE_HD inline float select_kth_smallest(float* values, int64_t n, int64_t k) {
  int64_t low = 0, high = n;  // the answer's rank lies in [low, high)
  while (high - low > 1) {
    const float pivot = values[low + (high - low) / 2];
    // Partition [low, high) into < pivot [low, less), == pivot [less, i), > pivot [greater, high).
    int64_t less = low, i = low, greater = high;
    while (i < greater) {
      const float value = values[i];
      if (value < pivot) {
        values[i] = values[less];
        values[less] = value;
        ++less;
        ++i;
      } else if (pivot < value) {
        --greater;
        values[i] = values[greater];
        values[greater] = value;
      } else {
        ++i;  // equal (the pivot itself lands here, so every round shrinks the range)
      }
    }
    if (k < less) {
      high = less;
    } else if (k >= greater) {
      low = greater;
    } else {
      return pivot;
    }
  }
  return values[low];
}

// Whether (y, x) is the argmax of its window in plane (H, W), by torch's max-pool rule.
WISE_HD inline bool is_window_argmax(const float* plane, int64_t H, int64_t W, int64_t y,
                                     int64_t x, int64_t half_window) {
  const int64_t y_begin = max_of<int64_t>(y - half_window, 0);
  const int64_t x_begin = max_of<int64_t>(x - half_window, 0);
  const int64_t y_end = min_of(y + half_window + 1, H);
  const int64_t x_end = min_of(x + half_window + 1, W);
  float best = plane[y_begin * W + x_begin];
  int64_t best_index = y_begin * W + x_begin;
  for (int64_t row = y_begin; row < y_end; ++row) {
    for (int64_t column = x_begin; column < x_end; ++column) {
      const float value = plane[row * W + column];
      if (value > best || value != value) {
        best = value;
        best_index = row * W + column;
      }
    }
  }
  return best_index == y * W + x;
}

// thresholds[m] for each of `planes` maps of plane_size elements. `value` is the fixed
// threshold or the fraction of the maximum. `scratch` holds planes * plane_size floats
// (used by the median only).
void peak_thresholds(Device device, const float* maps, int64_t planes, int64_t plane_size,
                     PeakThresholdMode mode, float value, float* scratch, float* thresholds);

// peak_mask (planes, H, W) = 1 at the peaks of maps (planes, H, W), else 0.
void peak_find(Device device, const float* maps, const float* thresholds, int64_t planes,
               int64_t H, int64_t W, int window_size, uint8_t* peak_mask);

// counts[m] = number of peaks of map m; scores[m] = their mean (0 when none).
void peak_counts_and_scores(Device device, const float* maps, const uint8_t* peak_mask,
                            int64_t planes, int64_t plane_size, int64_t* counts, float* scores);

// Writes map m's peaks, row-major, as rows (n, c, y, x) of peaks (K, 4) and values (K),
// starting at row end_offsets[m] - counts[m] (end_offsets: inclusive scan of counts).
void peak_list(Device device, const float* maps, const uint8_t* peak_mask, const int64_t* counts,
               const int64_t* end_offsets, int64_t planes, int64_t C, int64_t H, int64_t W,
               int64_t* peaks, float* values);

// d_maps (planes, H, W) += peak_mask * d_scores[m] (/ counts[m] if divide_by_count).
void peak_stimulation_backward(Device device, const float* d_scores, const uint8_t* peak_mask,
                               const int64_t* counts, int64_t planes, int64_t plane_size,
                               bool divide_by_count, float* d_maps);

}  // namespace wise::kernels
