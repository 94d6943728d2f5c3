// A model's parameters: named views into one contiguous buffer.
//
// After llm.c's malloc_and_point_parameters. A model declares its parameters in
// execution order (stem first) with torchvision's state-dict names; allocate()
// then lays them out in ONE device buffer, with one matching gradient buffer:
//
//   values:    [ trainable, in REVERSE declaration order | pad | frozen ]
//   gradients: [ trainable, same offsets                 | pad ]
//
// Why this shape:
//  - One range is all data-parallel training needs: the gradients are one
//    all-reduce (NCCL or MPI) over trainable_gradients(), and saving, loading or
//    broadcasting the weights is one copy.
//  - Reverse order (heads first, stem last): backward produces gradients from
//    the heads down, so the finished gradients always form one contiguous prefix
//    that a bucketed all-reduce can send while backward continues.
//  - Frozen parameters (torchvision's trainable_layers, frozen BN statistics)
//    sit after the trainable range: no gradient memory, and never all-reduced.
//  - Each parameter starts on a 64-byte boundary (AVX-512 and coalesced loads),
//    and the trainable range is padded to a multiple of 128 bytes x world_size,
//    so it splits into equal, aligned shards for a reduce-scatter.
#pragma once

#include <string>
#include <vector>

#include "nn/tensor.h"

namespace wise {

class ParameterBuffer {
 public:
  // Declares a float32 parameter; call in execution order, before allocate().
  // Returns its index. Names must be unique.
  int add(const std::string& name, const Shape& shape, bool trainable = true);
  // Changes trainability of every parameter whose name starts with `prefix`
  // (before allocate()). Returns how many matched.
  int set_trainable(const std::string& prefix, bool trainable);

  // Lays out and allocates values (zeroed) on `device`. The gradients (zeroed) come
  // with the first call that asks for them: a model that only infers (segment,
  // evaluation) never holds a gradient buffer as large as its weights.
  void allocate(Device device, int world_size = 1);
  bool allocated() const { return values_.defined(); }
  bool has_gradients() const { return gradients_.defined(); }

  int size() const { return static_cast<int>(specs_.size()); }
  int index_of(const std::string& name) const;  // throws naming the unknown parameter
  const std::string& name(int index) const { return specs_[index].name; }
  bool trainable(int index) const { return specs_[index].trainable; }
  // Views into the buffers (writes go to the model's parameters).
  Tensor value(int index) const;
  Tensor gradient(int index) const;  // undefined for frozen parameters
  Tensor value(const std::string& name) const { return value(index_of(name)); }

  // Flat views: the whole value buffer, and the trainable range of both.
  const Tensor& all_values() const { return values_; }
  Tensor trainable_values() const;
  const Tensor& trainable_gradients() const;
  int64_t trainable_numel() const { return trainable_numel_; }  // padding included
  int64_t offset(int index) const { return specs_[index].offset; }  // in floats

  void zero_gradients();

  // (name, value view) in declaration order: the state dict to save or compare.
  // For reading: to write into it, take named_values_to_write().
  std::vector<std::pair<std::string, Tensor>> named_values() const;
  // The same views, to write into (loading a state dict or a checkpoint): marks the
  // parameters changed (see version()).
  std::vector<std::pair<std::string, Tensor>> named_values_to_write();

  // A change counter, so that a model caching values derived from its weights
  // (ResNet's batch norms folded into its convs) notices a load without being told.
  // It grows with every write that may reach any parameter: named_values_to_write()
  // and mark_changed(), which code writing through value() views calls (initialisers).
  // The one write that does not count is the optimizer's step, which updates the
  // trainable range in place after every training step; a model that caches values
  // derived from trainable parameters treats them as changed after every training
  // forward.
  void mark_changed() { ++version_; }
  uint64_t version() const { return version_; }

 private:
  struct Spec {
    std::string name;
    Shape shape;
    bool trainable = true;
    int64_t offset = 0;
  };
  void require_allocated(const char* what) const;
  void ensure_gradients() const;

  std::vector<Spec> specs_;
  std::vector<Tensor> value_views_;
  Tensor values_;
  // Made on first use (ensure_gradients), by const accessors too.
  mutable std::vector<Tensor> gradient_views_;
  mutable Tensor gradients_;
  int64_t trainable_numel_ = 0;
  uint64_t version_ = 0;
};

}  // namespace wise
