#include "kernels/gemm.h"

#include "kernels/check.h"

namespace wise::kernels {

void gemm(Device device, bool transpose_a, bool transpose_b, int64_t M, int64_t N, int64_t K,
          float alpha, const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
          float* C, int64_t ldc) {
  WISE_CHECK(M >= 0 && N >= 0 && K >= 0, "gemm: negative size M=", M, " N=", N, " K=", K);
  WISE_CHECK(lda >= (transpose_a ? M : K) && ldb >= (transpose_b ? K : N) && ldc >= N,
             "gemm: leading dimensions too small (lda ", lda, ", ldb ", ldb, ", ldc ", ldc, ")");
  if (M == 0 || N == 0) return;
  require_device(device, "gemm");
  if (device == Device::cuda) {
#if WISE_WITH_CUDA
    cuda::gemm(transpose_a, transpose_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
    return;
  }
  cpu::gemm(transpose_a, transpose_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace wise::kernels
