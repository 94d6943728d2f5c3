// Per-channel bias kernels (see channel_ops.h). One source for CPU and CUDA.
#include "kernels/channel_ops.h"

#include "kernels/launch.h"

namespace wise::kernels {

void add_channel_bias(Device device, const float* bias, int64_t N, int64_t C, int64_t HW, float* y) {
  parallel_for(device, N * C * HW, [=] WISE_HD(int64_t index) { y[index] += bias[(index / HW) % C]; });
}

void sum_channels_accumulate(Device device, const float* d_y, int64_t N, int64_t C, int64_t HW,
                             float* d_bias) {
  parallel_for(device, C, [=] WISE_HD(int64_t c) {
    double total = 0.0;
    for (int64_t n = 0; n < N; ++n) {
      const float* plane = d_y + (n * C + c) * HW;
      for (int64_t i = 0; i < HW; ++i) total += plane[i];
    }
    d_bias[c] += static_cast<float>(total);
  });
}

}  // namespace wise::kernels
