// Resizing kernels (see resize.h). One source for CPU and CUDA.
#include "kernels/resize.h"

#include "kernels/launch.h"

namespace wise::kernels {

namespace {

// The weight input index i receives from taps (0 when it is neither tap).
WISE_HD inline float tap_weight(const BilinearTaps& taps, int64_t i) {
  return (taps.index0 == i ? taps.lambda0 : 0.0f) + (taps.index1 == i ? taps.lambda1 : 0.0f);
}

}  // namespace

void upsample_nearest2x_forward(Device device, const float* input, MemoryFormat input_format,
                                float* output, MemoryFormat output_format, int64_t N, int64_t C,
                                int64_t H, int64_t W) {
  const int64_t Ho = 2 * H, Wo = 2 * W;
  const int64_t padded = padded_channels(output_format, C);  // padding channels get zeros
  parallel_for(device, N * padded * Ho * Wo, [=] WISE_HD(int64_t index) {
    const Coordinates at = coordinates_of(index, padded, Ho, Wo);
    output[physical_offset(output_format, C, Ho, Wo, at.n, at.c, at.h, at.w)] =
        at.c < C ? input[physical_offset(input_format, C, H, W, at.n, at.c, at.h / 2, at.w / 2)]
                 : 0.0f;
  });
}

void upsample_nearest2x_backward(Device device, const float* d_output, MemoryFormat d_output_format,
                                 float* d_input, MemoryFormat d_input_format, int64_t N, int64_t C,
                                 int64_t H, int64_t W) {
  const int64_t Ho = 2 * H, Wo = 2 * W;
  parallel_for(device, N * C * H * W, [=] WISE_HD(int64_t index) {
    const Coordinates at = coordinates_of(index, C, H, W);
    float sum = 0.0f;  // from 0 and row-major, as torch's scatter adds them
    for (int64_t oh = 2 * at.h; oh < 2 * at.h + 2; ++oh) {
      for (int64_t ow = 2 * at.w; ow < 2 * at.w + 2; ++ow) {
        sum += d_output[physical_offset(d_output_format, C, Ho, Wo, at.n, at.c, oh, ow)];
      }
    }
    d_input[physical_offset(d_input_format, C, H, W, at.n, at.c, at.h, at.w)] += sum;
  });
}

void resize_bilinear_forward(Device device, const float* input, MemoryFormat input_format,
                             float* output, MemoryFormat output_format, int64_t N, int64_t C,
                             int64_t H, int64_t W, int64_t output_height, int64_t output_width,
                             bool align_corners) {
  const int64_t Ho = output_height, Wo = output_width;
  const float scale_h = bilinear_scale(H, Ho, align_corners);
  const float scale_w = bilinear_scale(W, Wo, align_corners);
  const int64_t padded = padded_channels(output_format, C);  // padding channels get zeros
  parallel_for(device, N * padded * Ho * Wo, [=] WISE_HD(int64_t index) {
    const Coordinates at = coordinates_of(index, padded, Ho, Wo);
    float* out = output + physical_offset(output_format, C, Ho, Wo, at.n, at.c, at.h, at.w);
    if (at.c >= C) {
      *out = 0.0f;
      return;
    }
    const BilinearTaps th = bilinear_taps(at.h, scale_h, H, align_corners);
    const BilinearTaps tw = bilinear_taps(at.w, scale_w, W, align_corners);
    auto value = [&](int64_t h, int64_t w) {
      return input[physical_offset(input_format, C, H, W, at.n, at.c, h, w)];
    };
    const float row0 =
        tw.lambda0 * value(th.index0, tw.index0) + tw.lambda1 * value(th.index0, tw.index1);
    const float row1 =
        tw.lambda0 * value(th.index1, tw.index0) + tw.lambda1 * value(th.index1, tw.index1);
    *out = th.lambda0 * row0 + th.lambda1 * row1;
  });
}

void resize_bilinear_backward(Device device, const float* d_output, MemoryFormat d_output_format,
                              float* d_input, MemoryFormat d_input_format, int64_t N, int64_t C,
                              int64_t H, int64_t W, int64_t output_height, int64_t output_width,
                              bool align_corners) {
  const int64_t Ho = output_height, Wo = output_width;
  const float scale_h = bilinear_scale(H, Ho, align_corners);
  const float scale_w = bilinear_scale(W, Wo, align_corners);
  parallel_for(device, N * C * H * W, [=] WISE_HD(int64_t index) {
    const Coordinates at = coordinates_of(index, C, H, W);
    const IndexRange rows = bilinear_backward_range(at.h, H, Ho, align_corners);
    const IndexRange columns = bilinear_backward_range(at.w, W, Wo, align_corners);
    float sum = 0.0f;
    for (int64_t oh = rows.begin; oh < rows.end; ++oh) {
      const BilinearTaps th = bilinear_taps(oh, scale_h, H, align_corners);
      if (th.index0 != at.h && th.index1 != at.h) continue;
      const float weight_h = tap_weight(th, at.h);
      for (int64_t ow = columns.begin; ow < columns.end; ++ow) {
        const BilinearTaps tw = bilinear_taps(ow, scale_w, W, align_corners);
        if (tw.index0 != at.w && tw.index1 != at.w) continue;
        sum += weight_h * tap_weight(tw, at.w) *
               d_output[physical_offset(d_output_format, C, Ho, Wo, at.n, at.c, oh, ow)];
      }
    }
    d_input[physical_offset(d_input_format, C, H, W, at.n, at.c, at.h, at.w)] += sum;
  });
}

}  // namespace wise::kernels
