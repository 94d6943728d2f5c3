// What the one-case-per-process benchmarks (wise_bench_backbone, wise_bench_maskrcnn)
// share with their Python drivers: the last line "<seconds per call> <calls> <peak RSS
// KiB>", the peak resident set as VmHWM of /proc/self/status, and the machine's probe, a
// 1024^3 sgemm timed the way every case is.
#pragma once

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "apps/bench/timing.h"
#include "kernels/gemm.h"
#include "nn/random.h"
#include "nn/tensor.h"

namespace wise::bench {

// Peak resident set in KiB. Not getrusage's ru_maxrss: that survives execve, so it would
// start at the launching Python's size.
inline long peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

inline void report_case(const Timing& timing) {
  std::printf("%.9f %d %ld\n", timing.seconds, timing.calls, peak_rss_kib());
}

inline Timing time_sgemm_probe(Generator& generator) {
  const int64_t n = 1024;
  Tensor a = Tensor::empty({n, n}), b = Tensor::empty({n, n}), c = Tensor::empty({n, n});
  uniform_(a, generator, -1.0f, 1.0f);
  uniform_(b, generator, -1.0f, 1.0f);
  return time_calls([&] {
    kernels::gemm(Device::cpu, false, false, n, n, n, 1.0f, a.data<float>(), n, b.data<float>(), n, 0.0f,
                  c.data<float>(), n);
  });
}

}  // namespace wise::bench
