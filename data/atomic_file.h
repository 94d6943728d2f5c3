// Writing a whole file atomically: the bytes go to a temporary file in the same
// directory (`path + ".tmp.<pid>"`), which is fsync'ed and renamed over `path`, and the
// directory is then fsync'ed. A crash leaves `path` with either its old content or the
// complete new file, never half of one. (weights/safetensors_file.cpp does the same for
// checkpoints with its own error type; data/ files use this one.)
#pragma once

#include <string>

namespace wise::data {

// Throws std::runtime_error naming `path` and the system's reason (e.g. "No such file
// or directory" when the folder is missing). On failure the temporary file is removed.
// sync = false skips both fsyncs (still temporary file + rename, so never half a file
// under `path`): for bulk writes whose completeness is marked by one synced file at
// the end, as a generated dataset's.
void write_file_atomically(const std::string& path, const std::string& contents, bool sync = true);

// The whole file as bytes; throws std::runtime_error naming `path` if it cannot be read.
std::string read_whole_file(const std::string& path);

}  // namespace wise::data
