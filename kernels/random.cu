// Philox random fills (see random.h). One source for CPU and CUDA.
#include "kernels/random.h"

#include "kernels/launch.h"
#include "kernels/philox.h"

namespace wise::kernels {

void fill_uniform(Device device, float* y, int64_t n, uint64_t seed, uint64_t offset, float low,
                  float high) {
  const float range = high - low;
  parallel_for(device, n, [=] WISE_HD(int64_t i) {
    const float u = uniform_from_bits(philox_random(seed, offset + static_cast<uint64_t>(i)).x[0]);
    y[i] = fmaf(range, u, low);  // explicit fma: the same rounding on both targets
  });
}

void fill_normal(Device device, float* y, int64_t n, uint64_t seed, uint64_t offset, float mean,
                 float std) {
  parallel_for(device, n, [=] WISE_HD(int64_t i) {
    const float z = static_cast<float>(philox_normal(seed, offset + static_cast<uint64_t>(i)));
    y[i] = fmaf(std, z, mean);
  });
}

}  // namespace wise::kernels
