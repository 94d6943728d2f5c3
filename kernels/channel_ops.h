// Per-channel bias add and its gradient over (N, C, H, W) activations in any
// memory format: the bias of convolutions that the backend does not fuse, and of
// a linear layer (H = W = 1).
#pragma once

#include <cstdint>

#include "kernels/device.h"
#include "kernels/memory_format.h"

namespace wise::kernels {

// y[n, c, h, w] += bias[c]; blocked padding channels stay untouched (zero).
void add_channel_bias(Device device, const float* bias, MemoryFormat format, int64_t N, int64_t C,
                      int64_t H, int64_t W, float* y);

// d_bias[c] += sum over n, h, w of d_y[n, c, h, w]. A gather per channel (one
// element per channel sums its N*H*W values in a fixed order, in double):
// deterministic on both devices and at any thread count.
void sum_channels_accumulate(Device device, const float* d_y, MemoryFormat format, int64_t N, int64_t C,
                             int64_t H, int64_t W, float* d_bias);

}  // namespace wise::kernels
