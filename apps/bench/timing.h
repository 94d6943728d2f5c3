// The timing loop every benchmark binary uses: one warm-up call, then calls until
// `min_seconds` have passed (and at least `min_calls`), each followed by `sync`
// (a device synchronise for GPU work). Returns the mean seconds per call.
#pragma once

#include <chrono>

namespace wise::bench {

struct Timing {
  double seconds = 0.0;  // per call
  int calls = 0;
};

template <class Run, class Sync>
Timing time_calls(const Run& run, const Sync& sync, double min_seconds = 0.1, int min_calls = 2) {
  run();
  sync();
  int calls = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0.0;
  do {
    run();
    sync();
    ++calls;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < min_seconds || calls < min_calls);
  return {elapsed / calls, calls};
}

template <class Run>
Timing time_calls(const Run& run) {
  return time_calls(run, [] {});
}

}  // namespace wise::bench
