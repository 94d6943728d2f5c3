// Safetensors files on disk; see safetensors_file.h.
#include "weights/safetensors_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

// Tensors are copied between the file and memory without byte swapping.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; big-endian hosts are not supported");

namespace wise {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(SafetensorsErrorKind kind, const std::string& path, const std::string& detail) {
  throw SafetensorsError(kind, path + ": " + detail);
}

// Captures errno at the failing call, before any cleanup can overwrite it.
[[noreturn]] void fail_errno(const std::string& path, const std::string& what, int error_number) {
  fail(SafetensorsErrorKind::io_error, path, what + ": " + std::generic_category().message(error_number));
}

// Reads up to `count` bytes; returns how many arrived (fewer only at end of file).
uint64_t read_bytes(std::ifstream& stream, void* dst, uint64_t count) {
  stream.read(static_cast<char*>(dst), static_cast<std::streamsize>(count));
  return static_cast<uint64_t>(stream.gcount());
}

void write_all(int fd, const void* data, uint64_t count, const std::string& path, const std::string& temp) {
  const char* bytes = static_cast<const char*>(data);
  while (count > 0) {
    // Linux transfers at most 0x7ffff000 bytes per write(); ask for 1 GiB at a time.
    const ssize_t written = ::write(fd, bytes, static_cast<size_t>(std::min<uint64_t>(count, 1ull << 30)));
    if (written < 0) {
      if (errno == EINTR) continue;
      fail_errno(path, "cannot write temporary file " + temp, errno);
    }
    bytes += written;
    count -= static_cast<uint64_t>(written);
  }
}

// Makes the rename itself durable: without this a crash can lose the new directory entry.
void fsync_directory(const std::string& path) {
  std::string directory = fs::path(path).parent_path().string();
  if (directory.empty()) directory = ".";
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail_errno(path, "file written, but cannot open its directory " + directory + " to fsync it", errno);
  if (::fsync(fd) != 0) {
    const int error_number = errno;
    ::close(fd);
    fail_errno(path, "file written, but fsync of its directory " + directory + " failed", error_number);
  }
  ::close(fd);
}

}  // namespace

SafetensorsReader::SafetensorsReader(const std::string& path) : path_(path) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (status.type() == fs::file_type::not_found) {
    fail(SafetensorsErrorKind::file_not_found, path, "no such file (expected a .safetensors file)");
  }
  if (error) fail(SafetensorsErrorKind::io_error, path, "cannot stat: " + error.message());
  if (fs::is_directory(status)) {
    fail(SafetensorsErrorKind::io_error, path, "is a directory, expected a .safetensors file");
  }
  const uint64_t file_size = fs::file_size(path, error);
  if (error) fail(SafetensorsErrorKind::io_error, path, "cannot get the file size: " + error.message());

  stream_.open(path, std::ios::binary);
  if (!stream_) fail_errno(path, "cannot open for reading", errno);

  // Read the size field first, so a corrupt one cannot make us allocate more than 100 MB.
  uint8_t prefix[8] = {};
  const uint64_t prefix_size = std::min<uint64_t>(8, file_size);
  if (read_bytes(stream_, prefix, prefix_size) != prefix_size) {
    fail_errno(path, "cannot read the header size field", errno);
  }
  const uint64_t header_size = parse_safetensors_header_size(prefix, file_size, path);

  std::vector<uint8_t> bytes(8 + header_size);
  std::copy(prefix, prefix + 8, bytes.begin());
  const uint64_t got = read_bytes(stream_, bytes.data() + 8, header_size);
  if (got != header_size) {
    fail(SafetensorsErrorKind::truncated, path,
         "read " + std::to_string(got) + " of the " + std::to_string(header_size) +
             " header bytes before the file ended (was it modified while being opened?)");
  }
  header_ = parse_safetensors_header(bytes.data(), file_size, path);
}

void SafetensorsReader::read(const SafetensorsEntry& entry, void* dst, size_t dst_bytes) {
  const SafetensorsEntry* own = header_.find(entry.name);
  if (!own || own->begin != entry.begin || own->end != entry.end) {
    fail(SafetensorsErrorKind::invalid_argument, path_,
         "tensor \"" + entry.name + "\" at the given offsets is not an entry of this file's header");
  }
  if (dst_bytes != entry.byte_size()) {
    fail(SafetensorsErrorKind::invalid_argument, path_,
         "tensor \"" + entry.name + "\": destination buffer holds " + std::to_string(dst_bytes) +
             " bytes, but shape " + safetensors_shape_string(entry.shape) + " of " +
             safetensors_dtype_name(entry.dtype) + " needs " + std::to_string(entry.byte_size()));
  }
  if (entry.byte_size() == 0) return;
  stream_.clear();  // a previous short read leaves eof/fail set
  stream_.seekg(static_cast<std::streamoff>(header_.data_offset + entry.begin));
  const uint64_t got = read_bytes(stream_, dst, entry.byte_size());
  if (got != entry.byte_size()) {
    fail(SafetensorsErrorKind::truncated, path_,
         "tensor \"" + entry.name + "\": read " + std::to_string(got) + " of " + std::to_string(entry.byte_size()) +
             " bytes before the file ended (was it modified after it was opened?)");
  }
}

void SafetensorsReader::read(const std::string& name, void* dst, size_t dst_bytes) {
  read(header_.at(name), dst, dst_bytes);
}

SafetensorsHeader read_safetensors_header(const std::string& path) { return SafetensorsReader(path).header(); }

void read_safetensors_entry(const std::string& path, const SafetensorsEntry& entry, void* dst, size_t dst_bytes) {
  SafetensorsReader(path).read(entry, dst, dst_bytes);
}

void write_safetensors_file(const std::string& path, const std::vector<SafetensorsWriteEntry>& tensors,
                            const std::map<std::string, std::string>& metadata) {
  std::vector<SafetensorsEntry> entries;
  uint64_t offset = 0;
  for (const auto& tensor : tensors) {
    const auto bytes = safetensors_byte_size(tensor.dtype, tensor.shape);
    if (!bytes) {
      fail(SafetensorsErrorKind::bad_shape, path,
           "tensor \"" + tensor.name + "\": shape " + safetensors_shape_string(tensor.shape) + " of " +
               safetensors_dtype_name(tensor.dtype) + " has a negative dim or more than 2^64 bytes");
    }
    if (*bytes > 0 && tensor.data == nullptr) {
      fail(SafetensorsErrorKind::invalid_argument, path,
           "tensor \"" + tensor.name + "\": data is null, expected " + std::to_string(*bytes) + " bytes");
    }
    entries.push_back({tensor.name, tensor.dtype, tensor.shape, offset, offset + *bytes});
    offset += *bytes;
  }
  // Validates names and layout before anything touches the disk.
  const std::string header = serialize_safetensors_header(entries, metadata, path);

  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail_errno(path, "cannot create temporary file " + temp, errno);
  try {
    write_all(fd, header.data(), header.size(), path, temp);
    for (size_t i = 0; i < tensors.size(); ++i) {
      write_all(fd, tensors[i].data, entries[i].byte_size(), path, temp);
    }
    if (::fsync(fd) != 0) fail_errno(path, "cannot fsync temporary file " + temp, errno);
    const int closed = ::close(fd);
    fd = -1;
    if (closed != 0) fail_errno(path, "cannot close temporary file " + temp, errno);
    if (::rename(temp.c_str(), path.c_str()) != 0) fail_errno(path, "cannot rename " + temp + " over it", errno);
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
  fsync_directory(path);
}

}  // namespace wise
