// Shared plumbing for the oneDNN-backed CPU kernels: the engine, the calling
// thread's stream, and the mapping between wise's memory formats and oneDNN's.
//
// oneDNN (Debian's 2.6, built on libgomp) runs its primitives on the same
// OpenMP thread pool as our own loops, so the two never oversubscribe the cores.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <optional>

#include "kernels/memory_format.h"

namespace wise::kernels::cpu {

dnnl::engine& onednn_engine();

// The calling thread's stream. Also makes sure every OpenMP thread flushes
// denormals before oneDNN runs on it (oneDNN's regions are not ours).
dnnl::stream& onednn_stream();

// The descriptor of an (N, C, H, W) float tensor in `format`.
dnnl::memory::desc activation_desc(MemoryFormat format, int64_t N, int64_t C, int64_t H, int64_t W);

// Which of wise's formats `desc` is, if any.
std::optional<MemoryFormat> format_of(const dnnl::memory::desc& desc);

// Bytes rounded up to a cache line, for carving one workspace into pieces.
inline std::size_t aligned_bytes(std::size_t bytes) { return (bytes + 63) / 64 * 64; }

}  // namespace wise::kernels::cpu
