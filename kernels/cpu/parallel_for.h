// The CPU launcher: runs element(i) for i in [0, n) on the OpenMP thread pool.
//
// This is the CPU half of "one kernel source, two targets": a kernel's element
// function is written once (kernels/launch.h) and this loop runs it on the host.
// Elements must write disjoint outputs for distinct i, so iterations can run in
// any order on any thread; with schedule(static) each thread gets one contiguous
// slice, which keeps memory access streaming.
#pragma once

#include <omp.h>

#include <cstdint>

namespace wise::kernels::cpu {

// Below this many elements a loop runs serially: opening a parallel region costs
// a few microseconds, more than a small elementwise loop takes.
inline constexpr int64_t kParallelThreshold = 16384;

// Sets flush-to-zero and denormals-are-zero (MXCSR) on the calling thread.
// Denormal floats are up to 100x slower on some of our CPUs (toolchain.md); every
// parallel region calls this first, so all OpenMP threads run with it.
void flush_denormals_on_this_thread();

// Threads a parallel region uses (OMP_NUM_THREADS or set_num_threads()).
inline int num_threads() { return omp_get_max_threads(); }
inline void set_num_threads(int threads) { omp_set_num_threads(threads); }

// Serial when the whole loop is small: n indices of `work_per_index` elements
// each below kParallelThreshold elements (or a single index).
template <class Element>
void parallel_for(int64_t n, const Element& element, int64_t work_per_index = 1) {
  if (n < 2 || n * work_per_index < kParallelThreshold || omp_in_parallel() || omp_get_max_threads() == 1) {
    flush_denormals_on_this_thread();
    for (int64_t i = 0; i < n; ++i) element(i);
    return;
  }
#pragma omp parallel
  {
    flush_denormals_on_this_thread();
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i) element(i);
  }
}

}  // namespace wise::kernels::cpu
