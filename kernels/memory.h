// Raw device memory: allocate, free, copy, zero, synchronise.
//
// The one place that calls malloc/cudaMalloc and memcpy/cudaMemcpy. Tensors do
// not call these directly for their buffers; they go through the caching
// allocator in nn/allocator.h, which calls raw_allocate only on a cache miss.
#pragma once

#include <cstddef>

#include "kernels/device.h"

namespace wise::kernels {

// Alignment of every host buffer: a cache line, and what AVX-512 loads like.
inline constexpr std::size_t kHostAlignment = 64;

// Throws wise::Error naming the size and device when memory is exhausted.
void* raw_allocate(Device device, std::size_t bytes);
void raw_free(Device device, void* pointer);

// Copies `bytes` between any two devices. Host<->device copies are synchronous
// with respect to the host (the data is usable when the call returns).
void copy_bytes(void* destination, Device destination_device, const void* source,
                Device source_device, std::size_t bytes);

void zero_bytes(Device device, void* pointer, std::size_t bytes);

// Waits until all work issued on the device's current stream has finished.
void synchronize(Device device);

}  // namespace wise::kernels
