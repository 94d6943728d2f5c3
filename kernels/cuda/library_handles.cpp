#include "kernels/cuda/library_handles.h"

#include "kernels/cuda/status_check.h"
#include "kernels/cuda/stream.h"

namespace wise::kernels::cuda {

namespace {

struct Handles {
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;
  ~Handles() {
    // Best effort at thread exit: the driver may already be shutting down.
    if (cublas) cublasDestroy(cublas);
    if (cudnn) cudnnDestroy(cudnn);
  }
};

thread_local Handles handles;

}  // namespace

cublasHandle_t cublas_handle() {
  if (!handles.cublas) {
    WISE_CUBLAS_CHECK(cublasCreate(&handles.cublas));
    WISE_CUBLAS_CHECK(cublasSetStream(handles.cublas, current_stream()));
    // Bitwise-reproducible results: no tensor-core TF32 for float32 GEMMs.
    WISE_CUBLAS_CHECK(cublasSetMathMode(handles.cublas, CUBLAS_DEFAULT_MATH));
  }
  return handles.cublas;
}

cudnnHandle_t cudnn_handle() {
  if (!handles.cudnn) {
    WISE_CUDNN_CHECK(cudnnCreate(&handles.cudnn));
    WISE_CUDNN_CHECK(cudnnSetStream(handles.cudnn, current_stream()));
  }
  return handles.cudnn;
}

}  // namespace wise::kernels::cuda
