// Peak stimulation layer (PRM's PSL; WISE Sec. 3.1): the local maxima ("peaks") of each
// class response map, and the class score s^c = (1 / N^c) sum_k M^c[i_k, j_k], the mean of
// the peak values, which feeds multilabel_soft_margin (nn/losses.h) as the logit.
// Definitions, tie rule (torch's first-maximum max-pool rule), median threshold and the
// deterministic gather-style kernels: kernels/peak_stimulation.h.
//
// Tensors are plain float32 on one device; maps must be finite (no NaN or -inf).
// Gradients accumulate (d_maps += ...); d_maps must already exist with maps' shape.
#pragma once

#include "nn/tensor.h"

namespace wise {

// Which values may be peaks.
enum class PeakThreshold {
  median,  // >= the map's lower median (torch.median), PRM's training default
  fixed,   // >= threshold_value
  fraction_of_max,  // >= threshold_value x the map's maximum when that is positive, else the
                    // maximum: only a map's strong peaks make its score, so training does not
                    // raise the weak ones (off the objects) that the median lets in
  none,    // every local maximum (PRM's peak_filter=None)
};

// Which gradient the backward pass routes to the peaks.
enum class PeakGradient {
  prm,   // d_score at every peak, without the 1 / N (PRM's released backward)
  mean,  // d_score / N at every peak: the true gradient of the mean
};

struct PeakStimulationOptions {
  int window_size = 3;  // PRM's win_size: odd, >= 1
  PeakThreshold threshold = PeakThreshold::median;
  float threshold_value = 0.0f;  // PeakThreshold::fixed's value or fraction_of_max's fraction
  PeakGradient gradient = PeakGradient::prm;
};

// maps (N, C, H, W), H, W >= 1 ->
//   peaks       (K, 4) int64: rows (n, c, y, x) sorted by (n, c, y, x) (torch.nonzero order)
//   peak_values (K) float32: maps[n, c, y, x] of each row
//   scores      (N, C) float32: mean of each map's peak values (0 for a map with none,
//               which only a fixed threshold allows; PRM's code would give 0 / 0 = NaN)
//   peak_mask   (N, C, H, W) uint8: 1 at the peaks; saved for backward
//   peak_counts (N, C) int64: peaks per map; saved for backward
// K is data-dependent: on CUDA the call reads it back to the host (one synchronisation).
void peak_stimulation_forward(const Tensor& maps, const PeakStimulationOptions& options,
                              Tensor& peaks, Tensor& peak_values, Tensor& scores,
                              Tensor& peak_mask, Tensor& peak_counts);

// d_maps (N, C, H, W) += d_scores (N, C) at each map's peaks, divided by the map's count
// when options.gradient is PeakGradient::mean.
void peak_stimulation_backward(const Tensor& d_scores, const Tensor& peak_mask,
                               const Tensor& peak_counts, const PeakStimulationOptions& options,
                               Tensor& d_maps);

// PRM's inference-time CAM upsampling: F.interpolate(maps, scale_factor=factor,
// mode="bilinear", align_corners=True), through nn/resize.h. PRM uses factor 8.
void upsample_class_maps(const Tensor& maps, int factor, Tensor& output);

}  // namespace wise
