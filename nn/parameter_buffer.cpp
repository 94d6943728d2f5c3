#include "nn/parameter_buffer.h"

namespace wise {

namespace {

constexpr int64_t kParameterAlignment = 16;  // floats: 64 bytes
constexpr int64_t kShardQuantum = 32;        // floats: 128 bytes

int64_t round_up(int64_t value, int64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

}  // namespace

int ParameterBuffer::add(const std::string& name, const Shape& shape, bool trainable) {
  WISE_CHECK(!allocated(), "parameter \"", name, "\" added after allocate()");
  for (const Spec& spec : specs_) {
    WISE_CHECK(spec.name != name, "parameter \"", name, "\" declared twice");
  }
  specs_.push_back({name, shape, trainable, 0});
  return size() - 1;
}

int ParameterBuffer::set_trainable(const std::string& prefix, bool trainable) {
  WISE_CHECK(!allocated(), "set_trainable(\"", prefix, "\") after allocate()");
  int matched = 0;
  for (Spec& spec : specs_) {
    if (spec.name.rfind(prefix, 0) == 0) {
      spec.trainable = trainable;
      ++matched;
    }
  }
  return matched;
}

void ParameterBuffer::allocate(Device device, int world_size) {
  WISE_CHECK(!allocated(), "ParameterBuffer::allocate called twice");
  WISE_CHECK(world_size >= 1, "world_size must be >= 1, got ", world_size);
  // Trainable parameters in reverse declaration order, then the frozen ones.
  int64_t cursor = 0;
  for (auto spec = specs_.rbegin(); spec != specs_.rend(); ++spec) {
    if (!spec->trainable) continue;
    spec->offset = cursor;
    cursor = round_up(cursor + spec->shape.numel(), kParameterAlignment);
  }
  trainable_numel_ = round_up(cursor, kShardQuantum * world_size);
  cursor = trainable_numel_;
  for (Spec& spec : specs_) {
    if (spec.trainable) continue;
    spec.offset = cursor;
    cursor = round_up(cursor + spec.shape.numel(), kParameterAlignment);
  }

  values_ = Tensor::zeros({cursor}, DType::float32, device);
  // Views share the buffers' handles, so each one keeps its buffer alive.
  for (const Spec& spec : specs_) value_views_.push_back(values_.view(spec.offset, spec.shape));
  mark_changed();
}

void ParameterBuffer::ensure_gradients() const {
  if (gradients_.defined()) return;
  gradients_ = Tensor::zeros({trainable_numel_}, DType::float32, values_.device());
  for (const Spec& spec : specs_)
    gradient_views_.push_back(spec.trainable ? gradients_.view(spec.offset, spec.shape) : Tensor());
}

const Tensor& ParameterBuffer::trainable_gradients() const {
  require_allocated("trainable_gradients");
  ensure_gradients();
  return gradients_;
}

int ParameterBuffer::index_of(const std::string& name) const {
  for (int i = 0; i < size(); ++i) {
    if (specs_[i].name == name) return i;
  }
  throw Error(concat("no parameter named \"", name, "\" (", size(), " parameters declared)"));
}

Tensor ParameterBuffer::value(int index) const {
  require_allocated("value");
  return value_views_.at(static_cast<size_t>(index));
}

Tensor ParameterBuffer::gradient(int index) const {
  require_allocated("gradient");
  ensure_gradients();
  return gradient_views_.at(static_cast<size_t>(index));
}

Tensor ParameterBuffer::trainable_values() const {
  require_allocated("trainable_values");
  return values_.view(0, {trainable_numel_});
}

void ParameterBuffer::zero_gradients() {
  require_allocated("zero_gradients");
  if (gradients_.defined()) gradients_.zero();
  else ensure_gradients();
}

std::vector<std::pair<std::string, Tensor>> ParameterBuffer::named_values() const {
  require_allocated("named_values");
  std::vector<std::pair<std::string, Tensor>> named;
  for (int i = 0; i < size(); ++i) named.emplace_back(specs_[i].name, value_views_[i]);
  return named;
}

std::vector<std::pair<std::string, Tensor>> ParameterBuffer::named_values_to_write() {
  mark_changed();
  return named_values();
}

void ParameterBuffer::require_allocated(const char* what) const {
  WISE_CHECK(allocated(), "ParameterBuffer::", what, " before allocate()");
}

}  // namespace wise
