// Row gathers (see gather.h): one source for CPU and CUDA.
#include "kernels/gather.h"

#include "kernels/launch.h"

namespace wise::kernels {

void gather_rows(Device device, const float* input, int64_t N, int64_t D, const int64_t* index,
                 int64_t K, float* output) {
  parallel_for(device, K * D, [=] WISE_HD(int64_t i) {
    const int64_t k = i / D, j = i % D;
    const int64_t row = index[k];
    output[i] = row >= 0 && row < N ? input[row * D + j] : 0.0f;
  });
}

void scatter_add_rows(Device device, const float* d_output, int64_t K, int64_t D,
                      const int64_t* index, int64_t N, float* d_input) {
  parallel_for(device, K * D, [=] WISE_HD(int64_t i) {
    const int64_t k = i / D, j = i % D;
    const int64_t row = index[k];
    if (row >= 0 && row < N) d_input[row * D + j] += d_output[i];
  });
}

void select_class(Device device, const float* input, int64_t K, int64_t C, int64_t D,
                  const int64_t* labels, float* output) {
  parallel_for(device, K * D, [=] WISE_HD(int64_t i) {
    const int64_t k = i / D, j = i % D;
    const int64_t c = labels[k];
    output[i] = c >= 0 && c < C ? input[(k * C + c) * D + j] : 0.0f;
  });
}

void select_class_backward(Device device, const float* d_output, int64_t K, int64_t C, int64_t D,
                           const int64_t* labels, float* d_input) {
  parallel_for(device, K * D, [=] WISE_HD(int64_t i) {
    const int64_t k = i / D, j = i % D;
    const int64_t c = labels[k];
    if (c >= 0 && c < C) d_input[(k * C + c) * D + j] += d_output[i];
  });
}

}  // namespace wise::kernels
