// Thrust algorithms for both devices (see sort.h). The only Thrust translation unit.
#include "kernels/sort.h"

#include <thrust/functional.h>
#include <thrust/scan.h>
#include <thrust/sort.h>
#include <thrust/system/omp/execution_policy.h>

#include "kernels/launch.h"

#if defined(__CUDACC__)
#include <thrust/system/cuda/execution_policy.h>

#include "kernels/cuda/stream.h"
#endif

namespace wise::kernels {

// Calls algorithm(policy) with the execution policy of `device`.
template <class Algorithm>
void with_policy(Device device, const Algorithm& algorithm) {
  if (device == Device::cuda) {
#if defined(__CUDACC__)
    algorithm(thrust::cuda::par.on(cuda::current_stream()));
    return;
#else
    throw_cuda_launch_without_nvcc(__FILE__);
#endif
  }
  algorithm(thrust::omp::par);
}

void stable_sort_by_key_descending(Device device, float* keys, int64_t* values, int64_t n) {
  if (n <= 1) return;
  with_policy(device, [&](const auto& policy) {
    thrust::stable_sort_by_key(policy, keys, keys + n, values, thrust::greater<float>());
  });
}

void stable_sort_by_key_ascending(Device device, int64_t* keys, int64_t* values, int64_t n) {
  if (n <= 1) return;
  with_policy(device, [&](const auto& policy) {
    thrust::stable_sort_by_key(policy, keys, keys + n, values, thrust::less<int64_t>());
  });
}

void inclusive_scan(Device device, const int64_t* x, int64_t* out, int64_t n) {
  if (n <= 0) return;
  with_policy(device, [&](const auto& policy) { thrust::inclusive_scan(policy, x, x + n, out); });
}

}  // namespace wise::kernels
