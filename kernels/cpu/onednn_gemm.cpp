// CPU sgemm through oneDNN (row-major, the same convention as kernels/gemm.h).
#include <oneapi/dnnl/dnnl.hpp>

#include "kernels/check.h"
#include "kernels/cpu/parallel_for.h"
#include "kernels/gemm.h"

namespace wise::kernels::cpu {

void gemm(bool transpose_a, bool transpose_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  flush_denormals_on_this_thread();
  if (K == 0) {
    // oneDNN rejects K = 0; the product is empty, so C = beta * C.
    for (int64_t i = 0; i < M; ++i) {
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    }
    return;
  }
  const dnnl::status status = dnnl::sgemm(transpose_a ? 'T' : 'N', transpose_b ? 'T' : 'N', M, N, K,
                                          alpha, A, lda, B, ldb, beta, C, ldc);
  WISE_CHECK(status == dnnl::status::success, "oneDNN sgemm failed with status ",
             static_cast<int>(status), " (M=", M, " N=", N, " K=", K, ")");
}

}  // namespace wise::kernels::cpu
