#include "train/checkpoint.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <map>
#include <ostream>
#include <set>

#include <nlohmann/json.hpp>

#include "data/json_text.h"
#include "weights/safetensors_file.h"

namespace wise {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr const char* kFormat = "wise.checkpoint.v1";
constexpr const char* kPrefix = "checkpoint-";
constexpr const char* kSuffix = ".safetensors";
constexpr const char* kModelPrefix = "model.";
constexpr const char* kOptimizerPrefix = "optimizer.";
constexpr const char* kBufferPrefix = "buffers.";

// Problems with a checkpoint file or the configuration are the user's, not an
// internal invariant: a plain Error whose text starts with the path (no source line).
template <class... Parts>
void require(bool condition, const Parts&... parts) {
  if (!condition) throw Error(concat(parts...));
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The iteration in "checkpoint-<digits>.safetensors", or nullopt for any other name
// (temporary files end in ".tmp.<pid>" and never match).
std::optional<int64_t> iteration_of_file_name(const std::string& name) {
  const std::string prefix = kPrefix, suffix = kSuffix;
  if (!starts_with(name, prefix) || !ends_with(name, suffix)) return std::nullopt;
  const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  return std::stoll(digits);
}

Json parse_json(const std::string& text, const std::string& path, const std::string& what) {
  try {
    return data::parse_json_bounded(text);
  } catch (const std::exception& error) {
    throw Error(concat(path, ": ", what, " is not valid JSON (", error.what(), ")"));
  }
}

Json parse_config(const std::string& text, const std::string& path, const std::string& what) {
  Json config = parse_json(text, path, what);
  require(config.is_object(), path, ": ", what, " must be a JSON object, got ", config.type_name());
  return config;
}

// What the metadata of a checkpoint holds, parsed and checked.
struct CheckpointMetadata {
  int64_t iteration = 0;
  std::string config;
  std::map<std::string, Generator> generators;
};

std::string required(const std::map<std::string, std::string>& metadata, const std::string& key,
                     const std::string& path) {
  const auto found = metadata.find(key);
  require(found != metadata.end(), path, ": checkpoint metadata has no \"", key,
          "\" (expected format, iteration, config and generators: is this a wise checkpoint?)");
  return found->second;
}

CheckpointMetadata parse_metadata(const std::map<std::string, std::string>& metadata, const std::string& path) {
  const std::string format = required(metadata, "format", path);
  require(format == kFormat, path, ": checkpoint metadata \"format\" is \"", format, "\", expected \"",
          kFormat, "\"");
  CheckpointMetadata parsed;
  const std::string iteration = required(metadata, "iteration", path);
  const bool decimal = !iteration.empty() && iteration.size() <= 18 &&
                       std::all_of(iteration.begin(), iteration.end(), [](char c) { return c >= '0' && c <= '9'; });
  require(decimal, path, ": checkpoint metadata \"iteration\" is \"", iteration,
          "\", expected a non-negative decimal integer");
  parsed.iteration = std::stoll(iteration);
  const auto from_name = iteration_of_file_name(fs::path(path).filename().string());
  if (from_name && *from_name != parsed.iteration) {
    throw Error(concat(path, ": the file name says iteration ", *from_name, " but its metadata says ",
                       parsed.iteration, " (was it renamed?)"));
  }

  parsed.config = required(metadata, "config", path);
  parse_config(parsed.config, path, "checkpoint metadata \"config\"");

  const Json generators =
      parse_json(required(metadata, "generators", path), path, "checkpoint metadata \"generators\"");
  require(generators.is_object(), path, ": checkpoint metadata \"generators\" must be a JSON object");
  for (const auto& [name, state] : generators.items()) {
    const bool valid = state.is_object() && state.contains("seed") && state.contains("offset") &&
                       state["seed"].is_number_unsigned() && state["offset"].is_number_unsigned();
    require(valid, path, ": checkpoint generator \"", name,
            "\" must be {\"seed\": <uint64>, \"offset\": <uint64>}, got ", data::describe_json(state));
    parsed.generators[name] = Generator{state["seed"].get<uint64_t>(), state["offset"].get<uint64_t>()};
  }
  return parsed;
}

// {"model": {"depth": 18}} -> {"model.depth": "18"}; arrays and empty objects are leaves.
void flatten(const Json& value, const std::string& prefix, std::map<std::string, std::string>& fields) {
  if (value.is_object() && !value.empty()) {
    for (const auto& [key, child] : value.items()) flatten(child, prefix.empty() ? key : prefix + "." + key, fields);
  } else {
    fields[prefix] = value.dump();
  }
}

bool covered(const std::string& field, const std::vector<std::string>& may_differ) {
  return std::any_of(may_differ.begin(), may_differ.end(), [&](const std::string& entry) {
    return field == entry || starts_with(field, entry + ".");
  });
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : ", ") + item;
  return text.empty() ? "none" : text;
}

}  // namespace

std::string checkpoint_path(const std::string& dir, int64_t iteration) {
  WISE_CHECK(iteration >= 0, "checkpoint_path: iteration must be >= 0, got ", iteration);
  char name[64];
  std::snprintf(name, sizeof name, "%s%08" PRId64 "%s", kPrefix, iteration, kSuffix);
  return (fs::path(dir) / name).string();
}

std::string save_checkpoint(const std::string& dir, int64_t iteration, const TrainingState& state,
                            const std::string& config_json, int keep_last) {
  WISE_CHECK(keep_last >= 0, "save_checkpoint: keep_last must be >= 0 (0 keeps all), got ", keep_last);
  const std::string path = checkpoint_path(dir, iteration);
  parse_config(config_json, path, "the configuration to save");

  NamedTensors tensors;
  for (const auto& [name, value] : state.parameters.named_values()) tensors.emplace_back(kModelPrefix + name, value);
  for (const auto& [name, value] : state.optimizer.named_state()) tensors.emplace_back(kOptimizerPrefix + name, value);
  for (const auto& [name, value] : state.buffers) tensors.emplace_back(kBufferPrefix + name, value);

  Json generators = Json::object();
  for (const auto& [name, generator] : state.generators) {
    WISE_CHECK(generator != nullptr, path, ": generator \"", name, "\" is null");
    WISE_CHECK(!generators.contains(name), path, ": generator \"", name, "\" is listed twice");
    generators[name] = {{"seed", generator->seed}, {"offset", generator->offset}};
  }
  const std::map<std::string, std::string> metadata = {{"format", kFormat},
                                                       {"iteration", std::to_string(iteration)},
                                                       {"config", config_json},
                                                       {"generators", generators.dump()}};
  std::error_code error;
  fs::create_directories(dir, error);
  WISE_CHECK(!error, dir, ": cannot create the checkpoint directory: ", error.message());
  write_tensors(path, tensors, metadata);  // atomic and durable when it returns

  // Only now, with the new file durable, drop the oldest ones.
  if (keep_last > 0) {
    std::vector<std::pair<int64_t, std::string>> older;
    for (const auto& entry : list_checkpoints(dir)) {
      if (entry.first < iteration) older.push_back(entry);
    }
    const size_t keep_older = static_cast<size_t>(keep_last - 1);
    for (size_t i = 0; i + keep_older < older.size(); ++i) fs::remove(older[i].second, error);
  }
  return path;
}

std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& dir) {
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code error;
  if (!fs::is_directory(dir, error)) return found;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    const auto iteration = iteration_of_file_name(entry.path().filename().string());
    if (iteration && entry.is_regular_file(error)) found.emplace_back(*iteration, entry.path().string());
  }
  std::sort(found.begin(), found.end());
  return found;
}

std::optional<std::string> find_latest_checkpoint(const std::string& dir, std::ostream& warnings) {
  const auto checkpoints = list_checkpoints(dir);
  for (auto it = checkpoints.rbegin(); it != checkpoints.rend(); ++it) {
    try {
      // The reader checks the header and that the file is exactly as long as it promises.
      SafetensorsReader reader(it->second);
      parse_metadata(reader.header().metadata, it->second);
      return it->second;
    } catch (const std::exception& error) {
      warnings << "wise: skipping broken checkpoint: " << error.what() << "\n";
    }
  }
  return std::nullopt;
}

int remove_temporary_checkpoint_files(const std::string& dir) {
  int removed = 0;
  std::error_code error;
  if (!fs::is_directory(dir, error)) return 0;
  std::vector<fs::path> temporary;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (starts_with(name, kPrefix) && name.find(std::string(kSuffix) + ".tmp.") != std::string::npos) {
      temporary.push_back(entry.path());
    }
  }
  for (const fs::path& path : temporary) removed += fs::remove(path, error) ? 1 : 0;
  return removed;
}

void check_config_compatible(const std::string& checkpoint_config, const std::string& run_config,
                             const std::vector<std::string>& may_differ, const std::string& path) {
  std::map<std::string, std::string> saved, current;
  flatten(parse_config(checkpoint_config, path, "checkpoint metadata \"config\""), "", saved);
  flatten(parse_config(run_config, path, "this run's configuration"), "", current);
  std::set<std::string> fields;
  for (const auto& entry : saved) fields.insert(entry.first);
  for (const auto& entry : current) fields.insert(entry.first);
  for (const std::string& field : fields) {
    if (field.empty() || covered(field, may_differ)) continue;  // "": both configs are {}
    const auto in_saved = saved.find(field), in_current = current.find(field);
    const std::string saved_text = in_saved == saved.end() ? "no such field" : in_saved->second;
    const std::string current_text = in_current == current.end() ? "no such field" : in_current->second;
    if (saved_text == current_text) continue;
    throw ConfigMismatchError(
        concat(path, ": configuration field \"", field, "\" differs: the checkpoint has ", saved_text,
               ", this run has ", current_text,
               ". A checkpoint resumes only the configuration it was written with (fields allowed to change: ",
               join(may_differ), "); use another output directory to start a new run"),
        field);
  }
}

CheckpointInfo load_checkpoint(const std::string& path, TrainingState& state, const std::string& config_json,
                               const std::vector<std::string>& may_differ) {
  const CheckpointMetadata metadata = parse_metadata(read_safetensors_header(path).metadata, path);
  check_config_compatible(metadata.config, config_json, may_differ, path);

  std::vector<std::string> file_names, run_names;
  for (const auto& entry : metadata.generators) file_names.push_back(entry.first);
  for (const auto& [name, generator] : state.generators) {
    run_names.push_back(name);
    WISE_CHECK(generator != nullptr, path, ": generator \"", name, "\" is null");
  }
  std::vector<std::string> sorted_run_names = run_names;
  std::sort(sorted_run_names.begin(), sorted_run_names.end());
  require(sorted_run_names == file_names, path, ": the checkpoint saved the generators {", join(file_names),
          "} but this run has {", join(sorted_run_names), "}");

  NamedTensors targets;
  for (const auto& [name, value] : state.parameters.named_values_to_write()) {
    targets.emplace_back(kModelPrefix + name, value);
  }
  for (const auto& [name, value] : state.optimizer.named_state()) targets.emplace_back(kOptimizerPrefix + name, value);
  for (const auto& [name, value] : state.buffers) targets.emplace_back(kBufferPrefix + name, value);
  load_into(path, targets);  // checks every name, shape and dtype before copying any

  for (auto& [name, generator] : state.generators) *generator = metadata.generators.at(name);
  return {path, metadata.iteration, metadata.config};
}

}  // namespace wise
