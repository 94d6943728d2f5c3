// Whole-buffer reductions: sum, mean, max.
//
// Deterministic by construction: the input is cut into fixed chunks of
// kReduceChunk elements (independent of the thread count and the device), each
// chunk is summed in order in double precision, then the chunk results are
// combined in order. The result is therefore bitwise the same at 1 or N CPU
// threads and on the GPU, which keeps training runs reproducible and lets tests
// compare the devices exactly. The result is written to device memory (`out`),
// so a reduction inside a training step needs no host synchronisation.
#pragma once

#include <cstdint>

#include "kernels/device.h"

namespace wise::kernels {

inline constexpr int64_t kReduceChunk = 4096;

// Doubles of scratch a reduction of n elements needs (one per chunk).
int64_t reduce_workspace_size(int64_t n);

// out[0] = sum of x[0..n) (0 when n == 0). NaN or Inf in x propagate.
void sum(Device device, const float* x, int64_t n, double* workspace, float* out);

// out[0] = sum / n; NaN when n == 0, as PyTorch's mean of an empty tensor.
void mean(Device device, const float* x, int64_t n, double* workspace, float* out);

// out[0] = largest element; NaN if any element is NaN (as torch.max). n must be > 0.
void max(Device device, const float* x, int64_t n, double* workspace, float* out);

}  // namespace wise::kernels
