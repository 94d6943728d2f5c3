#include "nn/tensor.h"

#include <cstring>

#include "kernels/elementwise.h"
#include "kernels/memory.h"
#include "kernels/reorder.h"
#include "nn/allocator.h"

namespace wise {

namespace {

int64_t physical_numel_of(const Shape& shape, MemoryFormat format) {
  if (format == MemoryFormat::plain) return shape.numel();
  return kernels::physical_numel(format, shape[0], shape[1], shape[2], shape[3]);
}

void check_format_fits(const Shape& shape, DType dtype, MemoryFormat format) {
  if (format == MemoryFormat::plain) return;
  WISE_CHECK(shape.rank() == 4 && dtype == DType::float32, "memory format ",
             memory_format_name(format), " needs a 4-d float32 tensor (N, C, H, W), got ",
             dtype_name(dtype), shape);
}

}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device, MemoryFormat format) {
  kernels::require_device(device, "Tensor::empty");
  check_format_fits(shape, dtype, format);
  Tensor tensor;
  tensor.shape_ = shape;
  tensor.dtype_ = dtype;
  tensor.device_ = device;
  tensor.format_ = format;
  tensor.defined_ = true;
  const std::size_t bytes = tensor.nbytes();
  CachingAllocator& allocator = allocator_for(device);
  tensor.data_ = allocator.allocate(bytes);
  tensor.holder_ = std::shared_ptr<void>(
      tensor.data_, [&allocator, bytes](void* pointer) { allocator.deallocate(pointer, bytes); });
  return tensor;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device, MemoryFormat format) {
  Tensor tensor = empty(shape, dtype, device, format);
  tensor.zero();
  return tensor;
}

template <class T>
Tensor Tensor::from_vector(const Shape& shape, const std::vector<T>& values) {
  WISE_CHECK(static_cast<int64_t>(values.size()) == shape.numel(), "from_vector: ",
             values.size(), " values do not fill shape ", shape, " (", shape.numel(),
             " elements)");
  Tensor tensor = empty(shape, dtype_of<T>());
  if (!values.empty()) std::memcpy(tensor.data_, values.data(), values.size() * sizeof(T));
  return tensor;
}
template Tensor Tensor::from_vector<float>(const Shape&, const std::vector<float>&);
template Tensor Tensor::from_vector<int32_t>(const Shape&, const std::vector<int32_t>&);
template Tensor Tensor::from_vector<int64_t>(const Shape&, const std::vector<int64_t>&);
template Tensor Tensor::from_vector<uint8_t>(const Shape&, const std::vector<uint8_t>&);

Tensor Tensor::view_of(void* data, const Shape& shape, DType dtype, Device device,
                       MemoryFormat format, std::shared_ptr<void> owner) {
  check_format_fits(shape, dtype, format);
  Tensor tensor;
  tensor.holder_ = std::move(owner);
  tensor.data_ = data;
  tensor.shape_ = shape;
  tensor.dtype_ = dtype;
  tensor.device_ = device;
  tensor.format_ = format;
  tensor.defined_ = true;
  return tensor;
}

int64_t Tensor::physical_numel() const { return physical_numel_of(shape_, format_); }

Tensor Tensor::to(Device device) const {
  if (device == device_) return *this;
  Tensor copy = empty(shape_, dtype_, device, format_);
  kernels::copy_bytes(copy.data_, device, data_, device_, nbytes());
  return copy;
}

Tensor Tensor::to_format(MemoryFormat format) const {
  if (format == format_) return *this;
  Tensor result = empty(shape_, dtype_, device_, format);
  kernels::reorder(device_, static_cast<const float*>(data_), format_,
                   static_cast<float*>(result.data_), format, shape_[0], shape_[1], shape_[2],
                   shape_[3]);
  return result;
}

Tensor Tensor::clone() const {
  Tensor copy = empty(shape_, dtype_, device_, format_);
  kernels::copy_bytes(copy.data_, device_, data_, device_, nbytes());
  return copy;
}

Tensor Tensor::reshape(const Shape& shape) const {
  WISE_CHECK(format_ == MemoryFormat::plain, "reshape needs a plain tensor, got ", describe());
  WISE_CHECK(shape.numel() == numel(), "cannot reshape ", describe(), " to ", shape,
             ": element counts differ");
  Tensor view = *this;
  view.shape_ = shape;
  return view;
}

Tensor Tensor::view(int64_t element_offset, const Shape& shape) const {
  WISE_CHECK(format_ == MemoryFormat::plain, "view needs a plain tensor, got ", describe());
  WISE_CHECK(element_offset >= 0 && element_offset + shape.numel() <= numel(), "view of ", shape,
             " at offset ", element_offset, " does not fit in ", describe());
  Tensor result = *this;
  result.data_ = static_cast<char*>(data_) + element_offset * static_cast<int64_t>(dtype_size(dtype_));
  result.shape_ = shape;
  return result;
}

void Tensor::copy_from(const Tensor& source) {
  WISE_CHECK(source.shape_ == shape_ && source.dtype_ == dtype_ && source.format_ == format_,
             "copy_from: destination ", describe(), " does not match source ", source.describe());
  kernels::copy_bytes(data_, device_, source.data_, source.device_, nbytes());
}

void Tensor::fill(float value) {
  if (format_ == MemoryFormat::plain) {
    kernels::fill(device_, data<float>(), value, numel());
    return;
  }
  // The padding channels of a blocked format must stay zero: fill a plain
  // tensor and reorder it into place.
  Tensor plain = empty(shape_, dtype_, device_);
  kernels::fill(device_, plain.data<float>(), value, plain.numel());
  copy_from(plain.to_format(format_));
}

void Tensor::zero() { kernels::zero_bytes(device_, data_, nbytes()); }

template <class T>
std::vector<T> Tensor::to_vector() const {
  check_dtype(dtype_of<T>());
  const Tensor plain = to_format(MemoryFormat::plain).to(Device::cpu);
  const T* begin = static_cast<const T*>(plain.data_);
  return std::vector<T>(begin, begin + numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<int32_t> Tensor::to_vector<int32_t>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
template std::vector<uint8_t> Tensor::to_vector<uint8_t>() const;

std::string Tensor::describe() const {
  if (!defined_) return "undefined tensor";
  return concat(dtype_name(dtype_), shape_, " ", kernels::device_name(device_), " ",
                memory_format_name(format_));
}

void Tensor::check_dtype(DType expected) const {
  WISE_CHECK(defined_, "use of an undefined tensor");
  WISE_CHECK(dtype_ == expected, "tensor ", describe(), " accessed as ", dtype_name(expected));
}

}  // namespace wise
