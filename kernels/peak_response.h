// Peak backpropagation kernels: PRM's peak response maps (Zhou et al., "Weakly Supervised
// Instance Segmentation using Class Peak Response", CVPR 2018, Sec. 3.3 "Peak
// backpropagation"; released code ZhouYanzhao/PRM, pr_conv2d), used by WISE to localise
// each CAM peak's instance.
//
// PRM replaces every convolution's backward y = W x (+ b) by a top-down "probabilistic
// Winner-Take-All" pass through its positive weights only, normalised by the positive
// response of the input shifted to be non-negative:
//
//   x~   = x - min(x)                       (the shift: min over the sample, detached)
//   z    = W+ x~,  W+ = max(W, 0)           (no bias; a convolution with the clamped weight)
//   r    = z < eps ? 0 : g / (|z| + eps)    (the normalisation, eps = 1e-10 as PRM)
//   g_in = x~ (.) W+^T r                    (W+^T: the convolution's input gradient)
//
// The two convolutions run through conv2d (oneDNN / cuDNN); W+ is relu_forward of W and the
// final product multiply_accumulate (kernels/elementwise.h). What is new arithmetic lives
// here: the shift by the per-sample minimum, the normalisation r, and the reduction of an
// image gradient to its peak response map,
//
//   map[p] = max(sum_c d_images[n, c, p], 0),  then map /= sum(map) (PRM) or max(map).
//
// min over the sample: PRM subtracts the minimum of the whole input tensor, at batch 1 (its
// inference batch); per sample is the same there and keeps each image's map independent of
// its batch-mates. Minima are exact (no rounding) and found in fixed chunks, so every
// kernel here is deterministic and bitwise identical on both devices and at any thread
// count. All are gathers (one element writes one output). Inputs must be finite: a NaN
// propagates into the minimum (as torch.min) and from there everywhere.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/device.h"
#include "kernels/host_device.h"

namespace wise::kernels {

inline constexpr int64_t kPeakResponseMinChunk = 4096;
inline constexpr float kPeakResponseEps = 1e-10f;  // PRM's PostHook eps

// NaN-propagating minimum of two floats (torch.min's rule).
WISE_HD inline float peak_response_min(float a, float b) {
  if (a != a || b != b) return a + b;  // NaN
  return b < a ? b : a;
}

// The minimum of x[begin, end) (end > begin).
WISE_HD inline float peak_response_range_min(const float* x, int64_t begin, int64_t end) {
  float minimum = x[begin];
  for (int64_t i = begin + 1; i < end; ++i) minimum = peak_response_min(minimum, x[i]);
  return minimum;
}

// r = z < eps ? 0 : g / (|z| + eps): PRM's PostHook. z >= 0 in exact arithmetic (W+ and x~
// are non-negative); the fabsf and the mask are kept as PRM writes them.
WISE_HD inline float peak_response_normalize_element(float g, float z, float eps) {
  return z < eps ? 0.0f : g / (fabsf(z) + eps);
}

// max(sum_c d[c HW + p], 0), the channel sum in channel order (float, as torch's sum(1) of
// a 3-channel image accumulates), clamped (`< 0` so that NaN passes through).
WISE_HD inline float peak_response_channel_sum_element(const float* d, int64_t C, int64_t HW,
                                                       int64_t p) {
  float total = 0.0f;
  for (int64_t c = 0; c < C; ++c) total += d[c * HW + p];
  return total < 0.0f ? 0.0f : total;
}

// Floats of scratch peak_response_shift needs for N samples of M elements.
int64_t peak_response_shift_workspace_size(int64_t N, int64_t M);

// out[n M + i] = x[n M + i] - min_i x[n M + i], for N samples of M elements (M > 0).
// `out` may be `x`.
void peak_response_shift(Device device, const float* x, int64_t N, int64_t M, float* workspace,
                         float* out);

// out[i] = peak_response_normalize_element(d_output[i], z[i], eps), n elements.
void peak_response_normalize(Device device, const float* d_output, const float* z, float eps,
                             float* out, int64_t n);

// map[p] = max(sum_c d_sample[c HW + p], 0) for p < HW; d_sample is one sample (C, HW) plain.
void peak_response_channel_sum(Device device, const float* d_sample, int64_t C, int64_t HW,
                               float* map);

// map[i] = denominator[0] > 0 ? map[i] / denominator[0] : 0 (denominator on the device: a
// sum or max written by kernels/reduce.h, so no host synchronisation). PRM divides by the
// sum unconditionally (0 / 0 = NaN for an all-zero map); ours gives 0 there.
void peak_response_divide(Device device, float* map, int64_t n, const float* denominator);

}  // namespace wise::kernels
