// The cuBLAS and cuDNN handles of the calling thread, bound to its stream.
//
// Created on first use (creation fails cleanly, as a named error, on a machine
// without a GPU) and kept for the thread's lifetime.
#pragma once

#include <cublas_v2.h>
#include <cudnn.h>

namespace wise::kernels::cuda {

cublasHandle_t cublas_handle();
cudnnHandle_t cudnn_handle();

}  // namespace wise::kernels::cuda
