// The launch layer: one kernel source, two targets.
//
// A wise kernel is a WISE_HD function of a flat index, written once:
//
//   void axpy(Device device, float alpha, const float* x, float* y, int64_t n) {
//     parallel_for(device, n, [=] WISE_HD (int64_t i) { y[i] += alpha * x[i]; });
//   }
//
// parallel_for sends it to the GPU (a grid-stride CUDA kernel) or to the CPU (an
// OpenMP loop, serial below a size threshold). Kernel sources are .cu files: nvcc
// compiles them when the CUDA backend is on, and g++ compiles the same file as
// C++ when it is off (CMake sets LANGUAGE CXX), where a CUDA request is an error.
// Contract for elements: element(i) and element(j) write disjoint memory for
// i != j, so both launchers may run them in any order without atomics.
//
// `work_per_index` tells the CPU launcher how many elements one index handles
// (a reduction chunk of 4096, a channel of N*H*W), so a loop of few but heavy
// indices still runs in parallel: it goes serial only when n * work_per_index
// is below the threshold. The GPU ignores it.
#pragma once

#include <cstdint>

#include "kernels/cpu/parallel_for.h"
#include "kernels/device.h"
#include "kernels/host_device.h"

#if defined(__CUDACC__)
#include "kernels/cuda/launch.cuh"
#endif

namespace wise::kernels {

[[noreturn]] void throw_cuda_launch_without_nvcc(const char* file);

template <class Element>
void parallel_for(Device device, int64_t n, const Element& element, int64_t work_per_index = 1) {
  if (n <= 0) return;
  if (device == Device::cuda) {
#if defined(__CUDACC__)
    cuda::parallel_for(n, element);
    return;
#else
    throw_cuda_launch_without_nvcc(__FILE__);
#endif
  }
  cpu::parallel_for(n, element, work_per_index);
}

}  // namespace wise::kernels
