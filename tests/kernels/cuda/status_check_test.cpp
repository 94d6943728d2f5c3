// The CUDA, cuBLAS and cuDNN check macros name the statement, the status and
// the place. Built only with the CUDA backend; needs no GPU (the statuses are
// constants).
#include <gtest/gtest.h>

#include "kernels/cuda/status_check.h"
#include "kernels/device.h"
#include "tests/support/errors.h"

namespace {

using wise::testing::error_of;

TEST(StatusCheck, CudaErrorNamesStatementStatusAndPlace) {
  const std::string message = error_of([] { WISE_CUDA_CHECK(cudaErrorInsufficientDriver); });
  EXPECT_NE(message.find("CUDA error 35 (cudaErrorInsufficientDriver"), std::string::npos) << message;
  EXPECT_NE(message.find("in `cudaErrorInsufficientDriver`"), std::string::npos) << message;
  EXPECT_NE(message.find("status_check_test.cpp:"), std::string::npos) << message;
}

TEST(StatusCheck, CublasAndCudnnErrorsAreNamed) {
  EXPECT_NE(error_of([] { WISE_CUBLAS_CHECK(CUBLAS_STATUS_NOT_INITIALIZED); })
                .find("cuBLAS error 1 (CUBLAS_STATUS_NOT_INITIALIZED)"),
            std::string::npos);
  EXPECT_NE(error_of([] { WISE_CUDNN_CHECK(CUDNN_STATUS_NOT_INITIALIZED); }).find("cuDNN error"),
            std::string::npos);
  EXPECT_EQ(error_of([] { WISE_CUDA_CHECK(cudaSuccess); }), "(no error)");
}

// Without a driver cudaGetDeviceCount fails (35 here); wise then reports 0
// devices instead of throwing, and agrees with the runtime when it succeeds.
TEST(StatusCheck, NoDeviceIsDetectedCleanly) {
  int runtime_count = 0;
  const cudaError_t status = cudaGetDeviceCount(&runtime_count);
  EXPECT_EQ(wise::kernels::cuda_device_count(), status == cudaSuccess ? runtime_count : 0)
      << "cudaGetDeviceCount returned " << static_cast<int>(status);
  EXPECT_TRUE(wise::kernels::built_with_cuda());
}

}  // namespace
