// CUDA sgemm through cuBLAS. cuBLAS is column-major: a row-major C = op(A) op(B)
// is the column-major C^T = op(B)^T op(A)^T, so the operands swap places.
#include "kernels/cuda/library_handles.h"
#include "kernels/cuda/status_check.h"
#include "kernels/gemm.h"

namespace wise::kernels::cuda {

void gemm(bool transpose_a, bool transpose_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  WISE_CUBLAS_CHECK(cublasSgemm_64(cublas_handle(), transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                   transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B, ldb,
                                   A, lda, &beta, C, ldc));
}

}  // namespace wise::kernels::cuda
