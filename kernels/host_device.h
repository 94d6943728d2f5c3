// Macros and tiny helpers that let one function body compile for both targets.
//
// Every kernel in wise is written once. Its arithmetic is a plain C++ function or
// lambda marked WISE_HD; nvcc compiles it for the GPU and the host, g++ (when the
// CUDA backend is off) sees an ordinary inline function. Inside such code use the
// helpers below instead of std::min/std::max: the std versions are constexpr host
// functions, which nvcc refuses to call from device code without a flag.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define WISE_HD __host__ __device__
#define WISE_DEVICE_CODE 1
#else
#define WISE_HD
#define WISE_DEVICE_CODE 0
#endif

namespace wise::kernels {

template <class T>
WISE_HD inline T min_of(T a, T b) { return b < a ? b : a; }

template <class T>
WISE_HD inline T max_of(T a, T b) { return a < b ? b : a; }

template <class T>
WISE_HD inline T clamp_to(T x, T low, T high) { return min_of(max_of(x, low), high); }

// a * b rounded on its own, where torch computes the product as an op of its own
// (torch's expand_boxes `w_half *= scale`, Adam's `exp_avg.mul_(beta1)`): nvcc and
// g++ -march=native would otherwise fuse it into a following add (one rounding).
WISE_HD inline float product_rounded(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  volatile float product = a * b;
  return product;
#endif
}

// Ceil division for non-negative integers.
WISE_HD inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace wise::kernels
