// Caching allocators: one per device, so a training step does no malloc churn.
//
// Freed blocks are kept in per-size-class free lists and handed out again on the
// next request of the same class; the device allocator (malloc / cudaMalloc) is
// called only on a cache miss. After the first training step every buffer of the
// next step is a cache hit: no page faults on the CPU (freed memory returned to
// the OS costs ~25 % of a PyTorch CPU run, toolchain.md) and no cudaMalloc
// synchronisation on the GPU. `stats().raw_allocations` lets tests assert this.
//
// Size classes: up to 1 MiB, multiples of 512 bytes; above, 8 classes per power
// of two (at most 12.5 % waste). CUDA blocks are reused in the order of the one
// stream per device that wise issues work on, so reuse needs no events.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "kernels/device.h"

namespace wise {

using kernels::Device;

struct AllocatorStats {
  int64_t bytes_in_use = 0;       // handed out and not yet returned
  int64_t peak_bytes_in_use = 0;  // since start or reset_peak()
  int64_t bytes_cached = 0;       // returned, kept for reuse
  int64_t raw_allocations = 0;    // calls into malloc / cudaMalloc
  int64_t cache_hits = 0;
};

class CachingAllocator {
 public:
  explicit CachingAllocator(Device device) : device_(device) {}
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;
  ~CachingAllocator() { empty_cache(); }

  // A block of at least `bytes` (nullptr for 0). On a device out-of-memory error
  // the cache is emptied and the allocation tried once more.
  void* allocate(std::size_t bytes);
  // Returns a block from allocate(); `bytes` is the size that was requested.
  void deallocate(void* pointer, std::size_t bytes);

  // Gives all cached blocks back to the device.
  void empty_cache();
  AllocatorStats stats() const;
  void reset_peak();

  static std::size_t size_class(std::size_t bytes);

 private:
  Device device_;
  mutable std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<void*>> free_blocks_;  // by size class
  AllocatorStats stats_;
};

// The process-wide allocator of a device. Never destroyed: tensors held by
// static objects may be freed after main returns, and the CUDA runtime may be
// gone by then, so cached device memory is left to the OS at exit.
CachingAllocator& allocator_for(Device device);

}  // namespace wise
