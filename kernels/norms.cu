// Deterministic chunked sum of squares (see norms.h). One source for CPU and CUDA.
#include "kernels/norms.h"

#include "kernels/chunk_sums.h"
#include "kernels/launch.h"
#include "kernels/reduce.h"

namespace wise::kernels {

int64_t sum_of_squares_workspace_size(int64_t n) { return reduce_workspace_size(n); }

void sum_of_squares(Device device, const float* x, int64_t n, double* workspace, double* out) {
  require_device(device, "sum_of_squares");
  // Pass 1: workspace[c] = sum of squares over chunk c, in order (one row of n).
  row_chunk_sums(
      device, 1, n, kReduceChunk,
      [=] WISE_HD(int64_t, int64_t begin, int64_t end) {
        double accumulator = 0.0;
        for (int64_t i = begin; i < end; ++i) {
          const double value = static_cast<double>(x[i]);
          // The square is exact in double, so nvcc's contraction into an fma changes
          // nothing: both devices round only the additions, in the same order.
          accumulator += value * value;
        }
        return accumulator;
      },
      workspace);
  // Pass 2: the chunk sums, in chunk order (one element: one writer).
  const int64_t chunks = ceil_div(n, kReduceChunk);
  parallel_for(device, 1, [=] WISE_HD(int64_t) { out[0] = row_chunk_total(workspace, chunks, 0); });
}

}  // namespace wise::kernels
