// Per-channel bias add and its gradient, for plain (N, C, HW) buffers: the bias
// of a convolution on CUDA, and of a linear layer (HW = 1) on both devices.
#pragma once

#include <cstdint>

#include "kernels/device.h"

namespace wise::kernels {

// y[n, c, i] += bias[c]
void add_channel_bias(Device device, const float* bias, int64_t N, int64_t C, int64_t HW, float* y);

// d_bias[c] += sum over n, i of d_y[n, c, i]. A gather per channel (one
// element per channel sums its N*HW values in order, in double): deterministic.
void sum_channels_accumulate(Device device, const float* d_y, int64_t N, int64_t C, int64_t HW,
                             float* d_bias);

}  // namespace wise::kernels
