// Nearest resizing to a size (see resize_nearest.h). One source for CPU and CUDA.
#include "kernels/resize_nearest.h"

#include "kernels/launch.h"

namespace wise::kernels {

void resize_nearest_forward(Device device, const float* input, MemoryFormat input_format,
                            float* output, MemoryFormat output_format, int64_t N, int64_t C,
                            int64_t H, int64_t W, int64_t output_height, int64_t output_width) {
  const int64_t Ho = output_height, Wo = output_width;
  const float scale_h = nearest_scale(H, Ho), scale_w = nearest_scale(W, Wo);
  const int64_t padded = padded_channels(output_format, C);  // padding channels get zeros
  parallel_for(device, N * padded * Ho * Wo, [=] WISE_HD(int64_t index) {
    const Coordinates at = coordinates_of(index, padded, Ho, Wo);
    const int64_t h = nearest_source_index(at.h, scale_h, H);
    const int64_t w = nearest_source_index(at.w, scale_w, W);
    output[physical_offset(output_format, C, Ho, Wo, at.n, at.c, at.h, at.w)] =
        at.c < C ? input[physical_offset(input_format, C, H, W, at.n, at.c, h, w)] : 0.0f;
  });
}

void resize_nearest_backward(Device device, const float* d_output, MemoryFormat d_output_format,
                             float* d_input, MemoryFormat d_input_format, int64_t N, int64_t C,
                             int64_t H, int64_t W, int64_t output_height, int64_t output_width) {
  const int64_t Ho = output_height, Wo = output_width;
  const float scale_h = nearest_scale(H, Ho), scale_w = nearest_scale(W, Wo);
  parallel_for(device, N * C * H * W, [=] WISE_HD(int64_t index) {
    const Coordinates at = coordinates_of(index, C, H, W);
    const NearestRange rows = nearest_backward_range(at.h, H, Ho);
    const NearestRange columns = nearest_backward_range(at.w, W, Wo);
    float sum = 0.0f;  // from 0 and row-major, as torch's scatter adds them
    for (int64_t oh = rows.begin; oh < rows.end; ++oh) {
      if (nearest_source_index(oh, scale_h, H) != at.h) continue;
      for (int64_t ow = columns.begin; ow < columns.end; ++ow) {
        if (nearest_source_index(ow, scale_w, W) != at.w) continue;
        sum += d_output[physical_offset(d_output_format, C, Ho, Wo, at.n, at.c, oh, ow)];
      }
    }
    d_input[physical_offset(d_input_format, C, H, W, at.n, at.c, at.h, at.w)] += sum;
  });
}

}  // namespace wise::kernels
