// The report of a WISE pipeline run, laid out as the paper presents its results: Table 1
// (mAP25 / 50 / 75 and ABO of PRM, the pseudo masks, WISE, WISE + Refine and the fully
// supervised Mask R-CNN), Table 2 (per-class mAP50), Table 3 (the pseudo masks against
// WISE's predictions on the same training images), Figure 5's breakdowns by object size
// and objects per image, the training curves, a Figure-1 panel and a Figure-4 grid of
// predictions, the goals checked, and each stage's time beside its budget.
// Every table under both protocols, named (evaluation/evaluation.h defines them).
#pragma once

#include <string>

#include "report/document.h"
#include "report/run_record.h"

namespace wise::report {

struct ReportContext {
  std::string preset;   // scripts/run.sh's: quick, default, long
  std::string commit;   // git's short hash
  std::string machine;  // "AMD EPYC, 2 cores"
  int threads = 1;
  std::string date;     // UTC, ISO 8601
};

// The goals on the default run (issue 24): the fully supervised model's val mAP50 (voc)
// >= 0.70; WISE + Refine >= 85 % of it and above PRM's; WISE's predictions on the
// training images >= 1.3 x the pseudo masks' mAP50 there.
struct GoalCheck {
  std::string goal;
  std::string measured;
  bool met = false;
  bool known = false;  // false: a row it needs is missing
};
std::vector<GoalCheck> check_goals(const RunRecord& run);

// Writes the curve plots and the Figure-4 grid into <run>/report-files/ and returns the
// document (its image paths relative to the run folder).
Document make_wise_report(const RunRecord& run, const ReportContext& context);

}  // namespace wise::report
