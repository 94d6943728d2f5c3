// Norms of float ranges: the sum of squares behind a gradient's L2 norm.
//
// sum_of_squares computes sum_i x[i]^2, the quantity under the square root of
// torch.nn.utils.clip_grad_norm_'s total norm (norm_type 2) taken over all
// trainable gradients at once (they are one contiguous range, see
// nn/parameter_buffer.h).
//
// Deterministic, with reduce.h's chunked pattern: the input is cut into fixed
// chunks of kReduceChunk elements (independent of the thread count and the
// device), each chunk is summed in order in double precision, then the chunk
// results are added in order. Each x[i]^2 of a float is exact in double (24 + 24
// significant bits), so the only roundings are the double additions, and the
// result is bitwise the same at 1 or N CPU threads and on the GPU. Both passes
// are gathers (one writer per output); no atomics. The result stays in device
// memory as a double, so a training step needs no host synchronisation for it.
// NaN or Inf in x propagate (a NaN gradient gives a NaN norm, as in torch).
#pragma once

#include <cstdint>

#include "kernels/device.h"

namespace wise::kernels {

// Doubles of scratch sum_of_squares over n elements needs (one per chunk, at least 1).
int64_t sum_of_squares_workspace_size(int64_t n);

// out[0] = sum of x[i]^2 over [0, n), in double (0 when n == 0). `out` and
// `workspace` are device memory holding doubles.
void sum_of_squares(Device device, const float* x, int64_t n, double* workspace, double* out);

}  // namespace wise::kernels
