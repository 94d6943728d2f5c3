// Pooling kernels (see pooling.h). One source for CPU and CUDA.
#include "kernels/pooling.h"

#include <cmath>

#include "kernels/launch.h"

namespace wise::kernels {

namespace {

// Max pooling of a blocked (nChw8c / nChw16c) input into the same format: one element
// per (n, channel block, output pixel) takes the window's maximum of all kBlock
// channels at once (they are contiguous, so the lane loop is one vector operation on an
// AVX-512 CPU). Same rule, same results as the generic element below; padding channels
// get zeros.
template <int64_t kBlock>
void max_pool2d_forward_blocked(Device device, const MaxPool2dGeometry& g, const float* input,
                                float* output, int32_t* argmax) {
  const int64_t Ho = g.output_height, Wo = g.output_width;
  const int64_t blocks = ceil_div(g.C, kBlock);
  parallel_for(
      device, g.N * blocks * Ho * Wo,
      [=] WISE_HD(int64_t index) {
        const int64_t ow = index % Wo, oh = (index / Wo) % Ho, cb = (index / (Wo * Ho)) % blocks;
        const int64_t n = index / (Wo * Ho * blocks);
        const float* in = input + (n * blocks + cb) * g.H * g.W * kBlock;
        const int64_t h_start = oh * g.stride - g.padding, w_start = ow * g.stride - g.padding;
        const int64_t h_begin = max_of<int64_t>(h_start, 0);
        const int64_t w_begin = max_of<int64_t>(w_start, 0);
        const int64_t h_end = min_of(h_start + g.kernel_size, g.H);
        const int64_t w_end = min_of(w_start + g.kernel_size, g.W);
        float best[kBlock];
        int32_t best_index[kBlock];
        for (int64_t lane = 0; lane < kBlock; ++lane) {
          best[lane] = -HUGE_VALF;
          best_index[lane] = static_cast<int32_t>(h_begin * g.W + w_begin);
        }
        for (int64_t h = h_begin; h < h_end; ++h) {
          for (int64_t w = w_begin; w < w_end; ++w) {
            const float* values = in + (h * g.W + w) * kBlock;
            const int32_t at = static_cast<int32_t>(h * g.W + w);
            for (int64_t lane = 0; lane < kBlock; ++lane) {
              // torch's rule: strictly greater (first of ties wins) or NaN (NaN wins, last one).
              const bool take = values[lane] > best[lane] || values[lane] != values[lane];
              best[lane] = take ? values[lane] : best[lane];
              best_index[lane] = take ? at : best_index[lane];
            }
          }
        }
        float* out = output + (((n * blocks + cb) * Ho + oh) * Wo + ow) * kBlock;
        for (int64_t lane = 0; lane < kBlock; ++lane) {
          const int64_t c = cb * kBlock + lane;
          out[lane] = c < g.C ? best[lane] : 0.0f;
          if (c < g.C) argmax[((n * g.C + c) * Ho + oh) * Wo + ow] = best_index[lane];
        }
      },
      kBlock * g.kernel_size * g.kernel_size);
}

// The backward's gather in a blocked format (d_output and d_input alike): one element
// per (n, channel block, input row) sums, for each input pixel and all kBlock channels
// at once, the d_output of the windows whose argmax is that pixel, in the generic
// element's (oh, ow) order. d_input's padding channels are not touched.
template <int64_t kBlock>
void max_pool2d_backward_blocked(Device device, const MaxPool2dGeometry& g, const float* d_output,
                                 const int32_t* argmax, float* d_input) {
  const int64_t Ho = g.output_height, Wo = g.output_width;
  const int64_t blocks = ceil_div(g.C, kBlock);
  parallel_for(
      device, g.N * blocks * g.H,
      [=] WISE_HD(int64_t index) {
        const int64_t h = index % g.H, cb = (index / g.H) % blocks, n = index / (g.H * blocks);
        const int64_t real = min_of(kBlock, g.C - cb * kBlock);
        const int64_t h_reach = h + g.padding;
        const int64_t oh_begin = h_reach < g.kernel_size ? 0 : (h_reach - g.kernel_size) / g.stride + 1;
        const int64_t oh_end = min_of(h_reach / g.stride + 1, Ho);
        const float* d_out = d_output + (n * blocks + cb) * Ho * Wo * kBlock;
        const int32_t* plane_argmax = argmax + (n * g.C + cb * kBlock) * Ho * Wo;
        float* d_in = d_input + ((n * blocks + cb) * g.H + h) * g.W * kBlock;
        for (int64_t w = 0; w < g.W; ++w) {
          const int64_t w_reach = w + g.padding;
          const int64_t ow_begin = w_reach < g.kernel_size ? 0 : (w_reach - g.kernel_size) / g.stride + 1;
          const int64_t ow_end = min_of(w_reach / g.stride + 1, Wo);
          const int32_t target = static_cast<int32_t>(h * g.W + w);
          float sum[kBlock];
          for (int64_t lane = 0; lane < kBlock; ++lane) sum[lane] = 0.0f;
          for (int64_t oh = oh_begin; oh < oh_end; ++oh) {
            for (int64_t ow = ow_begin; ow < ow_end; ++ow) {
              const int64_t at = oh * Wo + ow;
              for (int64_t lane = 0; lane < real; ++lane) {
                if (plane_argmax[lane * Ho * Wo + at] == target) sum[lane] += d_out[at * kBlock + lane];
              }
            }
          }
          for (int64_t lane = 0; lane < real; ++lane) d_in[w * kBlock + lane] += sum[lane];
        }
      },
      g.W * kBlock * 4);
}

}  // namespace

void max_pool2d_forward(Device device, const MaxPool2dGeometry& geometry, const float* input,
                        MemoryFormat input_format, float* output, MemoryFormat output_format,
                        int32_t* argmax) {
  if (input_format == output_format && input_format == MemoryFormat::nchw16c)
    return max_pool2d_forward_blocked<16>(device, geometry, input, output, argmax);
  if (input_format == output_format && input_format == MemoryFormat::nchw8c)
    return max_pool2d_forward_blocked<8>(device, geometry, input, output, argmax);
  const MaxPool2dGeometry g = geometry;  // by value into the element
  const int64_t Ho = g.output_height, Wo = g.output_width;
  // Walk the output's padded channels too, so a blocked output's padding gets zeros.
  const int64_t padded = padded_channels(output_format, g.C);
  parallel_for(device, g.N * padded * Ho * Wo, [=] WISE_HD(int64_t index) {
    const Coordinates at = coordinates_of(index, padded, Ho, Wo);
    float* out = output + physical_offset(output_format, g.C, Ho, Wo, at.n, at.c, at.h, at.w);
    if (at.c >= g.C) {
      *out = 0.0f;
      return;
    }
    // The window clipped to the input; padding <= kernel_size / 2 keeps it non-empty.
    const int64_t h_start = at.h * g.stride - g.padding, w_start = at.w * g.stride - g.padding;
    const int64_t h_begin = max_of<int64_t>(h_start, 0);
    const int64_t w_begin = max_of<int64_t>(w_start, 0);
    const int64_t h_end = min_of(h_start + g.kernel_size, g.H);
    const int64_t w_end = min_of(w_start + g.kernel_size, g.W);
    float best = -HUGE_VALF;
    int64_t best_index = h_begin * g.W + w_begin;
    for (int64_t h = h_begin; h < h_end; ++h) {
      for (int64_t w = w_begin; w < w_end; ++w) {
        const float value = input[physical_offset(input_format, g.C, g.H, g.W, at.n, at.c, h, w)];
        // torch's rule: strictly greater (first of ties wins) or NaN (NaN wins, last one).
        if (value > best || value != value) {
          best = value;
          best_index = h * g.W + w;
        }
      }
    }
    *out = best;
    argmax[((at.n * g.C + at.c) * Ho + at.h) * Wo + at.w] = static_cast<int32_t>(best_index);
  });
}

void max_pool2d_backward(Device device, const MaxPool2dGeometry& geometry, const float* d_output,
                         MemoryFormat d_output_format, const int32_t* argmax, float* d_input,
                         MemoryFormat d_input_format) {
  if (d_output_format == d_input_format && d_input_format == MemoryFormat::nchw16c)
    return max_pool2d_backward_blocked<16>(device, geometry, d_output, argmax, d_input);
  if (d_output_format == d_input_format && d_input_format == MemoryFormat::nchw8c)
    return max_pool2d_backward_blocked<8>(device, geometry, d_output, argmax, d_input);
  const MaxPool2dGeometry g = geometry;
  const int64_t Ho = g.output_height, Wo = g.output_width;
  // One element per real input element: padding channels of d_input are not touched.
  parallel_for(device, g.N * g.C * g.H * g.W, [=] WISE_HD(int64_t index) {
    const Coordinates at = coordinates_of(index, g.C, g.H, g.W);
    // Windows oh with oh*stride - padding <= h < oh*stride - padding + kernel_size.
    const int64_t h_reach = at.h + g.padding, w_reach = at.w + g.padding;
    const int64_t oh_begin = h_reach < g.kernel_size ? 0 : (h_reach - g.kernel_size) / g.stride + 1;
    const int64_t ow_begin = w_reach < g.kernel_size ? 0 : (w_reach - g.kernel_size) / g.stride + 1;
    const int64_t oh_end = min_of(h_reach / g.stride + 1, Ho);
    const int64_t ow_end = min_of(w_reach / g.stride + 1, Wo);
    const int32_t target = static_cast<int32_t>(at.h * g.W + at.w);
    const int32_t* plane_argmax = argmax + (at.n * g.C + at.c) * Ho * Wo;
    float sum = 0.0f;
    for (int64_t oh = oh_begin; oh < oh_end; ++oh) {
      for (int64_t ow = ow_begin; ow < ow_end; ++ow) {
        if (plane_argmax[oh * Wo + ow] != target) continue;
        sum += d_output[physical_offset(d_output_format, g.C, Ho, Wo, at.n, at.c, oh, ow)];
      }
    }
    d_input[physical_offset(d_input_format, g.C, g.H, g.W, at.n, at.c, at.h, at.w)] += sum;
  });
}

void global_average_pool_forward(Device device, const float* input, MemoryFormat input_format,
                                 float* output, int64_t N, int64_t C, int64_t H, int64_t W) {
  const double count = static_cast<double>(H * W);
  parallel_for(device, N * C, [=] WISE_HD(int64_t plane) {
    const int64_t n = plane / C, c = plane % C;
    double sum = 0.0;
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t w = 0; w < W; ++w) {
        sum += input[physical_offset(input_format, C, H, W, n, c, h, w)];
      }
    }
    output[plane] = static_cast<float>(sum / count);
  }, H * W);
}

void global_average_pool_backward(Device device, const float* d_output, float* d_input,
                                  MemoryFormat d_input_format, int64_t N, int64_t C, int64_t H,
                                  int64_t W) {
  // One division by H W (torch divides by H, then by W: at most an ulp apart).
  const float count = static_cast<float>(H * W);
  parallel_for(device, N * C * H * W, [=] WISE_HD(int64_t index) {
    const Coordinates at = coordinates_of(index, C, H, W);
    d_input[physical_offset(d_input_format, C, H, W, at.n, at.c, at.h, at.w)] +=
        d_output[at.n * C + at.c] / count;
  });
}

}  // namespace wise::kernels
