// Deterministic chunked reductions (see reduce.h). One source for CPU and CUDA.
#include "kernels/reduce.h"

#include <cmath>

#include "kernels/check.h"
#include "kernels/launch.h"

namespace wise::kernels {

int64_t reduce_workspace_size(int64_t n) { return max_of<int64_t>(ceil_div(n, kReduceChunk), 1); }

namespace {

// Pass 1: workspace[c] = op over chunk c; pass 2: out[0] = op over the chunk
// results, in chunk order. `op` combines a double accumulator and a value.
template <class Op>
void chunked_reduce(Device device, const float* x, int64_t n, double identity, Op op,
                    double* workspace, float* out, double divide_by) {
  const int64_t chunks = ceil_div(n, kReduceChunk);
  parallel_for(device, chunks, [=] WISE_HD(int64_t c) {
    const int64_t begin = c * kReduceChunk;
    const int64_t end = min_of(begin + kReduceChunk, n);
    double accumulator = identity;
    for (int64_t i = begin; i < end; ++i) accumulator = op(accumulator, static_cast<double>(x[i]));
    workspace[c] = accumulator;
  }, kReduceChunk);
  parallel_for(device, 1, [=] WISE_HD(int64_t) {
    double accumulator = identity;
    for (int64_t c = 0; c < chunks; ++c) accumulator = op(accumulator, workspace[c]);
    out[0] = static_cast<float>(accumulator / divide_by);
  });
}

struct Add {
  WISE_HD double operator()(double accumulator, double value) const { return accumulator + value; }
};

// NaN-propagating maximum: once the accumulator is NaN it stays NaN.
struct Max {
  WISE_HD double operator()(double accumulator, double value) const {
    if (accumulator != accumulator || value != value) return accumulator + value;  // NaN
    return value > accumulator ? value : accumulator;
  }
};

}  // namespace

void sum(Device device, const float* x, int64_t n, double* workspace, float* out) {
  chunked_reduce(device, x, n, 0.0, Add{}, workspace, out, 1.0);
}

void mean(Device device, const float* x, int64_t n, double* workspace, float* out) {
  // 0 / 0 gives the NaN PyTorch returns for the mean of an empty tensor.
  chunked_reduce(device, x, n, 0.0, Add{}, workspace, out, static_cast<double>(n));
}

void max(Device device, const float* x, int64_t n, double* workspace, float* out) {
  WISE_CHECK(n > 0, "max of an empty buffer is undefined (n = 0)");
  chunked_reduce(device, x, n, -HUGE_VAL, Max{}, workspace, out, 1.0);
}

}  // namespace wise::kernels
