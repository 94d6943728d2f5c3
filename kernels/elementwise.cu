// Elementwise kernels (see elementwise.h). One source for CPU and CUDA.
#include "kernels/elementwise.h"

#include <cmath>

#include "kernels/launch.h"

namespace wise::kernels {

template <class T>
void fill(Device device, T* y, T value, int64_t n) {
  parallel_for(device, n, [=] WISE_HD(int64_t i) { y[i] = value; });
}
template void fill<float>(Device, float*, float, int64_t);
template void fill<int32_t>(Device, int32_t*, int32_t, int64_t);
template void fill<int64_t>(Device, int64_t*, int64_t, int64_t);
template void fill<uint8_t>(Device, uint8_t*, uint8_t, int64_t);

void add(Device device, const float* a, const float* b, float* out, int64_t n) {
  parallel_for(device, n, [=] WISE_HD(int64_t i) { out[i] = a[i] + b[i]; });
}

void multiply(Device device, const float* a, const float* b, float* out, int64_t n) {
  parallel_for(device, n, [=] WISE_HD(int64_t i) { out[i] = a[i] * b[i]; });
}

void multiply_accumulate(Device device, const float* a, const float* b, float* out, int64_t n) {
  parallel_for(device, n, [=] WISE_HD(int64_t i) { out[i] += a[i] * b[i]; });
}

void axpy(Device device, float alpha, const float* x, float* y, int64_t n) {
  parallel_for(device, n, [=] WISE_HD(int64_t i) { y[i] += alpha * x[i]; });
}

void scale(Device device, float alpha, float* y, int64_t n) {
  parallel_for(device, n, [=] WISE_HD(int64_t i) { y[i] *= alpha; });
}

void relu_forward(Device device, const float* x, float* y, int64_t n) {
  // `x < 0 ? 0 : x` rather than `x > 0 ? x : 0`: a NaN compares false and passes through.
  parallel_for(device, n, [=] WISE_HD(int64_t i) { y[i] = x[i] < 0.0f ? 0.0f : x[i]; });
}

void relu_backward(Device device, const float* y, const float* d_y, float* d_x, int64_t n) {
  parallel_for(device, n, [=] WISE_HD(int64_t i) { d_x[i] += y[i] > 0.0f ? d_y[i] : 0.0f; });
}

void sigmoid_forward(Device device, const float* x, float* y, int64_t n) {
  // exp(-x) overflows to inf for x < -88.7 and 1 / inf = 0: the limit, no NaN.
  parallel_for(device, n, [=] WISE_HD(int64_t i) { y[i] = 1.0f / (1.0f + expf(-x[i])); });
}

}  // namespace wise::kernels
