// Memory formats: how a 4-d activation (N, C, H, W) is laid out in memory.
//
// The API, files and fixtures always speak NCHW (`plain`: row-major, which is
// NCHW for 4-d tensors and ordinary row-major for any other rank). Convolution
// libraries prefer other layouts: oneDNN picks NHWC or channel-blocked formats
// (nChw16c with AVX-512, nChw8c with AVX2), where channels are split into blocks
// of 16 (or 8) stored innermost. A tensor carries its format as a tag, so a chain
// of convolutions stays in the library's layout and reorders only at the ends.
//
// Blocked formats round C up to a multiple of the block; the padding channels
// must hold zeros (oneDNN reads them), and `reorder` writes zeros there.
#pragma once

#include <cstdint>

#include "kernels/host_device.h"

namespace wise::kernels {

enum class MemoryFormat : unsigned char { plain, nhwc, nchw8c, nchw16c };

inline const char* memory_format_name(MemoryFormat format) {
  switch (format) {
    case MemoryFormat::plain: return "plain";
    case MemoryFormat::nhwc: return "nhwc";
    case MemoryFormat::nchw8c: return "nChw8c";
    case MemoryFormat::nchw16c: return "nChw16c";
  }
  return "?";
}

// Channels per block: 1 for unblocked formats.
WISE_HD inline int64_t channel_block(MemoryFormat format) {
  return format == MemoryFormat::nchw16c ? 16 : format == MemoryFormat::nchw8c ? 8 : 1;
}

// Channels as stored, padding included.
WISE_HD inline int64_t padded_channels(MemoryFormat format, int64_t C) {
  const int64_t block = channel_block(format);
  return ceil_div(C, block) * block;
}

// Logical coordinates of flat index `index` over an (N, channels, H, W) grid in
// row-major order; `channels` may include a blocked format's padding channels.
struct Coordinates {
  int64_t n, c, h, w;
};

WISE_HD inline Coordinates coordinates_of(int64_t index, int64_t channels, int64_t H, int64_t W) {
  return {index / (W * H * channels), (index / (W * H)) % channels, (index / W) % H, index % W};
}

// Where logical element (n, c, h, w) of an (N, C, H, W) tensor lives.
WISE_HD inline int64_t physical_offset(MemoryFormat format, int64_t C, int64_t H, int64_t W,
                                       int64_t n, int64_t c, int64_t h, int64_t w) {
  switch (format) {
    case MemoryFormat::nhwc: return ((n * H + h) * W + w) * C + c;
    case MemoryFormat::nchw8c:
    case MemoryFormat::nchw16c: {
      const int64_t block = channel_block(format);
      const int64_t blocks = ceil_div(C, block);
      return (((n * blocks + c / block) * H + h) * W + w) * block + c % block;
    }
    case MemoryFormat::plain:
    default: return ((n * C + c) * H + h) * W + w;
  }
}

// The distance in the buffer between pixels (h, w) and (h, w + 1) of one channel,
// which is also that of the last pixel of a row and the first of the next: in every
// format, element (n, c, h, w) is at physical_offset(n, c, 0, 0) + (h W + w) stride.
// Loops over a channel's pixels use it instead of a physical_offset per element.
WISE_HD inline int64_t pixel_stride(MemoryFormat format, int64_t C) {
  return format == MemoryFormat::nhwc ? C : channel_block(format);
}

}  // namespace wise::kernels
