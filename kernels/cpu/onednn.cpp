#include "kernels/cpu/onednn.h"

#include <omp.h>

#include <atomic>

#include "kernels/cpu/parallel_for.h"

namespace wise::kernels::cpu {

dnnl::engine& onednn_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& onednn_stream() {
  // Threads of the pool keep MXCSR once set; redo it when the pool grows.
  static std::atomic<int> threads_flushed{0};
  const int threads = omp_get_max_threads();
  if (threads > threads_flushed.load()) {
#pragma omp parallel
    flush_denormals_on_this_thread();
    threads_flushed = threads;
  }
  thread_local dnnl::stream stream(onednn_engine());
  return stream;
}

namespace {

dnnl::memory::format_tag tag_of(MemoryFormat format) {
  switch (format) {
    case MemoryFormat::nhwc: return dnnl::memory::format_tag::nhwc;
    case MemoryFormat::nchw8c: return dnnl::memory::format_tag::nChw8c;
    case MemoryFormat::nchw16c: return dnnl::memory::format_tag::nChw16c;
    case MemoryFormat::plain:
    default: return dnnl::memory::format_tag::nchw;
  }
}

}  // namespace

dnnl::memory::desc activation_desc(MemoryFormat format, int64_t N, int64_t C, int64_t H, int64_t W) {
  return dnnl::memory::desc({N, C, H, W}, dnnl::memory::data_type::f32, tag_of(format));
}

std::optional<MemoryFormat> format_of(const dnnl::memory::desc& desc) {
  const dnnl::memory::dims dims = desc.dims();
  if (dims.size() != 4) return std::nullopt;
  for (MemoryFormat format : {MemoryFormat::plain, MemoryFormat::nhwc, MemoryFormat::nchw8c,
                              MemoryFormat::nchw16c}) {
    if (activation_desc(format, dims[0], dims[1], dims[2], dims[3]) == desc) return format;
  }
  return std::nullopt;
}

}  // namespace wise::kernels::cpu
