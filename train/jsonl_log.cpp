#include "train/jsonl_log.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "data/atomic_file.h"
#include "kernels/check.h"

namespace wise {

namespace {

namespace fs = std::filesystem;
using OrderedJson = nlohmann::ordered_json;

std::FILE* open_for_append(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "a");
  WISE_CHECK(file != nullptr, path, ": cannot open the training log for appending: ", std::strerror(errno));
  return file;
}

void create_parent_directory(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code error;
  fs::create_directories(parent, error);
  WISE_CHECK(!error, path, ": cannot create the log's directory: ", error.message());
}

// True for a line a run resumed after `iteration` steps keeps.
bool keep_line(const std::string& line, int64_t iteration) {
  const OrderedJson record = OrderedJson::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!record.is_object()) return false;  // also a torn line: parse failed (discarded)
  const auto step = record.find("step");
  return step != record.end() && step->is_number_integer() && step->get<int64_t>() <= iteration;
}

}  // namespace

LogRecord& LogRecord::add(const std::string& key, double value) {
  fields_.emplace_back(key, value);
  return *this;
}

LogRecord& LogRecord::add(const std::string& key, int64_t value) {
  fields_.emplace_back(key, value);
  return *this;
}

LogRecord& LogRecord::add(const std::string& key, bool value) {
  fields_.emplace_back(key, value);
  return *this;
}

LogRecord& LogRecord::add(const std::string& key, const std::string& value) {
  fields_.emplace_back(key, value);
  return *this;
}

std::string LogRecord::to_json() const {
  OrderedJson object = OrderedJson::object();
  for (const auto& [key, value] : fields_) {
    if (const double* number = std::get_if<double>(&value)) {
      if (std::isnan(*number)) {
        object[key] = "nan";
      } else if (std::isinf(*number)) {
        object[key] = *number > 0 ? "inf" : "-inf";
      } else {
        object[key] = *number;
      }
    } else if (const int64_t* integer = std::get_if<int64_t>(&value)) {
      object[key] = *integer;
    } else if (const bool* flag = std::get_if<bool>(&value)) {
      object[key] = *flag;
    } else {
      object[key] = std::get<std::string>(value);
    }
  }
  return object.dump();
}

JsonlLog JsonlLog::create(const std::string& path) {
  create_parent_directory(path);
  std::FILE* file = std::fopen(path.c_str(), "w");
  WISE_CHECK(file != nullptr, path, ": cannot create the training log: ", std::strerror(errno));
  return JsonlLog(path, file);
}

JsonlLog JsonlLog::resume(const std::string& path, int64_t iteration) {
  create_parent_directory(path);
  std::error_code error;
  if (fs::exists(path, error)) {
    std::ifstream in(path, std::ios::binary);
    WISE_CHECK(in.good(), path, ": cannot read the training log to resume it: ", std::strerror(errno));
    std::string kept, line;
    while (std::getline(in, line)) {
      if (keep_line(line, iteration)) kept += line + "\n";
    }
    data::write_file_atomically(path, kept);
  }
  return JsonlLog(path, open_for_append(path));
}

JsonlLog::JsonlLog(JsonlLog&& other) noexcept : path_(std::move(other.path_)), file_(other.file_) {
  other.file_ = nullptr;
}

JsonlLog& JsonlLog::operator=(JsonlLog&& other) noexcept {
  if (this != &other) {
    if (file_) std::fclose(file_);
    path_ = std::move(other.path_);
    file_ = other.file_;
    other.file_ = nullptr;
  }
  return *this;
}

JsonlLog::~JsonlLog() {
  if (file_) std::fclose(file_);
}

void JsonlLog::write(const LogRecord& record) {
  WISE_CHECK(file_ != nullptr, "JsonlLog: write to a closed log");
  const std::string line = record.to_json() + "\n";
  const bool written = std::fwrite(line.data(), 1, line.size(), file_) == line.size() && std::fflush(file_) == 0;
  WISE_CHECK(written, path_, ": cannot write to the training log: ", std::strerror(errno));
}

bool jsonl_log_has_event(const std::string& path, const std::string& event, int64_t step) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const auto record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (record.is_object() && record.value("event", "") == event && record.value("step", int64_t{-1}) == step) {
      return true;
    }
  }
  return false;
}

}  // namespace wise
