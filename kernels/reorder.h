// Reorder a 4-d float tensor between memory formats (see memory_format.h).
#pragma once

#include <cstdint>

#include "kernels/device.h"
#include "kernels/memory_format.h"

namespace wise::kernels {

// Elements a buffer of logical shape (N, C, H, W) occupies in `format`.
int64_t physical_numel(MemoryFormat format, int64_t N, int64_t C, int64_t H, int64_t W);

// destination (in destination_format) = source (in source_format), both on
// `device`. A gather over the destination: each destination element reads one
// source element, and padding channels of a blocked destination get zeros. CUDA runs
// reorder_element over the destination's flat index; the CPU copies whole rows
// (kernels/cpu/reorder_rows.h), the same bits.
void reorder(Device device, const float* source, MemoryFormat source_format, float* destination,
             MemoryFormat destination_format, int64_t N, int64_t C, int64_t H, int64_t W);

// Element `index` of the destination, in its own physical order: index -> (n, c, h, w),
// then the source element there (0 for a padding channel).
WISE_HD inline float reorder_element(int64_t index, const float* source, MemoryFormat source_format,
                                     MemoryFormat destination_format, int64_t C, int64_t H, int64_t W) {
  const int64_t Cp = padded_channels(destination_format, C);
  int64_t n, c, h, w;
  switch (destination_format) {
    case MemoryFormat::nhwc: {
      c = index % Cp;
      w = (index / Cp) % W;
      h = (index / (Cp * W)) % H;
      n = index / (Cp * W * H);
      break;
    }
    case MemoryFormat::nchw8c:
    case MemoryFormat::nchw16c: {
      const int64_t block = channel_block(destination_format);
      const int64_t inner = index % block;
      w = (index / block) % W;
      h = (index / (block * W)) % H;
      const int64_t outer = index / (block * W * H);  // n * blocks + c_block
      const int64_t blocks = Cp / block;
      n = outer / blocks;
      c = (outer % blocks) * block + inner;
      break;
    }
    case MemoryFormat::plain:
    default: {
      w = index % W;
      h = (index / W) % H;
      c = (index / (W * H)) % Cp;
      n = index / (W * H * Cp);
      break;
    }
  }
  return c < C ? source[physical_offset(source_format, C, H, W, n, c, h, w)] : 0.0f;
}

}  // namespace wise::kernels
