// Peak backpropagation kernels (see peak_response.h). One source for CPU and CUDA.
#include "kernels/peak_response.h"

#include <cmath>

#include "kernels/check.h"
#include "kernels/launch.h"

namespace wise::kernels {

int64_t peak_response_shift_workspace_size(int64_t N, int64_t M) {
  return N * max_of<int64_t>(ceil_div(M, kPeakResponseMinChunk), 1) + N;
}

void peak_response_shift(Device device, const float* x, int64_t N, int64_t M, float* workspace,
                         float* out) {
  WISE_CHECK(M > 0, "peak_response_shift: samples must not be empty (M = ", M, ")");
  if (N <= 0) return;
  const int64_t chunks = ceil_div(M, kPeakResponseMinChunk);
  float* chunk_min = workspace;          // (N, chunks)
  float* sample_min = workspace + N * chunks;  // (N)
  // Pass 1: each (sample, chunk)'s minimum; pass 2: each sample's, over its chunks in order.
  parallel_for(device, N * chunks, [=] WISE_HD(int64_t index) {
    const int64_t n = index / chunks, c = index % chunks;
    const int64_t begin = c * kPeakResponseMinChunk;
    const int64_t end = min_of(begin + kPeakResponseMinChunk, M);
    chunk_min[index] = peak_response_range_min(x + n * M, begin, end);
  }, kPeakResponseMinChunk);
  parallel_for(device, N, [=] WISE_HD(int64_t n) {
    sample_min[n] = peak_response_range_min(chunk_min, n * chunks, (n + 1) * chunks);
  }, chunks);
  // Pass 3: the shift (x - min is exact when x and min are within a factor 2, and one
  // rounding otherwise, as torch's input - offset).
  parallel_for(device, N * M, [=] WISE_HD(int64_t i) { out[i] = x[i] - sample_min[i / M]; });
}

void peak_response_normalize(Device device, const float* d_output, const float* z, float eps,
                             float* out, int64_t n) {
  parallel_for(device, n, [=] WISE_HD(int64_t i) {
    out[i] = peak_response_normalize_element(d_output[i], z[i], eps);
  });
}

void peak_response_channel_sum(Device device, const float* d_sample, int64_t C, int64_t HW,
                               float* map) {
  parallel_for(device, HW, [=] WISE_HD(int64_t p) {
    map[p] = peak_response_channel_sum_element(d_sample, C, HW, p);
  }, C);
}

void peak_response_divide(Device device, float* map, int64_t n, const float* denominator) {
  parallel_for(device, n, [=] WISE_HD(int64_t i) {
    const float d = denominator[0];
    map[i] = d > 0.0f ? map[i] / d : 0.0f;
  });
}

}  // namespace wise::kernels
