// ensure_tensor: reuse an output buffer when it fits, else allocate a new one;
// and the checks every layer makes of its float inputs and accumulated gradients.
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

// The data of a gradient a backward accumulates into (+=): it must already exist
// matching `like` (shape, device, format), so a missing buffer is a named error rather
// than a silent fresh one. Null `gradient`: not wanted, returns null.
inline float* gradient_of(Tensor* gradient, const Tensor& like, const char* what) {
  if (gradient == nullptr) return nullptr;
  WISE_CHECK(gradient->defined() && gradient->dtype() == DType::float32 &&
                 gradient->shape() == like.shape() && gradient->device() == like.device() &&
                 gradient->format() == like.format(),
             what, " must exist as ", like.describe(), " (gradients accumulate), got ",
             gradient->defined() ? gradient->describe() : std::string("undefined"));
  return gradient->data<float>();
}

}  // namespace wise
