// Nearest resizing to a size (see resize_nearest.h). One source for CPU and CUDA.
#include "kernels/resize_nearest.h"

#include "kernels/launch.h"

namespace wise::kernels {

namespace {

// Both operands in the same blocked format (FPN's top-down path on the CPU): one
// element per (n, channel block, output row) copies whole kBlock-channel pixels, which
// are contiguous (one vector move on an AVX-512 CPU). Same map, same values as the
// generic element; padding channels are copied, and they are zeros in a blocked input.
template <int64_t kBlock>
void resize_nearest_forward_blocked(Device device, const float* input, float* output, int64_t N,
                                    int64_t C, int64_t H, int64_t W, int64_t Ho, int64_t Wo) {
  const float scale_h = nearest_scale(H, Ho), scale_w = nearest_scale(W, Wo);
  const int64_t blocks = ceil_div(C, kBlock);
  parallel_for(
      device, N * blocks * Ho,
      [=] WISE_HD(int64_t index) {
        const int64_t oh = index % Ho, plane = index / Ho;  // plane = n * blocks + block
        const float* in = input + (plane * H + nearest_source_index(oh, scale_h, H)) * W * kBlock;
        float* out = output + (plane * Ho + oh) * Wo * kBlock;
        for (int64_t ow = 0; ow < Wo; ++ow) {
          const float* from = in + nearest_source_index(ow, scale_w, W) * kBlock;
          for (int64_t lane = 0; lane < kBlock; ++lane) out[ow * kBlock + lane] = from[lane];
        }
      },
      Wo * kBlock);
}

// The backward's gather in the same blocked format: one element per (n, channel
// block, input row) sums, for every input pixel of the row, its output pixels in the
// generic element's order, kBlock channels at once.
template <int64_t kBlock>
void resize_nearest_backward_blocked(Device device, const float* d_output, float* d_input, int64_t N,
                                     int64_t C, int64_t H, int64_t W, int64_t Ho, int64_t Wo) {
  const float scale_h = nearest_scale(H, Ho), scale_w = nearest_scale(W, Wo);
  const int64_t blocks = ceil_div(C, kBlock);
  parallel_for(
      device, N * blocks * H,
      [=] WISE_HD(int64_t index) {
        const int64_t h = index % H, plane = index / H;
        const NearestRange rows = nearest_backward_range(h, H, Ho);
        float* d_in = d_input + (plane * H + h) * W * kBlock;
        for (int64_t w = 0; w < W; ++w) {
          const NearestRange columns = nearest_backward_range(w, W, Wo);
          float sum[kBlock];
          for (int64_t lane = 0; lane < kBlock; ++lane) sum[lane] = 0.0f;
          for (int64_t oh = rows.begin; oh < rows.end; ++oh) {
            if (nearest_source_index(oh, scale_h, H) != h) continue;
            const float* d_out = d_output + (plane * Ho + oh) * Wo * kBlock;
            for (int64_t ow = columns.begin; ow < columns.end; ++ow) {
              if (nearest_source_index(ow, scale_w, W) != w) continue;
              for (int64_t lane = 0; lane < kBlock; ++lane) sum[lane] += d_out[ow * kBlock + lane];
            }
          }
          // Only real channels: d_input's padding channels stay untouched.
          const int64_t real = min_of(kBlock, C - (plane % blocks) * kBlock);
          for (int64_t lane = 0; lane < real; ++lane) d_in[w * kBlock + lane] += sum[lane];
        }
      },
      W * kBlock * 4);
}

}  // namespace

void resize_nearest_forward(Device device, const float* input, MemoryFormat input_format,
                            float* output, MemoryFormat output_format, int64_t N, int64_t C,
                            int64_t H, int64_t W, int64_t output_height, int64_t output_width) {
  const int64_t Ho = output_height, Wo = output_width;
  if (input_format == output_format && input_format == MemoryFormat::nchw16c)
    return resize_nearest_forward_blocked<16>(device, input, output, N, C, H, W, Ho, Wo);
  if (input_format == output_format && input_format == MemoryFormat::nchw8c)
    return resize_nearest_forward_blocked<8>(device, input, output, N, C, H, W, Ho, Wo);
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
  if (d_output_format == d_input_format && d_input_format == MemoryFormat::nchw16c)
    return resize_nearest_backward_blocked<16>(device, d_output, d_input, N, C, H, W, Ho, Wo);
  if (d_output_format == d_input_format && d_input_format == MemoryFormat::nchw8c)
    return resize_nearest_backward_blocked<8>(device, d_output, d_input, N, C, H, W, Ho, Wo);
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
