#include "report/run_record.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace wise::report {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string>& val_rows() {
  static const std::vector<std::string> rows{"prm-baseline", "wise", "wise-refine", "supervised"};
  return rows;
}

const std::vector<std::string>& train_rows() {
  static const std::vector<std::string> rows{"pseudo-masks-train", "wise-train"};
  return rows;
}

const char* row_title(const std::string& row) {
  if (row == "prm-baseline") return "PRM (its own instances)";
  if (row == "wise") return "WISE";
  if (row == "wise-refine") return "WISE + Refine";
  if (row == "supervised") return "Mask R-CNN, fully supervised";
  if (row == "pseudo-masks-train") return "pseudo masks (Eq. 1)";
  if (row == "wise-train") return "WISE's predictions";
  return "?";
}

namespace {

std::runtime_error malformed(const std::string& path, const std::string& what) {
  return std::runtime_error(path + ": " + what);
}

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw malformed(path, "cannot be read");
  try {
    return json::parse(in);
  } catch (const json::exception& error) {
    throw malformed(path, std::string("not JSON: ") + error.what());
  }
}

double number_or_nan(const json& value) {
  return value.is_number() ? value.get<double>() : std::numeric_limits<double>::quiet_NaN();
}

Scores scores_of(const json& group, const std::string& path, const std::string& ap_key) {
  if (!group.contains(ap_key) || !group[ap_key].is_array() || group[ap_key].size() != 3)
    throw malformed(path, "expected \"" + ap_key + "\" as three numbers (IoU 0.25, 0.5, 0.75)");
  Scores scores;
  for (size_t t = 0; t < 3; ++t) scores.ap[t] = number_or_nan(group[ap_key][t]);
  scores.abo = group.contains("ABO") ? number_or_nan(group["ABO"]) : std::numeric_limits<double>::quiet_NaN();
  return scores;
}

std::vector<GroupScores> groups_of(const json& list, const std::string& path, const std::string& ap_key) {
  std::vector<GroupScores> groups;
  if (!list.is_array()) return groups;
  for (const json& group : list) {
    groups.push_back({group.value("name", std::string("?")), group.value("ground_truth", int64_t{0}),
                      scores_of(group, path, ap_key)});
  }
  return groups;
}

// A training log's records: the loss of every training record, and the mAP50 of the
// validation events (the periodic ones on the first val images, the final one on all).
void read_log(const std::string& path, const std::string& name, RunRecord& run) {
  std::ifstream in(path);
  if (!in) return;
  Curve loss{name, {}}, validation{name, {}};
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    json record;
    try {
      record = json::parse(line);
    } catch (const json::exception&) {
      // A run killed mid-write leaves a torn last line; anything else is damage.
      if (in.peek() == std::char_traits<char>::eof()) break;
      throw malformed(path, "line " + std::to_string(number) + " is not JSON");
    }
    if (!record.contains("step") || !record["step"].is_number()) continue;
    const double step = record["step"].get<double>();
    if (record.contains("event")) {
      const bool validation_event = record["event"] == "validation" || record["event"] == "final_validation";
      if (validation_event && record.contains("mAP50") && record["mAP50"].is_number())
        validation.points.push_back({step, record["mAP50"].get<double>()});
    } else if (record.contains("loss") && record["loss"].is_number()) {
      loss.points.push_back({step, record["loss"].get<double>()});
    }
  }
  if (!loss.points.empty()) run.losses.push_back(loss);
  if (!validation.points.empty()) run.validation.push_back(validation);
}

std::vector<std::string> pngs_in(const fs::path& folder, const fs::path& base, size_t limit) {
  std::vector<std::string> paths;
  if (!fs::is_directory(folder)) return paths;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.path().extension() == ".png") paths.push_back(fs::relative(entry.path(), base).string());
  std::sort(paths.begin(), paths.end());
  if (paths.size() > limit) paths.resize(limit);
  return paths;
}

}  // namespace

Evaluation read_evaluation(const std::string& path) {
  const json file = read_json(path);
  if (!file.is_object() || !file.contains("all") || !file["all"].is_object())
    throw malformed(path, "expected an evaluate --json object with \"all\"");
  Evaluation evaluation;
  evaluation.protocol = file.value("protocol", std::string("?"));
  const json& all = file["all"];
  evaluation.images = all.value("images", int64_t{0});
  evaluation.ground_truth = all.value("ground_truth", int64_t{0});
  evaluation.predictions = all.value("predictions", int64_t{0});
  evaluation.all = scores_of(all, path, "mAP");
  if (all.contains("classes")) evaluation.classes = groups_of(all["classes"], path, "AP");
  if (file.contains("by_size")) evaluation.by_size = groups_of(file["by_size"], path, "mAP");
  if (file.contains("by_object_count")) evaluation.by_object_count = groups_of(file["by_object_count"], path, "mAP");
  return evaluation;
}

RunRecord read_run(const std::string& directory, int64_t max_pictures) {
  const fs::path root(directory);
  if (!fs::is_directory(root)) throw std::runtime_error(directory + ": not a folder (a scripts/run.sh run)");
  RunRecord run;
  run.directory = directory;

  std::vector<std::pair<std::string, StageRecord>> stages;  // (finished, record)
  if (fs::is_directory(root / "stages")) {
    for (const auto& entry : fs::directory_iterator(root / "stages")) {
      if (entry.path().extension() != ".json") continue;
      const json record = read_json(entry.path().string());
      if (!record.contains("name") || !record.contains("seconds") || !record.contains("budget_s"))
        throw malformed(entry.path().string(), "expected \"name\", \"budget_s\" and \"seconds\"");
      stages.push_back({record.value("finished", std::string()),
                        {record["name"].get<std::string>(), record["budget_s"].get<int64_t>(),
                         record["seconds"].get<int64_t>()}});
    }
  }
  std::sort(stages.begin(), stages.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [finished, record] : stages) run.stages.push_back(std::move(record));

  std::vector<std::string> rows = val_rows();
  rows.insert(rows.end(), train_rows().begin(), train_rows().end());
  for (const std::string& row : rows) {
    for (const char* protocol : {"voc", "wise"}) {
      const fs::path path = root / "eval" / (row + "-" + protocol + ".json");
      if (fs::exists(path)) run.evaluations[row][protocol] = read_evaluation(path.string());
    }
  }
  read_log((root / "prm" / "log.jsonl").string(), "PRM classifier", run);
  read_log((root / "maskrcnn-wise" / "log.jsonl").string(), "Mask R-CNN on pseudo masks (WISE)", run);
  read_log((root / "maskrcnn-supervised" / "log.jsonl").string(), "Mask R-CNN on ground truth", run);
  run.figure_panels = pngs_in(root / "prm" / "figures", root, 1);
  run.pictures = pngs_in(root / "segment-val" / "pictures", root, static_cast<size_t>(std::max<int64_t>(0, max_pictures)));
  return run;
}

}  // namespace wise::report
