// Tables and JSON for an EvaluationResult (see evaluation_report.h).
#include "evaluation/evaluation_report.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace wise::data {

namespace {

using OrderedJson = nlohmann::ordered_json;

// "25" for 0.25, "33.3" for 0.333: the suffix of "mAP25".
std::string threshold_label(double threshold) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", std::round(threshold * 1000.0) / 10.0);
  return text;
}

// A fraction as a percentage with one decimal, right-aligned in `width`; '-' for NaN.
std::string percent(double value, int width) {
  char text[32];
  if (std::isnan(value)) {
    std::snprintf(text, sizeof(text), "%*s", width, "-");
  } else {
    std::snprintf(text, sizeof(text), "%*.1f", width, 100.0 * value);
  }
  return text;
}

std::string padded(const std::string& text, int width, bool left = true) {
  char buffer[256];
  std::snprintf(buffer, sizeof(buffer), left ? "%-*s" : "%*s", width, text.c_str());
  return buffer;
}

std::string count(int64_t value, int width) {
  return padded(std::to_string(value), width, false);
}

std::string title(const std::string& what, const EvaluationResult& result) {
  return what + " [protocol: " + protocol_name(result.protocol) + "]\n";
}

// One table whose rows are evaluated sets (summary and both breakdowns).
std::string subset_table(const std::vector<const SubsetEvaluation*>& rows,
                         const EvaluationResult& result) {
  std::string text = padded("set", 12) + padded("images", 8, false) + padded("GT", 8, false) +
                     padded("preds", 9, false);
  for (double t : result.options.iou_thresholds) {
    text += padded("mAP" + threshold_label(t), 8, false);
  }
  text += padded("ABO", 8, false) + "\n";
  for (const SubsetEvaluation* row : rows) {
    text += padded(row->name, 12) + count(row->images, 8) + count(row->ground_truth, 8) +
            count(row->predictions, 9);
    for (double value : row->mean_ap) text += percent(value, 8);
    text += percent(row->abo, 8) + "\n";
  }
  return text;
}

std::string class_table(const EvaluationResult& result) {
  const SubsetEvaluation& all = result.all;
  std::string text = padded("class", 16) + padded("GT", 8, false);
  for (double t : result.options.iou_thresholds) {
    text += padded("AP" + threshold_label(t), 8, false);
  }
  text += padded("ABO", 8, false) + "\n";
  for (std::size_t c = 0; c < result.categories.size(); ++c) {
    text += padded(result.categories[c].name, 16) + count(all.class_ground_truth[c], 8);
    for (double value : all.class_ap[c]) text += percent(value, 8);
    text += percent(all.class_abo[c], 8) + "\n";
  }
  text += padded("mean (" + std::to_string(all.classes_with_ground_truth) + " classes)", 16) +
          count(all.ground_truth, 8);
  for (double value : all.mean_ap) text += percent(value, 8);
  text += percent(all.abo, 8) + "\n";
  return text;
}

OrderedJson number_or_null(double value) {
  return std::isnan(value) ? OrderedJson(nullptr) : OrderedJson(value);
}

OrderedJson subset_json(const SubsetEvaluation& subset, const EvaluationResult& result) {
  OrderedJson json;
  json["name"] = subset.name;
  json["images"] = subset.images;
  json["ground_truth"] = subset.ground_truth;
  json["predictions"] = subset.predictions;
  json["mAP"] = OrderedJson::array();
  for (double value : subset.mean_ap) json["mAP"].push_back(number_or_null(value));
  json["ABO"] = number_or_null(subset.abo);
  json["classes"] = OrderedJson::array();
  for (std::size_t c = 0; c < result.categories.size(); ++c) {
    OrderedJson entry;
    entry["id"] = result.categories[c].id;
    entry["name"] = result.categories[c].name;
    entry["ground_truth"] = subset.class_ground_truth[c];
    entry["AP"] = OrderedJson::array();
    for (double value : subset.class_ap[c]) entry["AP"].push_back(number_or_null(value));
    entry["ABO"] = number_or_null(subset.class_abo[c]);
    json["classes"].push_back(entry);
  }
  return json;
}

}  // namespace

std::string protocol_description(Protocol protocol) {
  if (protocol == Protocol::voc) {
    return "voc: chainercv eval_instance_segmentation_voc; all predictions; each takes its "
           "best-IoU ground truth of its class, true positive iff IoU >= t and that ground "
           "truth is unmatched (no fallback); AP = area under the precision envelope";
  }
  return "wise: WISE's code = pycocotools COCOeval (segm); predictions with score < 0.5 "
         "dropped, at most 100 per image and class, void pixels removed from ground truth "
         "and predictions; COCO matching; 101-point interpolated AP";
}

std::string abo_definition(Protocol protocol) {
  return std::string("ABO = mean over non-crowd ground-truth instances of the best IoU with any "
                     "prediction of the same image (class-agnostic), over the predictions the ") +
         protocol_name(protocol) + " protocol scores";
}

std::string format_tables(const EvaluationResult& result) {
  std::string description = protocol_description(result.protocol);
  const EvaluationOptions defaults;
  if (result.protocol == Protocol::wise &&
      (result.options.score_threshold != defaults.score_threshold ||
       result.options.max_detections != defaults.max_detections)) {  // say what was changed
    char text[160];
    std::snprintf(text, sizeof(text), " (here: score threshold %g, max %lld per image and class)",
                  result.options.score_threshold,
                  static_cast<long long>(result.options.max_detections));
    description += text;
  }
  std::string text = "Protocol " + description + ".\n" + abo_definition(result.protocol) +
                     ".\nPredictions: " + std::to_string(result.predictions_given) +
                     " given, " + std::to_string(result.predictions_scored) +
                     " scored. Crowd ground truth (ignored): " +
                     std::to_string(result.crowd_ground_truth) +
                     ". Classes without ground truth show '-' and are left out of the means.\n\n";
  text += title("Summary", result) + subset_table({&result.all}, result) + "\n";
  text += title("Per class (the paper's Table 2)", result) + class_table(result);
  if (!result.by_size.empty()) {
    char ranges[320];
    std::snprintf(ranges, sizeof(ranges),
                  "By object size, COCO's inclusive area ranges in pixels: small <= %g, medium "
                  "%g..%g, large >= %g; ground truth and unmatched predictions outside a range "
                  "are ignored",
                  result.options.small_area, result.options.small_area,
                  result.options.medium_area, result.options.medium_area);
    std::vector<const SubsetEvaluation*> rows;
    for (const SubsetEvaluation& row : result.by_size) rows.push_back(&row);
    text += "\n" + title(ranges, result) + subset_table(rows, result);
  }
  if (!result.by_object_count.empty()) {
    std::vector<const SubsetEvaluation*> rows;
    for (const SubsetEvaluation& row : result.by_object_count) rows.push_back(&row);
    text += "\n" +
            title("By objects per image (images with exactly that many non-crowd ground truth "
                  "instances)",
                  result) +
            subset_table(rows, result);
  }
  return text;
}

std::string evaluation_to_json(const EvaluationResult& result, int indent) {
  OrderedJson json;
  json["protocol"] = protocol_name(result.protocol);
  json["protocol_description"] = protocol_description(result.protocol);
  json["abo_definition"] = abo_definition(result.protocol);
  json["iou_thresholds"] = result.options.iou_thresholds;
  json["predictions_given"] = result.predictions_given;
  json["predictions_scored"] = result.predictions_scored;
  json["crowd_ground_truth"] = result.crowd_ground_truth;
  if (result.protocol == Protocol::wise) {
    json["max_detections"] = result.options.max_detections;
    json["score_threshold"] = result.options.score_threshold;
  }
  json["all"] = subset_json(result.all, result);
  json["by_size"] = OrderedJson::array();
  for (const SubsetEvaluation& row : result.by_size) json["by_size"].push_back(subset_json(row, result));
  json["by_object_count"] = OrderedJson::array();
  for (const SubsetEvaluation& row : result.by_object_count) {
    json["by_object_count"].push_back(subset_json(row, result));
  }
  return json.dump(indent);
}

}  // namespace wise::data
