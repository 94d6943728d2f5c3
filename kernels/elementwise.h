// Elementwise kernels over flat float buffers of n elements.
//
// The building blocks of layers' forward and backward passes. Gradient kernels
// follow wise's one accumulation rule: they ADD into the gradient buffer
// (d_x += ...), so a tensor used twice (a residual branch) receives the sum of
// both contributions without extra buffers. Outputs of forward kernels are
// overwritten (=). Every kernel runs on the CPU or CUDA from the same source.
#pragma once

#include <cstdint>

#include "kernels/device.h"

namespace wise::kernels {

// y[i] = value. T is float, int32_t, int64_t or uint8_t.
template <class T>
void fill(Device device, T* y, T value, int64_t n);

// out[i] = a[i] + b[i]
void add(Device device, const float* a, const float* b, float* out, int64_t n);

// out[i] = a[i] * b[i]
void multiply(Device device, const float* a, const float* b, float* out, int64_t n);

// out[i] += a[i] * b[i]   (the backward of multiply: d_a += d_out * b)
void multiply_accumulate(Device device, const float* a, const float* b, float* out, int64_t n);

// y[i] += alpha * x[i]
void axpy(Device device, float alpha, const float* x, float* y, int64_t n);

// y[i] *= alpha
void scale(Device device, float alpha, float* y, int64_t n);

// y[i] = max(x[i], 0); NaN stays NaN (so the NaN guard sees it). In place is fine.
void relu_forward(Device device, const float* x, float* y, int64_t n);

// d_x[i] += y[i] > 0 ? d_y[i] : 0, from the forward OUTPUT y (as PyTorch's
// threshold_backward), so the forward may run in place. The gradient at 0 is 0.
void relu_backward(Device device, const float* y, const float* d_y, float* d_x, int64_t n);

// y[i] = 1 / (1 + exp(-x[i])) (torch.sigmoid; RPN objectness to scores). In place is fine.
void sigmoid_forward(Device device, const float* x, float* y, int64_t n);

}  // namespace wise::kernels
