// Random fills from the counter-based Philox generator (kernels/philox.h).
//
// Element i of a fill takes stream position offset + i of `seed`. Values depend
// only on (seed, offset + i): identical at any CPU thread count and on the GPU.
// Callers advance `offset` by n after a fill to draw fresh numbers from the same
// seed (nn/random.h keeps that bookkeeping).
#pragma once

#include <cstdint>

#include "kernels/device.h"

namespace wise::kernels {

// y[i] ~ U[low, high)
void fill_uniform(Device device, float* y, int64_t n, uint64_t seed, uint64_t offset, float low,
                  float high);

// y[i] ~ N(mean, std^2)
void fill_normal(Device device, float* y, int64_t n, uint64_t seed, uint64_t offset, float mean,
                 float std);

}  // namespace wise::kernels
