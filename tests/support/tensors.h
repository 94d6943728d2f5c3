// Moving test data between host vectors and device tensors.
#pragma once

#include <vector>

#include "nn/tensor.h"

namespace wise::testing {

template <class T>
Tensor on_device(const std::vector<T>& values, kernels::Device device) {
  return Tensor::from_vector(Shape{static_cast<int64_t>(values.size())}, values).to(device);
}

template <class T>
Tensor on_device(const std::vector<T>& values, const Shape& shape, kernels::Device device) {
  return Tensor::from_vector(shape, values).to(device);
}

inline std::vector<float> host_floats(const Tensor& tensor) { return tensor.to_vector<float>(); }

// The physical buffer, as stored (padding of blocked formats included).
inline std::vector<float> physical_floats(const Tensor& tensor) {
  const Tensor host = tensor.to(kernels::Device::cpu);
  const float* data = host.data<float>();
  return std::vector<float>(data, data + host.physical_numel());
}

}  // namespace wise::testing
