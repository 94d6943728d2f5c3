// Row softmax, forward only: the box classifier's class probabilities at inference
// (torchvision's postprocess_detections: F.softmax(class_logits, -1)).
//
//   p[n, c] = exp(x[n, c] - max_c x[n, .]) / sum_c' exp(x[n, c'] - max)
//
// The statistics are kernels/losses.h's row_softmax_statistics (float exponentials, a
// double sum), the same numbers softmax cross entropy uses. One element per row (it
// writes its row's C values): a map, deterministic. A NaN logit makes its row NaN.
#pragma once

#include <cstdint>

#include "kernels/device.h"

namespace wise::kernels {

// logits (N, C), C >= 1 -> probabilities (N, C); may alias.
void softmax_rows(Device device, const float* logits, int64_t N, int64_t C, float* probabilities);

}  // namespace wise::kernels
