// Memory-format reorders (see reorder.h). One source for CPU and CUDA: the element is
// reorder.h's reorder_element; the CPU runs the same copy a row at a time
// (kernels/cpu/reorder_rows.cpp).
#include "kernels/reorder.h"

#include "kernels/cpu/reorder_rows.h"
#include "kernels/launch.h"

namespace wise::kernels {

int64_t physical_numel(MemoryFormat format, int64_t N, int64_t C, int64_t H, int64_t W) {
  return N * padded_channels(format, C) * H * W;
}

void reorder(Device device, const float* source, MemoryFormat source_format, float* destination,
             MemoryFormat destination_format, int64_t N, int64_t C, int64_t H, int64_t W) {
  if (device == Device::cuda) {
    const int64_t total = physical_numel(destination_format, N, C, H, W);
    parallel_for(device, total, [=] WISE_HD(int64_t index) {
      destination[index] = reorder_element(index, source, source_format, destination_format, C, H, W);
    });
    return;
  }
  cpu::reorder_rows(source, source_format, destination, destination_format, N, C, H, W);
}

}  // namespace wise::kernels
