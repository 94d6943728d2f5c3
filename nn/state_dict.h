// Tensors in files: save and load named tensors as safetensors.
//
// A state dict is an ordered list of (name, tensor) with torchvision's dotted
// names ("layer1.0.conv1.weight"). Loading is a name lookup and a copy into
// tensors that already exist (typically views into a model's one parameter
// buffer, nn/parameter_buffer.h), so it checks everything a mismatch can break:
// a name the model needs but the file lacks (missing), a name the file has but
// the model does not (unexpected, allowed only when asked), and shape and dtype,
// each error naming the file and the tensor with expected vs found.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "nn/tensor.h"
#include "weights/safetensors_file.h"

namespace wise {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// Every tensor of the file, on the CPU in plain layout. Files may hold F32, F16
// (read as float32, exactly: weights/half_float.h), I32, I64 and U8 tensors; any
// other dtype is a dtype_mismatch naming it.
std::map<std::string, Tensor> read_tensors(const std::string& path);

// How float32 tensors are stored: as they are, or rounded to F16 (to nearest even), half
// the bytes, for weights shipped in the repository (a value F16 cannot hold, non-finite or
// beyond 65504, is an error naming the tensor). Other dtypes are stored as they are.
enum class StoredFloat { f32, f16 };

// Writes the tensors (any device or memory format: they are written as plain
// NCHW) in the given order, atomically (see write_safetensors_file).
void write_tensors(const std::string& path, const NamedTensors& tensors,
                   const std::map<std::string, std::string>& metadata = {},
                   StoredFloat stored_float = StoredFloat::f32);

struct LoadOptions {
  // File tensors with no target are an error unless allowed here...
  bool allow_unexpected = false;
  // ...or their names start with one of these (e.g. "fc." for an ImageNet
  // classifier's head when loading a detection backbone).
  std::vector<std::string> ignore_prefixes;
  // Targets the file lacks are an error unless allowed (they keep their values).
  bool allow_missing = false;
};

struct LoadReport {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;     // only when allow_missing
  std::vector<std::string> unexpected;  // file names not loaded (allowed or ignored)
  std::map<std::string, std::string> metadata;
};

// Copies each file tensor into the target of the same name (on its device and
// in its memory format); an F16 file tensor fills a float32 target. All checks happen before any target is written, so a
// failed load leaves the model as it was.
LoadReport load_into(const std::string& path, const NamedTensors& targets,
                     const LoadOptions& options = {});

}  // namespace wise
