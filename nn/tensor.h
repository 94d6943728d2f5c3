// Tensor: a typed, shaped view of a buffer on one device, in one memory format.
//
// A Tensor is a cheap handle: copying it shares the buffer (like a shared_ptr).
// The buffer is either owned (allocated from the device's caching allocator and
// returned to it when the last handle goes) or a view into another tensor's
// buffer, as a model's parameters are views into one contiguous block
// (nn/parameter_buffer.h, later) so that loading, saving and all-reducing them
// is one operation on one range.
//
// Layout: dense, no strides. `format` says how a 4-d (N, C, H, W) tensor is laid
// out (kernels/memory_format.h); everything else is `plain` row-major. Shapes
// are always logical: a tensor in nChw16c with C = 3 still has shape [N, 3, H, W]
// and its buffer holds the padded channels.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/check.h"
#include "kernels/device.h"
#include "kernels/memory_format.h"
#include "nn/dtype.h"
#include "nn/shape.h"

namespace wise {

using kernels::Device;
using kernels::MemoryFormat;

class Tensor {
 public:
  Tensor() = default;  // undefined: holds nothing

  // Uninitialised memory from the device's caching allocator.
  static Tensor empty(const Shape& shape, DType dtype = DType::float32,
                      Device device = Device::cpu, MemoryFormat format = MemoryFormat::plain);
  static Tensor zeros(const Shape& shape, DType dtype = DType::float32,
                      Device device = Device::cpu, MemoryFormat format = MemoryFormat::plain);
  // A plain CPU tensor holding a copy of `values` (values.size() must equal numel).
  template <class T>
  static Tensor from_vector(const Shape& shape, const std::vector<T>& values);
  // A view of memory owned by `owner` (kept alive as long as the view).
  static Tensor view_of(void* data, const Shape& shape, DType dtype, Device device,
                        MemoryFormat format, std::shared_ptr<void> owner);

  bool defined() const { return defined_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  int64_t size(int axis) const { return shape_[axis]; }
  int64_t numel() const { return shape_.numel(); }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  MemoryFormat format() const { return format_; }
  // Elements and bytes of the buffer, padding of blocked formats included.
  int64_t physical_numel() const;
  std::size_t nbytes() const { return static_cast<std::size_t>(physical_numel()) * dtype_size(dtype_); }

  void* raw_data() { return data_; }
  const void* raw_data() const { return data_; }
  // Typed pointer; throws if T does not match the dtype.
  template <class T> T* data();
  template <class T> const T* data() const;

  // A copy on `device` (or this tensor itself if it is already there).
  Tensor to(Device device) const;
  // A copy in `format` (or this tensor itself if already in it). Non-plain
  // formats need a 4-d float32 tensor.
  Tensor to_format(MemoryFormat format) const;
  // An independent copy (same device and format).
  Tensor clone() const;
  // The same buffer seen with another shape of equal numel (plain only).
  Tensor reshape(const Shape& shape) const;
  // A plain view of `shape` starting `element_offset` elements into this
  // (plain) tensor's buffer; it shares, and keeps alive, the whole buffer.
  Tensor view(int64_t element_offset, const Shape& shape) const;

  // Copies `source` into this tensor: same shape, dtype and format; any devices.
  void copy_from(const Tensor& source);
  void fill(float value);  // float32 only
  void zero();

  // The elements as a host vector, in plain (logical) order.
  template <class T> std::vector<T> to_vector() const;

  // "float32[2, 3, 4] cpu plain"; used in every error message about a tensor.
  std::string describe() const;

 private:
  void check_dtype(DType expected) const;

  std::shared_ptr<void> holder_;  // keeps the buffer alive
  void* data_ = nullptr;
  Shape shape_;
  DType dtype_ = DType::float32;
  Device device_ = Device::cpu;
  MemoryFormat format_ = MemoryFormat::plain;
  bool defined_ = false;
};

template <class T>
T* Tensor::data() {
  check_dtype(dtype_of<T>());
  return static_cast<T*>(data_);
}

template <class T>
const T* Tensor::data() const {
  check_dtype(dtype_of<T>());
  return static_cast<const T*>(data_);
}

}  // namespace wise
