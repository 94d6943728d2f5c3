#include "nn/allocator.h"

#include <algorithm>

#include "kernels/check.h"
#include "kernels/memory.h"

namespace wise {

std::size_t CachingAllocator::size_class(std::size_t bytes) {
  constexpr std::size_t kSmallQuantum = 512;
  constexpr std::size_t kSmallLimit = std::size_t{1} << 20;
  if (bytes <= kSmallLimit) return (bytes + kSmallQuantum - 1) / kSmallQuantum * kSmallQuantum;
  // Round up to a multiple of 1/8 of the largest power of two <= bytes.
  std::size_t power = kSmallLimit;
  while (power * 2 <= bytes) power *= 2;
  const std::size_t step = power / 8;
  return (bytes + step - 1) / step * step;
}

void* CachingAllocator::allocate(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  const std::size_t rounded = size_class(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.bytes_in_use += static_cast<int64_t>(rounded);
  stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
  auto found = free_blocks_.find(rounded);
  if (found != free_blocks_.end() && !found->second.empty()) {
    void* pointer = found->second.back();
    found->second.pop_back();
    stats_.bytes_cached -= static_cast<int64_t>(rounded);
    ++stats_.cache_hits;
    return pointer;
  }
  ++stats_.raw_allocations;
  try {
    return kernels::raw_allocate(device_, rounded);
  } catch (const Error&) {
    // Cached blocks of other sizes may be what stands in the way: release them
    // and try once more before reporting out-of-memory.
    for (auto& [size, blocks] : free_blocks_) {
      for (void* block : blocks) kernels::raw_free(device_, block);
    }
    free_blocks_.clear();
    stats_.bytes_cached = 0;
    try {
      return kernels::raw_allocate(device_, rounded);
    } catch (...) {
      stats_.bytes_in_use -= static_cast<int64_t>(rounded);
      throw;
    }
  }
}

void CachingAllocator::deallocate(void* pointer, std::size_t bytes) {
  if (!pointer) return;
  const std::size_t rounded = size_class(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  free_blocks_[rounded].push_back(pointer);
  stats_.bytes_in_use -= static_cast<int64_t>(rounded);
  stats_.bytes_cached += static_cast<int64_t>(rounded);
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [size, blocks] : free_blocks_) {
    for (void* block : blocks) kernels::raw_free(device_, block);
  }
  free_blocks_.clear();
  stats_.bytes_cached = 0;
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void CachingAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_bytes_in_use = stats_.bytes_in_use;
}

CachingAllocator& allocator_for(Device device) {
  static CachingAllocator* cpu = new CachingAllocator(Device::cpu);
  static CachingAllocator* cuda = new CachingAllocator(Device::cuda);
  return device == Device::cpu ? *cpu : *cuda;
}

}  // namespace wise
