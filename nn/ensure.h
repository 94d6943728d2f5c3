// ensure_tensor: reuse an output buffer when it fits, else allocate a new one.
//
// Layers write their outputs through `Tensor&` parameters. A caller that keeps
// its activation tensors between steps passes them back in and they are
// reused as they are; otherwise the output is replaced by a fresh buffer from
// the caching allocator (which makes steady-state training allocation-free
// either way).
#pragma once

#include "nn/tensor.h"

namespace wise {

inline void ensure_tensor(Tensor& tensor, const Shape& shape, DType dtype, Device device,
                          MemoryFormat format = MemoryFormat::plain) {
  if (tensor.defined() && tensor.shape() == shape && tensor.dtype() == dtype &&
      tensor.device() == device && tensor.format() == format) {
    return;
  }
  tensor = Tensor::empty(shape, dtype, device, format);
}

// Checks that `tensor` is defined, float32 and on `device`; `what` names it in the error.
inline void require_float_on(const Tensor& tensor, Device device, const char* what) {
  WISE_CHECK(tensor.defined(), what, " is undefined");
  WISE_CHECK(tensor.dtype() == DType::float32 && tensor.device() == device, what,
             " must be float32 on ", kernels::device_name(device), ", got ", tensor.describe());
}

}  // namespace wise
