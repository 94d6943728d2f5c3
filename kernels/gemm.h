// Single-precision matrix multiply, the BLAS way:
//
//   C (M x N) = alpha * op(A) * op(B) + beta * C,   row-major, op(X) = X or X^T
//
// A is M x K after op, B is K x N after op; lda/ldb/ldc are row strides. beta = 1
// accumulates into C (how backward passes add their gradients), beta = 0
// overwrites it (C may then hold garbage, NaN included).
// CPU: oneDNN's sgemm (JIT, AVX-512 where present, on our OpenMP threads).
// CUDA: cuBLAS (column-major, so we compute C^T = op(B)^T op(A)^T).
#pragma once

#include <cstdint>

#include "kernels/device.h"

namespace wise::kernels {

void gemm(Device device, bool transpose_a, bool transpose_b, int64_t M, int64_t N, int64_t K,
          float alpha, const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
          float* C, int64_t ldc);

namespace cpu {
void gemm(bool transpose_a, bool transpose_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
}
namespace cuda {
void gemm(bool transpose_a, bool transpose_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
}

}  // namespace wise::kernels
