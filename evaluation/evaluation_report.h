// An EvaluationResult as text tables (what the `evaluate` app prints) and as JSON (what
// the app writes with --json and training logs for validation).
//
// Tables show AP and ABO in percent with one decimal; every table's title names the
// protocol. The JSON keeps fractions in [0, 1] at full precision, NaN (a class or set
// without GT) as null; its "mAP" and every "AP" list follow "iou_thresholds":
//   {"protocol": "voc", "protocol_description": "...", "abo_definition": "...",
//    "iou_thresholds": [0.25, 0.5, 0.75], "predictions_given": N, "predictions_scored": N,
//    "crowd_ground_truth": N, "max_detections": 100, "score_threshold": 0.5 (wise only),
//    "all": SET, "by_size": [SET...], "by_object_count": [SET...]}
//   SET = {"name": "all", "images": N, "ground_truth": N, "predictions": N,
//          "mAP": [...], "ABO": x, "classes": [{"id", "name", "ground_truth", "AP": [...],
//          "ABO"}...]}
#pragma once

#include <string>

#include "evaluation/evaluation.h"

namespace wise::data {

// One line saying what the protocol computes, and the ABO variant, for reports.
std::string protocol_description(Protocol protocol);
std::string abo_definition(Protocol protocol);

// Summary, per-class table (the paper's Table 2), size and objects-per-image breakdowns
// (Figure 5) when present.
std::string format_tables(const EvaluationResult& result);

// The JSON above, dumped with `indent` (-1: one line).
std::string evaluation_to_json(const EvaluationResult& result, int indent = 2);

}  // namespace wise::data
