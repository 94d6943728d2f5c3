#include "kernels/device.h"

#include "kernels/check.h"
#include "kernels/cpu/parallel_for.h"

#if WISE_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace wise::kernels {

bool built_with_cuda() { return WISE_WITH_CUDA != 0; }

int cuda_device_count() {
#if WISE_WITH_CUDA
  static const int count = [] {
    int devices = 0;
    // Without a driver this returns an error (35, cudaErrorInsufficientDriver,
    // on our machines); any error means "no device". Clear the last-error
    // state where that is possible (a driver without devices gives 100, which
    // clears; a missing driver stays sticky, and no CUDA call follows then).
    if (cudaGetDeviceCount(&devices) != cudaSuccess) {
      cudaGetLastError();
      return 0;
    }
    return devices;
  }();
  return count;
#else
  return 0;
#endif
}

std::string describe_backends() {
  std::string cuda = !built_with_cuda()          ? "not built"
                     : cuda_device_count() == 0 ? "built, no device"
                                                : concat(cuda_device_count(), " device(s)");
  return concat("cpu (", cpu::num_threads(), " OpenMP threads); cuda: ", cuda);
}

void require_device(Device device, const char* what) {
  if (device == Device::cpu) return;
  if (!built_with_cuda()) {
    throw Error(concat(what, ": CUDA requested, but this build has no CUDA backend "
                             "(configure with -DWISE_CUDA=ON)"));
  }
  if (cuda_device_count() == 0) {
    throw Error(concat(what, ": CUDA requested, but no CUDA device is available"));
  }
}

void throw_cuda_launch_without_nvcc(const char* file) {
  throw Error(concat("CUDA launch requested from ", file,
                     ", which was compiled without nvcc (this build has no CUDA backend)"));
}

}  // namespace wise::kernels
