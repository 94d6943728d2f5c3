// Deterministic chunked sum of squares (see norms.h). One source for CPU and CUDA.
#include "kernels/norms.h"

#include "kernels/launch.h"
#include "kernels/reduce.h"

namespace wise::kernels {

int64_t sum_of_squares_workspace_size(int64_t n) { return reduce_workspace_size(n); }

void sum_of_squares(Device device, const float* x, int64_t n, double* workspace, double* out) {
  require_device(device, "sum_of_squares");
  // Pass 1: workspace[c] = sum of squares over chunk c, in order.
  const int64_t chunks = ceil_div(n, kReduceChunk);
  parallel_for(device, chunks, [=] WISE_HD(int64_t c) {
    const int64_t begin = c * kReduceChunk;
    const int64_t end = min_of(begin + kReduceChunk, n);
    double accumulator = 0.0;
    for (int64_t i = begin; i < end; ++i) {
      const double value = static_cast<double>(x[i]);
      // The square is exact in double, so nvcc's contraction into an fma changes
      // nothing: both devices round only the additions, in the same order.
      accumulator += value * value;
    }
    workspace[c] = accumulator;
  }, kReduceChunk);
  // Pass 2: the chunk sums, in chunk order (one element: one writer).
  parallel_for(device, 1, [=] WISE_HD(int64_t) {
    double accumulator = 0.0;
    for (int64_t c = 0; c < chunks; ++c) accumulator += workspace[c];
    out[0] = accumulator;
  });
}

}  // namespace wise::kernels
