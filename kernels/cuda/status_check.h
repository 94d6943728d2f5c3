// One check macro per status-code API we call: the CUDA runtime, cuBLAS, cuDNN.
//
// Every call into these libraries is wrapped, and a failure throws wise::Error
// naming the statement, the library's own name for the status, its number, and
// the file and line:
//
//   WISE_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDefault));
//   -> "CUDA error 35 (cudaErrorInsufficientDriver: CUDA driver version is
//       insufficient for CUDA runtime version) in `cudaMemcpy(...)` at file.cu:12"
//
// This header only includes the libraries' headers; it compiles with g++ as
// well as nvcc, so host-only files (handles, allocators) use it too.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "kernels/check.h"

namespace wise::kernels::cuda {

const char* cublas_status_name(cublasStatus_t status);

[[noreturn]] void throw_status_error(const char* library, long status, const char* status_name,
                                     const char* detail, const char* statement, const char* file,
                                     int line);

inline void check_cuda(cudaError_t status, const char* statement, const char* file, int line) {
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "last error" so later checks are not confused
    throw_status_error("CUDA", static_cast<long>(status), cudaGetErrorName(status),
                       cudaGetErrorString(status), statement, file, line);
  }
}

inline void check_cublas(cublasStatus_t status, const char* statement, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw_status_error("cuBLAS", static_cast<long>(status), cublas_status_name(status), nullptr,
                       statement, file, line);
  }
}

inline void check_cudnn(cudnnStatus_t status, const char* statement, const char* file, int line) {
  if (status != CUDNN_STATUS_SUCCESS) {
    throw_status_error("cuDNN", static_cast<long>(status), cudnnGetErrorString(status), nullptr,
                       statement, file, line);
  }
}

}  // namespace wise::kernels::cuda

#define WISE_CUDA_CHECK(statement) ::wise::kernels::cuda::check_cuda((statement), #statement, __FILE__, __LINE__)
#define WISE_CUBLAS_CHECK(statement) ::wise::kernels::cuda::check_cublas((statement), #statement, __FILE__, __LINE__)
#define WISE_CUDNN_CHECK(statement) ::wise::kernels::cuda::check_cudnn((statement), #statement, __FILE__, __LINE__)
