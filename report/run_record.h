// What a pipeline run (scripts/run.sh) left in its folder, read back for the report:
//
//   stages/<stage>.json     {"name", "budget_s", "seconds", "key", "finished"} per stage
//   eval/<row>-<protocol>.json  `evaluate --json` of each row of Tables 1 and 3
//   prm/log.jsonl, maskrcnn-wise/log.jsonl, maskrcnn-supervised/log.jsonl  the training logs
//   prm/figures/*.png       train_prm --figures' Figure-1 panels
//   segment-val/pictures/*.png  segment's pictures of WISE's (refined) val predictions
//
// Missing pieces are absent from the record, not errors: a report of a half-finished
// run shows what there is. A present file that does not parse is an error naming it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace wise::report {

// The rows of WISE's Tables 1 and 3, in the paper's order (the eval/ file stems).
const std::vector<std::string>& val_rows();    // prm-baseline, wise, wise-refine, supervised
const std::vector<std::string>& train_rows();  // pseudo-masks-train, wise-train
const char* row_title(const std::string& row);  // "PRM (Zhou et al.)", "WISE + Refine", ...

struct StageRecord {
  std::string name;
  int64_t budget_seconds = 0;
  int64_t seconds = 0;
};

// AP (or mAP) at IoU 0.25, 0.5, 0.75 and ABO; NaN where evaluate wrote null (no ground truth).
struct Scores {
  std::array<double, 3> ap{};
  double abo = 0;
};

struct GroupScores {
  std::string name;  // a class ("circle"), a size ("small"), a count ("1 object")
  int64_t ground_truth = 0;
  Scores scores;
};

// One `evaluate --json` file.
struct Evaluation {
  std::string protocol;
  int64_t images = 0, ground_truth = 0, predictions = 0;
  Scores all;
  std::vector<GroupScores> classes, by_size, by_object_count;
};

struct Curve {
  std::string name;
  std::vector<std::array<double, 2>> points;  // {step, value}
};

struct RunRecord {
  std::string directory;
  std::vector<StageRecord> stages;  // in the order they finished
  // row -> protocol ("voc", "wise") -> its evaluation
  std::map<std::string, std::map<std::string, Evaluation>> evaluations;
  std::vector<Curve> losses;       // total training loss per training stage
  std::vector<Curve> validation;   // Mask R-CNN's val mAP50 (voc) during training and at its end
  std::vector<std::string> figure_panels;  // paths relative to `directory`
  std::vector<std::string> pictures;       // the first few segment-val pictures, relative
};

RunRecord read_run(const std::string& directory, int64_t max_pictures = 8);

// One `evaluate --json` file (throws naming the file and field on a malformed one).
Evaluation read_evaluation(const std::string& path);

}  // namespace wise::report
