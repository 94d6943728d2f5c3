// Atomic whole-file writes and whole-file reads (see atomic_file.h).
#include "data/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace wise::data {
namespace {

// Takes errno as captured at the failing call, before cleanup can overwrite it.
[[noreturn]] void fail_errno(const std::string& path, const std::string& what, int error_number) {
  throw std::runtime_error(path + ": " + what + ": " +
                           std::generic_category().message(error_number));
}

void write_all(int fd, const std::string& contents, const std::string& path,
               const std::string& temp) {
  const char* bytes = contents.data();
  size_t left = contents.size();
  while (left > 0) {
    // Linux transfers at most 0x7ffff000 bytes per write(); ask for 1 GiB at a time.
    const ssize_t written = ::write(fd, bytes, std::min<size_t>(left, size_t{1} << 30));
    if (written < 0) {
      if (errno == EINTR) continue;
      fail_errno(path, "cannot write temporary file " + temp, errno);
    }
    bytes += written;
    left -= static_cast<size_t>(written);
  }
}

// Makes the rename itself durable: without this a crash can lose the new directory entry.
void fsync_directory(const std::string& path) {
  std::string directory = std::filesystem::path(path).parent_path().string();
  if (directory.empty()) directory = ".";
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    fail_errno(path, "file written, but cannot open its directory " + directory + " to fsync it",
               errno);
  }
  if (::fsync(fd) != 0) {
    const int error_number = errno;
    ::close(fd);
    fail_errno(path, "file written, but fsync of its directory " + directory + " failed",
               error_number);
  }
  ::close(fd);
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& contents, bool sync) {
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail_errno(path, "cannot create temporary file " + temp, errno);
  try {
    write_all(fd, contents, path, temp);
    if (sync && ::fsync(fd) != 0) fail_errno(path, "cannot fsync temporary file " + temp, errno);
    const int closed = ::close(fd);
    fd = -1;
    if (closed != 0) fail_errno(path, "cannot close temporary file " + temp, errno);
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      fail_errno(path, "cannot rename " + temp + " over it", errno);
    }
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
  if (sync) fsync_directory(path);
}

std::string read_whole_file(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    throw std::runtime_error(path + ": is a directory, expected a file");
  }
  std::ifstream stream(path, std::ios::binary);
  if (!stream) fail_errno(path, "cannot open", errno);
  std::ostringstream contents;
  contents << stream.rdbuf();
  if (stream.bad()) fail_errno(path, "cannot read", errno);
  return contents.str();
}

}  // namespace wise::data
