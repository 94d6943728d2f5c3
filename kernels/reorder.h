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
// source element, and padding channels of a blocked destination get zeros.
void reorder(Device device, const float* source, MemoryFormat source_format, float* destination,
             MemoryFormat destination_format, int64_t N, int64_t C, int64_t H, int64_t W);

}  // namespace wise::kernels
