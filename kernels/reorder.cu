// Memory-format reorders (see reorder.h). One source for CPU and CUDA.
#include "kernels/reorder.h"

#include "kernels/launch.h"

namespace wise::kernels {

int64_t physical_numel(MemoryFormat format, int64_t N, int64_t C, int64_t H, int64_t W) {
  return N * padded_channels(format, C) * H * W;
}

void reorder(Device device, const float* source, MemoryFormat source_format, float* destination,
             MemoryFormat destination_format, int64_t N, int64_t C, int64_t H, int64_t W) {
  // Walk the destination in its own physical order: index -> (n, c, h, w).
  const int64_t Cp = padded_channels(destination_format, C);
  const int64_t total = N * Cp * H * W;
  parallel_for(device, total, [=] WISE_HD(int64_t index) {
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
    destination[index] =
        c < C ? source[physical_offset(source_format, C, H, W, n, c, h, w)] : 0.0f;
  });
}

}  // namespace wise::kernels
