// Deterministic sums of rows cut into fixed chunks: what batch norm (a row per
// channel), group norm (a row per (n, group) set) and the gradient norm (norms.h: one
// row) sum their statistics with.
//
// A row of row_size elements is cut into chunks of `chunk` elements, a constant of the
// caller's family (never the thread count or the device). One work item sums one chunk
// in order, in double, into partial[row * chunks + k]; row_chunk_total then adds one
// row's chunk results in chunk order. Every addition therefore happens in an order that
// the sizes alone fix, so the result is the same bits at 1 or N CPU threads and on the
// GPU. Both passes are gathers (one writer per output); no atomics.
#pragma once

#include <cstdint>

#include "kernels/launch.h"

namespace wise::kernels {

// partial[row * chunks + k] = chunk_sum(row, begin, end) for the k-th chunk [begin, end)
// of each row, chunks = ceil_div(row_size, chunk). chunk_sum (a WISE_HD functor) returns
// its range's sum, taken in order in double; it decides how an element is found (a
// strided run per image, a decoded offset), so the chunking is written once here.
template <class ChunkSum>
void row_chunk_sums(Device device, int64_t rows, int64_t row_size, int64_t chunk,
                    const ChunkSum& chunk_sum, double* partial) {
  const int64_t chunks = ceil_div(row_size, chunk);
  parallel_for(device, rows * chunks, [=] WISE_HD(int64_t item) {
    const int64_t row = item / chunks, k = item % chunks;
    partial[item] = chunk_sum(row, k * chunk, min_of((k + 1) * chunk, row_size));
  }, chunk);
}

// The in-order total of row `row`'s chunk results.
WISE_HD inline double row_chunk_total(const double* partial, int64_t chunks, int64_t row) {
  double total = 0.0;
  for (int64_t k = 0; k < chunks; ++k) total += partial[row * chunks + k];
  return total;
}

}  // namespace wise::kernels
