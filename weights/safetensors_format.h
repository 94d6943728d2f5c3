// The safetensors file format, in memory: parse a header, serialize one.
//
// A safetensors file is
//   [8 bytes]  N, the header size, a little-endian uint64
//   [N bytes]  UTF-8 JSON: {"<tensor name>": {"dtype": "F32", "shape": [64, 3, 7, 7],
//                                            "data_offsets": [begin, end]}, ...,
//                           "__metadata__": {"<key>": "<string>", ...}}   (optional)
//   [rest]     the data block; each tensor's raw little-endian bytes are [begin, end) of it.
// Writers pad the JSON with trailing spaces so the data block starts at a multiple of 8.
//
// The parser enforces what the reference implementation (huggingface/safetensors) enforces:
// header at most 100 MB, known dtypes, non-negative integer dims, end - begin == numel *
// dtype size, and tensors that tile the data block exactly (no overlap, no gap, no trailing
// bytes). It is stricter in one place: a repeated JSON key (two entries for one tensor) is
// an error, not "last one wins".
//
// This layer knows bytes and names, not tensors or devices: it depends only on the C++
// standard library (nlohmann-json stays inside the .cpp), so the fuzz build
// (tests/fuzz) compiles it alone. Reading and writing files is safetensors_file.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace wise {

// The reference implementation's cap on N; anything larger is not a safetensors file.
constexpr uint64_t kSafetensorsMaxHeaderBytes = 100000000;

// Element types, spelled as in the file. Sub-byte types (F4, F6_*) are not supported.
enum class SafetensorsDType { BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, I64, U64, F64 };

const char* safetensors_dtype_name(SafetensorsDType dtype);                     // "F32"
std::optional<SafetensorsDType> safetensors_dtype_from_name(const std::string& name);  // nullopt if unknown
uint64_t safetensors_dtype_size(SafetensorsDType dtype);                        // bytes per element
std::string safetensors_dtype_names();  // "BOOL, U8, ..., F64", for error messages

// numel(shape) * dtype size; nullopt for a negative dim or a product that overflows uint64.
// A 0-d shape [] is a scalar (1 element); any dim of 0 gives 0 bytes.
std::optional<uint64_t> safetensors_byte_size(SafetensorsDType dtype, const std::vector<int64_t>& shape);
std::string safetensors_shape_string(const std::vector<int64_t>& shape);  // "[64, 3, 7, 7]"

// One malformation class per value, so tests and callers can tell them apart.
enum class SafetensorsErrorKind {
  header_too_large,      // header size field > kSafetensorsMaxHeaderBytes
  not_safetensors,       // another format recognised by its first bytes (a PyTorch .pth: zip or pickle)
  truncated,             // file shorter than 8 bytes, than its header, or than the data it describes
  invalid_json,          // header is not JSON, not an object, or repeats a key
  bad_field,             // entry not an object; dtype/shape/data_offsets missing or wrongly typed
  unknown_dtype,         // dtype string not in SafetensorsDType
  bad_shape,             // a dim that is negative, fractional or > INT64_MAX
  reversed_offsets,      // data_offsets [begin, end) with end < begin
  offsets_out_of_range,  // a tensor lies (partly) past the end of the data block
  size_mismatch,         // end - begin != numel * dtype size
  overlapping,           // two tensors share bytes
  not_covering,          // bytes of the data block belong to no tensor (gap or trailing bytes)
  bad_metadata,          // "__metadata__" not an object of string -> string
  missing_tensor,        // lookup of a name the file does not hold
  file_not_found,        // (file layer) no file at the path
  io_error,              // (file layer) open/read/write/fsync/rename failed
  invalid_argument,      // caller misuse: duplicate names, wrong buffer size, null data
  // Loading into a model (nn/state_dict.h):
  unexpected_tensor,     // the file holds tensors the model has no place for
  shape_mismatch,        // a tensor's shape differs from the model's
  dtype_mismatch,        // a tensor's dtype differs from the model's
};
const char* safetensors_error_kind_name(SafetensorsErrorKind kind);  // "size_mismatch"

// The one exception type of weights/. what() starts with the file (or source) name, then
// the tensor if there is one, then expected vs found:
//   model.safetensors: tensor "conv1.weight": data_offsets [0, 100) hold 100 bytes,
//   but shape [64, 3, 7, 7] of F32 needs 37632
class SafetensorsError : public std::runtime_error {
 public:
  SafetensorsError(SafetensorsErrorKind kind, const std::string& message);
  SafetensorsErrorKind kind() const noexcept { return kind_; }

 private:
  SafetensorsErrorKind kind_;
};

struct SafetensorsEntry {
  std::string name;
  SafetensorsDType dtype = SafetensorsDType::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // [begin, end): byte offsets into the data block, not into the file
  uint64_t end = 0;

  uint64_t byte_size() const { return end - begin; }
};

struct SafetensorsHeader {
  std::string source_name;                       // the file path, for error messages
  std::vector<SafetensorsEntry> entries;         // sorted by (begin, end): the order of the bytes
  std::map<std::string, std::string> metadata;  // "__metadata__", empty if absent
  uint64_t data_offset = 0;                      // 8 + N: where the data block starts in the file
  uint64_t data_size = 0;                        // bytes in the data block

  // Linear scans: a detection model has a few hundred tensors and each is looked up once.
  const SafetensorsEntry* find(const std::string& name) const;  // nullptr if absent
  const SafetensorsEntry& at(const std::string& name) const;    // throws missing_tensor
};

// Validates the 8-byte size field and returns N. `bytes` must hold min(file_size, 8) bytes.
// Throws truncated (file_size < 8 or 8 + N > file_size) or header_too_large, or
// not_safetensors where the size field is impossible and the first bytes are a format
// users mistake for safetensors (a PyTorch .pth), naming it and the converter.
uint64_t parse_safetensors_header_size(const uint8_t* bytes, uint64_t file_size,
                                       const std::string& source_name);

// Parses and validates the header of a file of file_size bytes. `bytes` must hold the
// first min(file_size, 8 + N) bytes of the file: pass the whole file (fuzzer, tests) or
// only its header (the file layer reads 8 bytes, then N, never the data). All layout
// checks use file_size, so the data block itself is never read.
SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, uint64_t file_size,
                                           const std::string& source_name);

// The 8-byte size field + compact JSON (metadata first, then entries in the given order)
// + spaces so the data block starts at a multiple of 8. The entries must tile
// [0, max end) exactly; the result is re-parsed before it is returned, so this never
// produces a header that parse_safetensors_header rejects. `destination_name` names the
// file in errors (duplicate names, "__metadata__" as a tensor name, bad layout).
std::string serialize_safetensors_header(const std::vector<SafetensorsEntry>& entries,
                                         const std::map<std::string, std::string>& metadata,
                                         const std::string& destination_name = "safetensors header");

}  // namespace wise
