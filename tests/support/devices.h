// Device parametrisation for tests: every kernel test runs once per device.
//
// CPU rows always run. CUDA rows run when a GPU is present and are skipped with
// a message otherwise (GTEST_SKIP), so a machine without a GPU (our CI) still
// builds and lists them.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/device.h"

namespace wise::testing {

using kernels::Device;

inline std::vector<Device> all_devices() { return {Device::cpu, Device::cuda}; }

inline std::string device_test_name(const ::testing::TestParamInfo<Device>& info) {
  return kernels::device_name(info.param);
}

}  // namespace wise::testing

// Skips the current test when `device` cannot run on this machine.
#define WISE_SKIP_IF_UNAVAILABLE(device)                                               \
  do {                                                                                 \
    if (!::wise::kernels::device_available(device)) {                                  \
      GTEST_SKIP() << "no " << ::wise::kernels::device_name(device)                    \
                   << " device here: " << ::wise::kernels::describe_backends();        \
    }                                                                                  \
  } while (0)
