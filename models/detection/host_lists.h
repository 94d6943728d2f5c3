// The RPN's and RoI heads' host-side index bookkeeping (rpn.h says why it is on the host):
// a host list uploaded as a tensor on the features' device.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/tensor.h"

namespace wise {

// values -> int64 (K) on `device`.
inline Tensor upload(const std::vector<int64_t>& values, Device device) {
  return Tensor::from_vector<int64_t>({static_cast<int64_t>(values.size())}, values).to(device);
}

// values -> float32 `shape` on `device`.
inline Tensor upload(const std::vector<float>& values, const Shape& shape, Device device) {
  return Tensor::from_vector<float>(shape, values).to(device);
}

}  // namespace wise
