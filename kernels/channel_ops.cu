// Per-channel bias kernels (see channel_ops.h). One source for CPU and CUDA.
#include "kernels/channel_ops.h"

#include "kernels/launch.h"

namespace wise::kernels {

void add_channel_bias(Device device, const float* bias, MemoryFormat format, int64_t N, int64_t C,
                      int64_t H, int64_t W, float* y) {
  // Over logical elements: each writes its own physical address.
  parallel_for(device, N * C * H * W, [=] WISE_HD(int64_t index) {
    const Coordinates at = coordinates_of(index, C, H, W);
    y[physical_offset(format, C, H, W, at.n, at.c, at.h, at.w)] += bias[at.c];
  });
}

void sum_channels_accumulate(Device device, const float* d_y, MemoryFormat format, int64_t N, int64_t C,
                             int64_t H, int64_t W, float* d_bias) {
  parallel_for(device, C, [=] WISE_HD(int64_t c) {
    double total = 0.0;
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t h = 0; h < H; ++h) {
        for (int64_t w = 0; w < W; ++w) total += d_y[physical_offset(format, C, H, W, n, c, h, w)];
      }
    }
    d_bias[c] += static_cast<float>(total);
  }, N * H * W);
}

}  // namespace wise::kernels
