// reorder's CPU grain (kernels/reorder.h computes; this is how the CPU runs it): one
// element per image row (n, h) of the destination, which copies that row of every
// channel with two strided pointers. The flat-index element (reorder_element) divides
// its index into (n, c, h, w) for every float it moves, as a GPU thread must; here the
// divisions happen once per row, and a copy is exact: the same bits either way.
#pragma once

#include <cstdint>

#include "kernels/memory_format.h"

namespace wise::kernels::cpu {

void reorder_rows(const float* source, MemoryFormat source_format, float* destination,
                  MemoryFormat destination_format, int64_t N, int64_t C, int64_t H, int64_t W);

}  // namespace wise::kernels::cpu
