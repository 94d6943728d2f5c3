// PRM's peak backpropagation (Zhou et al. 2018, Sec. 3.3): the layer-level pieces of a
// peak response map. The rule, its numerics and PRM's code it follows: kernels/peak_response.h.
//
//   conv2d_peak_response_backward   a convolution's backward under PRM's rule (positive
//                                   weights, normalised by the positive response of the
//                                   shifted input), in place of conv2d_backward
//   peak_response_map               an image gradient -> the peak response map: summed over
//                                   channels, clamped at 0, normalised
//
// A network applies the first at every convolution and the ordinary backward elsewhere
// (norms, ReLU, max-pool, residual adds, resizing): models/resnet.h's
// peak_response_backward, models/prm.h. Gradients accumulate (d_input += ...), wise's rule.
#pragma once

#include <cstdint>

#include "kernels/peak_response.h"
#include "nn/conv2d.h"
#include "nn/tensor.h"

namespace wise {

// d_input += x~ (.) W+^T r,  r = z < eps ? 0 : d_output / (|z| + eps),  z = W+ x~,
// x~ = input - min(input) per sample, W+ = max(weight, 0); the bias plays no part.
// input (N, C, H, W) any format, weight (K, C, R, S) plain, d_output (N, K, Ho, Wo) any
// format (the convolution's output shape), d_input the input's shape in any format. All
// float32 on one device. Costs one forward and one input-gradient convolution.
void conv2d_peak_response_backward(const Tensor& input, const Tensor& weight, const Tensor& d_output,
                                   const Conv2dOptions& options, Tensor& d_input,
                                   float eps = kernels::kPeakResponseEps);

// How a peak response map is scaled.
enum class PeakResponseNormalization {
  sum,   // map / sum(map): PRM's released code (prm / prm.sum()), a distribution over pixels
  max,   // map / max(map): values in [0, 1]
  none,  // the clamped channel sum as it is
};

const char* peak_response_normalization_name(PeakResponseNormalization normalization);

// d_images (N, C, H, W) any format -> map (H, W) plain, on d_images' device:
//   map = normalise(max(sum_c d_images[sample, c], 0));
// an all-zero map stays zero (PRM's 0 / 0 would be NaN). `map` is (re)allocated.
void peak_response_map(const Tensor& d_images, int64_t sample, PeakResponseNormalization normalization,
                       Tensor& map);

}  // namespace wise
