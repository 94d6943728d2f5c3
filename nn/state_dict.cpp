#include "nn/state_dict.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>

#include "weights/half_float.h"

namespace wise {

namespace {

SafetensorsDType to_file_dtype(DType dtype) {
  switch (dtype) {
    case DType::float32: return SafetensorsDType::F32;
    case DType::int32: return SafetensorsDType::I32;
    case DType::int64: return SafetensorsDType::I64;
    case DType::uint8: return SafetensorsDType::U8;
  }
  return SafetensorsDType::F32;
}

bool from_file_dtype(SafetensorsDType dtype, DType& out) {
  switch (dtype) {
    case SafetensorsDType::F32: out = DType::float32; return true;
    case SafetensorsDType::F16: out = DType::float32; return true;  // widened exactly on read
    case SafetensorsDType::I32: out = DType::int32; return true;
    case SafetensorsDType::I64: out = DType::int64; return true;
    case SafetensorsDType::U8: out = DType::uint8; return true;
    default: return false;
  }
}

[[noreturn]] void fail(SafetensorsErrorKind kind, const std::string& path, const std::string& message) {
  throw SafetensorsError(kind, path + ": " + message);
}

std::string join(const std::vector<std::string>& names, size_t limit = 8) {
  std::string text;
  for (size_t i = 0; i < names.size() && i < limit; ++i) text += (i ? ", " : "") + names[i];
  if (names.size() > limit) text += concat(", ... (", names.size() - limit, " more)");
  return text;
}

DType checked_dtype(const std::string& path, const SafetensorsEntry& entry) {
  DType dtype;
  if (!from_file_dtype(entry.dtype, dtype)) {
    fail(SafetensorsErrorKind::dtype_mismatch, path,
         concat("tensor \"", entry.name, "\": dtype ", safetensors_dtype_name(entry.dtype),
                " is not supported (wise reads F32, F16 (as float32), I32, I64 and U8; convert the file)"));
  }
  return dtype;
}

Tensor read_entry(SafetensorsReader& reader, const SafetensorsEntry& entry, DType dtype) {
  Tensor tensor = Tensor::empty(Shape(entry.shape), dtype);
  if (entry.dtype == SafetensorsDType::F16) {
    std::vector<uint16_t> halves(static_cast<size_t>(tensor.numel()));
    reader.read(entry, halves.data(), halves.size() * sizeof(uint16_t));
    float* values = tensor.data<float>();
    for (size_t i = 0; i < halves.size(); ++i) values[i] = half_to_float(halves[i]);
    return tensor;
  }
  reader.read(entry, tensor.raw_data(), tensor.nbytes());
  return tensor;
}

bool ignored(const std::string& name, const LoadOptions& options) {
  return std::any_of(options.ignore_prefixes.begin(), options.ignore_prefixes.end(),
                     [&](const std::string& prefix) { return name.rfind(prefix, 0) == 0; });
}

}  // namespace

std::map<std::string, Tensor> read_tensors(const std::string& path) {
  SafetensorsReader reader(path);
  std::map<std::string, Tensor> tensors;
  for (const SafetensorsEntry& entry : reader.header().entries) {
    tensors.emplace(entry.name, read_entry(reader, entry, checked_dtype(path, entry)));
  }
  return tensors;
}

void write_tensors(const std::string& path, const NamedTensors& tensors,
                   const std::map<std::string, std::string>& metadata, StoredFloat stored_float) {
  std::vector<Tensor> host;  // keeps the plain CPU copies alive while writing
  std::vector<std::vector<uint16_t>> halves;  // and the F16 copies
  std::vector<SafetensorsWriteEntry> entries;
  host.reserve(tensors.size());
  halves.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    WISE_CHECK(tensor.defined(), path, ": tensor \"", name, "\" is undefined");
    host.push_back(tensor.to_format(MemoryFormat::plain).to(Device::cpu));
    if (stored_float == StoredFloat::f16 && tensor.dtype() == DType::float32) {
      const float* values = host.back().data<float>();
      std::vector<uint16_t>& half = halves.emplace_back(static_cast<size_t>(tensor.numel()));
      for (size_t i = 0; i < half.size(); ++i) {
        WISE_CHECK(std::isfinite(values[i]) && std::fabs(values[i]) <= 65504.0f, path, ": tensor \"", name,
                   "\" holds ", values[i], ", which F16 cannot store (finite, |x| <= 65504); write it as F32");
        half[i] = float_to_half(values[i]);
      }
      entries.push_back({name, SafetensorsDType::F16, tensor.shape().to_vector(), half.data()});
      continue;
    }
    entries.push_back({name, to_file_dtype(tensor.dtype()), tensor.shape().to_vector(),
                       host.back().raw_data()});
  }
  write_safetensors_file(path, entries, metadata);
}

LoadReport load_into(const std::string& path, const NamedTensors& targets, const LoadOptions& options) {
  SafetensorsReader reader(path);
  const SafetensorsHeader& header = reader.header();
  LoadReport report;
  report.metadata = header.metadata;

  // Check everything first: names both ways, then shape and dtype.
  std::set<std::string> target_names;
  for (const auto& [name, tensor] : targets) {
    target_names.insert(name);
    if (!header.find(name)) report.missing.push_back(name);
  }
  for (const SafetensorsEntry& entry : header.entries) {
    if (!target_names.count(entry.name)) report.unexpected.push_back(entry.name);
  }
  if (!report.missing.empty() && !options.allow_missing) {
    fail(SafetensorsErrorKind::missing_tensor, path,
         concat("missing ", report.missing.size(), " tensor(s) the model needs: ",
                join(report.missing)));
  }
  std::vector<std::string> refused;
  for (const std::string& name : report.unexpected) {
    if (!options.allow_unexpected && !ignored(name, options)) refused.push_back(name);
  }
  if (!refused.empty()) {
    fail(SafetensorsErrorKind::unexpected_tensor, path,
         concat(refused.size(), " unexpected tensor(s) the model has no place for: ", join(refused),
                " (allow them with allow_unexpected, or skip a group with ignore_prefixes)"));
  }
  for (const auto& [name, tensor] : targets) {
    const SafetensorsEntry* entry = header.find(name);
    if (!entry) continue;
    const DType file_dtype = checked_dtype(path, *entry);
    if (file_dtype != tensor.dtype()) {
      fail(SafetensorsErrorKind::dtype_mismatch, path,
           concat("tensor \"", name, "\": dtype mismatch: expected ",
                  safetensors_dtype_name(to_file_dtype(tensor.dtype())), ", found ",
                  safetensors_dtype_name(entry->dtype)));
    }
    if (Shape(entry->shape) != tensor.shape()) {
      fail(SafetensorsErrorKind::shape_mismatch, path,
           concat("tensor \"", name, "\": shape mismatch: expected ", tensor.shape(), ", found ",
                  Shape(entry->shape)));
    }
  }

  // Then copy.
  for (const auto& [name, tensor] : targets) {
    const SafetensorsEntry* entry = header.find(name);
    if (!entry) continue;
    Tensor destination = tensor;  // a handle: writes go to the target's buffer
    if (destination.device() == Device::cpu && destination.format() == MemoryFormat::plain &&
        entry->dtype != SafetensorsDType::F16) {
      reader.read(*entry, destination.raw_data(), destination.nbytes());
    } else {
      destination.copy_from(read_entry(reader, *entry, tensor.dtype())
                                .to_format(destination.format())
                                .to(destination.device()));
    }
    report.loaded.push_back(name);
  }
  return report;
}

}  // namespace wise
