// reorder's CPU grain (see reorder_rows.h).
#include "kernels/cpu/reorder_rows.h"

#include <cstring>

#include "kernels/cpu/parallel_for.h"

namespace wise::kernels::cpu {

void reorder_rows(const float* source, MemoryFormat source_format, float* destination,
                  MemoryFormat destination_format, int64_t N, int64_t C, int64_t H, int64_t W) {
  const int64_t Cp = padded_channels(destination_format, C);
  // memory_format.h: pixel (h, w) of a channel is at its (h, 0) plus w pixel strides.
  const int64_t from_stride = pixel_stride(source_format, C), to_stride = pixel_stride(destination_format, C);
  parallel_for(
      N * H,
      [=](int64_t row) {
        const int64_t n = row / H, h = row % H;
        for (int64_t c = 0; c < Cp; ++c) {
          float* to = destination + physical_offset(destination_format, C, H, W, n, c, h, 0);
          if (c >= C) {  // a blocked destination's padding channels hold zeros
            for (int64_t w = 0; w < W; ++w) to[w * to_stride] = 0.0f;
            continue;
          }
          const float* from = source + physical_offset(source_format, C, H, W, n, c, h, 0);
          if (from_stride == 1 && to_stride == 1) {
            std::memcpy(to, from, static_cast<size_t>(W) * sizeof(float));
          } else {
            for (int64_t w = 0; w < W; ++w) to[w * to_stride] = from[w * from_stride];
          }
        }
      },
      Cp * W);
}

}  // namespace wise::kernels::cpu
