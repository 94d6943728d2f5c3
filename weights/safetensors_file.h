// Safetensors files on disk: read a header, read tensors' raw bytes, write a file atomically.
//
// Raw bytes only: the caller (nn/state_dict.*) owns dtypes, shapes and devices and
// hands this layer host buffers of exactly the entry's byte size. Data is little-endian,
// which is also the host order: the build refuses big-endian hosts.
//
// Every error is a SafetensorsError (safetensors_format.h) whose message starts with the
// path: file_not_found, io_error (with the errno text), truncated, or a format error.
#pragma once

#include <cstddef>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "weights/safetensors_format.h"

namespace wise {

// Opens a file and parses its header (reading 8 + N bytes, never the data block); then
// reads any number of tensors through the one open stream. Movable, not copyable.
class SafetensorsReader {
 public:
  explicit SafetensorsReader(const std::string& path);

  const std::string& path() const { return path_; }
  const SafetensorsHeader& header() const { return header_; }

  // Copies the entry's bytes into dst, which must hold exactly entry.byte_size() bytes
  // (dst_bytes is checked: a wrong size is invalid_argument, not a silent overrun). The
  // entry must come from this reader's header(). Throws truncated if the file shrank
  // since it was opened.
  void read(const SafetensorsEntry& entry, void* dst, size_t dst_bytes);
  void read(const std::string& name, void* dst, size_t dst_bytes);  // header().at(name)

 private:
  std::string path_;
  std::ifstream stream_;
  SafetensorsHeader header_;
};

// One-shot conveniences; to read many tensors, keep one SafetensorsReader.
SafetensorsHeader read_safetensors_header(const std::string& path);
void read_safetensors_entry(const std::string& path, const SafetensorsEntry& entry, void* dst, size_t dst_bytes);

// A tensor to write: its raw little-endian bytes at `data`, safetensors_byte_size(dtype,
// shape) of them (`data` may be null only when that is 0).
struct SafetensorsWriteEntry {
  std::string name;
  SafetensorsDType dtype = SafetensorsDType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
};

// Writes the tensors back to back in the given order, after a header padded so the data
// block starts at a multiple of 8. Atomic: the bytes go to `path + ".tmp.<pid>"`, which is
// fsync'ed and renamed over `path`, then the directory is fsync'ed; so `path` holds either
// its old content or the complete new file, even after a crash. On failure the temporary
// file is removed and io_error names the path and the errno text.
void write_safetensors_file(const std::string& path, const std::vector<SafetensorsWriteEntry>& tensors,
                            const std::map<std::string, std::string>& metadata = {});

}  // namespace wise
