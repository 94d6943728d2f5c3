// The CUDA launcher: runs element(i) for i in [0, n) on the GPU.
//
// The GPU half of "one kernel source, two targets" (see kernels/launch.h). A
// grid-stride loop: each thread handles i, i + stride, ..., so any n fits in a
// bounded grid, and the same element function runs as on the CPU.
#pragma once

#include <cstdint>

#include "kernels/cuda/status_check.h"
#include "kernels/cuda/stream.h"
#include "kernels/host_device.h"

namespace wise::kernels::cuda {

inline constexpr int kThreadsPerBlock = 256;
inline constexpr int64_t kMaxBlocks = int64_t{1} << 20;

template <class Element>
__global__ void parallel_for_kernel(int64_t n, Element element) {
  const int64_t stride = int64_t{blockDim.x} * gridDim.x;
  for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < n; i += stride) element(i);
}

template <class Element>
void parallel_for(int64_t n, const Element& element) {
  const int64_t blocks = min_of(ceil_div(n, kThreadsPerBlock), kMaxBlocks);
  parallel_for_kernel<<<static_cast<unsigned>(blocks), kThreadsPerBlock, 0, current_stream()>>>(
      n, element);
  WISE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace wise::kernels::cuda
