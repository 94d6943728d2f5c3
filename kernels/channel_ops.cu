// Per-channel bias kernels (see channel_ops.h). One source for CPU and CUDA.
#include "kernels/channel_ops.h"

#include "kernels/launch.h"

namespace wise::kernels {

void add_channel_bias(Device device, const float* bias, MemoryFormat format, int64_t N, int64_t C,
                      int64_t H, int64_t W, float* y) {
  // Over rows (n, c, h) of one channel: each writes its own W pixels, a pixel_stride
  // apart. (An index per element spent its time in the divisions of coordinates_of:
  // 0.4 s per call on the mask head's deconvolution output, 100 x 256 x 28 x 28.)
  const int64_t stride = pixel_stride(format, C);
  parallel_for(device, N * C * H, [=] WISE_HD(int64_t row) {
    const int64_t h = row % H, c = (row / H) % C, n = row / (H * C);
    float* pixel = y + physical_offset(format, C, H, W, n, c, h, 0);
    const float value = bias[c];
    for (int64_t w = 0; w < W; ++w) pixel[w * stride] += value;
  }, W);
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
