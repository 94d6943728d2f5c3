// The training log: one JSON object per line (JSON Lines), e.g.
//
//   {"step":20,"lr":0.0025,"loss":1.93,"loss_classifier":1.2,"grad_norm":4.1,"time":1767225600.25}
//
// Every record the training loop writes has an integer "step": the number of
// optimizer steps completed, the same count that names the checkpoints. Each
// line is written whole and flushed, so `tail -f` and a plotting script see
// complete lines, and a killed run loses at most the line being written.
//
// Resuming from the checkpoint of iteration k keeps the lines with step <= k and
// drops the rest (steps the resumed run will redo, and a torn last line), then
// appends: the log of a resumed run reads as if it had never stopped. The
// rewrite is atomic (temporary file, fsync, rename).
//
// Numbers that JSON cannot hold (NaN, +-Inf, as a NaN-guard record reports
// them) are written as the strings "nan", "inf" and "-inf".
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace wise {

// One log line's fields, in insertion order.
class LogRecord {
 public:
  LogRecord& add(const std::string& key, double value);
  LogRecord& add(const std::string& key, int64_t value);
  LogRecord& add(const std::string& key, int value) { return add(key, static_cast<int64_t>(value)); }
  LogRecord& add(const std::string& key, bool value);
  LogRecord& add(const std::string& key, const std::string& value);
  LogRecord& add(const std::string& key, const char* value) { return add(key, std::string(value)); }

  // The compact JSON object, without a newline. A repeated key keeps its last value
  // at its first position.
  std::string to_json() const;

 private:
  using Value = std::variant<double, int64_t, bool, std::string>;
  std::vector<std::pair<std::string, Value>> fields_;
};

class JsonlLog {
 public:
  // Starts a new log at `path` (creating its directory; an old file is replaced).
  static JsonlLog create(const std::string& path);
  // Continues the log of a run resumed after `iteration` steps: keeps the lines
  // that parse as JSON objects with an integer "step" <= iteration, drops every
  // other line, and appends after them. A missing file starts empty.
  static JsonlLog resume(const std::string& path, int64_t iteration);

  JsonlLog(JsonlLog&& other) noexcept;
  JsonlLog& operator=(JsonlLog&& other) noexcept;
  JsonlLog(const JsonlLog&) = delete;
  JsonlLog& operator=(const JsonlLog&) = delete;
  ~JsonlLog();

  // Appends one line and flushes it to the operating system.
  void write(const LogRecord& record);
  const std::string& path() const { return path_; }

 private:
  JsonlLog(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}

  std::string path_;
  std::FILE* file_ = nullptr;
};

// Whether the log at `path` holds a record {"event": event, "step": step}: what a
// trainer asks before appending a once-per-run record (the validation at the end)
// again when a finished run is resumed.
bool jsonl_log_has_event(const std::string& path, const std::string& event, int64_t step);

}  // namespace wise
