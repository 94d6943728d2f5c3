#include "kernels/memory.h"

#include <cstdlib>
#include <cstring>

#include "kernels/check.h"

#if WISE_WITH_CUDA
#include "kernels/cuda/status_check.h"
#include "kernels/cuda/stream.h"
#endif

namespace wise::kernels {

void* raw_allocate(Device device, std::size_t bytes) {
  require_device(device, "raw_allocate");
  if (bytes == 0) return nullptr;
  if (device == Device::cpu) {
    // aligned_alloc requires the size to be a multiple of the alignment.
    const std::size_t rounded = (bytes + kHostAlignment - 1) / kHostAlignment * kHostAlignment;
    void* pointer = std::aligned_alloc(kHostAlignment, rounded);
    if (!pointer) throw Error(concat("out of host memory allocating ", bytes, " bytes"));
    return pointer;
  }
#if WISE_WITH_CUDA
  void* pointer = nullptr;
  const cudaError_t status = cudaMalloc(&pointer, bytes);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw Error(concat("out of CUDA memory allocating ", bytes, " bytes"));
  }
  WISE_CUDA_CHECK(status);
  return pointer;
#else
  return nullptr;  // unreachable: require_device threw
#endif
}

void raw_free(Device device, void* pointer) {
  if (!pointer) return;
  if (device == Device::cpu) {
    std::free(pointer);
    return;
  }
#if WISE_WITH_CUDA
  WISE_CUDA_CHECK(cudaFree(pointer));
#endif
}

void copy_bytes(void* destination, Device destination_device, const void* source,
                Device source_device, std::size_t bytes) {
  if (bytes == 0) return;
  if (destination_device == Device::cpu && source_device == Device::cpu) {
    std::memcpy(destination, source, bytes);
    return;
  }
  require_device(Device::cuda, "copy_bytes");
#if WISE_WITH_CUDA
  // cudaMemcpyDefault infers the direction from unified virtual addressing.
  WISE_CUDA_CHECK(cudaMemcpyAsync(destination, source, bytes, cudaMemcpyDefault,
                                  cuda::current_stream()));
  if (destination_device == Device::cpu || source_device == Device::cpu) {
    WISE_CUDA_CHECK(cudaStreamSynchronize(cuda::current_stream()));
  }
#endif
}

void zero_bytes(Device device, void* pointer, std::size_t bytes) {
  if (bytes == 0) return;
  if (device == Device::cpu) {
    std::memset(pointer, 0, bytes);
    return;
  }
  require_device(device, "zero_bytes");
#if WISE_WITH_CUDA
  WISE_CUDA_CHECK(cudaMemsetAsync(pointer, 0, bytes, cuda::current_stream()));
#endif
}

void synchronize(Device device) {
  if (device == Device::cpu) return;
#if WISE_WITH_CUDA
  WISE_CUDA_CHECK(cudaStreamSynchronize(cuda::current_stream()));
#endif
}

}  // namespace wise::kernels
