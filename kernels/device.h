// Which processor a buffer lives on and a kernel runs on.
//
// wise has two backends built from one source: the CPU (OpenMP) and CUDA. The
// CUDA backend may be compiled out (WISE_CUDA=OFF), or compiled in but find no
// GPU at run time (the usual case on our CI machines); cuda_device_count()
// answers 0 in both cases, and never throws.
#pragma once

#include <ostream>
#include <string>

namespace wise::kernels {

enum class Device : unsigned char { cpu, cuda };

inline const char* device_name(Device device) { return device == Device::cpu ? "cpu" : "cuda"; }

// Lets gtest and streams print a Device as its name.
inline std::ostream& operator<<(std::ostream& out, Device device) { return out << device_name(device); }

// True when this build contains the CUDA backend (WISE_CUDA=ON).
bool built_with_cuda();

// Number of usable CUDA devices: 0 when the backend is compiled out, when the
// driver is missing (cudaGetDeviceCount returns an error, 35 on a machine with
// the toolkit but no driver), or when no GPU is present. The answer is cached.
int cuda_device_count();

inline bool device_available(Device device) {
  return device == Device::cpu || cuda_device_count() > 0;
}

// One line describing the backends, e.g. "cpu (2 OpenMP threads); cuda: built, no device".
std::string describe_backends();

// Throws a named error when `device` cannot run here; every kernel entry point
// calls it so that a CUDA request in a CPU-only build fails loudly, never falls
// back to the host silently.
void require_device(Device device, const char* what);

}  // namespace wise::kernels
