// Image-level (multi-label) classification metrics: what a classifier trained on
// image-level labels reports on a validation split.
//
// Per class k, over the N images:
//   AP_k       average precision of the scores against the 0/1 labels, the
//              non-interpolated definition (scikit-learn's average_precision_score,
//              torchmetrics' AveragePrecision):
//                AP = sum_n (R_n - R_{n-1}) P_n
//              over the DISTINCT scores t_1 > t_2 > ..., where P_n and R_n are the
//              precision and recall of "score >= t_n". Tied scores enter together,
//              so AP does not depend on the order of the images. NaN when the class
//              has no positive image (left out of the mean).
//   precision_k, recall_k   of the decisions "score >= threshold" (NaN for 0 / 0).
// Over all classes:
//   mAP          mean of the AP_k that are not NaN (NaN if all are)
//   exact_match  fraction of images whose K decisions all equal their labels
//                (scikit-learn's subset accuracy)
//   accuracy     fraction of the N x K decisions that equal their labels
//
// Scores are probabilities (the sigmoid of the logits) for the threshold to
// mean "0.5"; AP only needs their order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wise {

// AP of one class as above. scores and labels (0 or 1) have one entry per image.
double average_precision(const std::vector<double>& scores, const std::vector<uint8_t>& labels);

struct MultilabelMetrics {
  int64_t images = 0;
  int64_t classes = 0;
  double threshold = 0.5;
  std::vector<int64_t> positives;           // (K) images holding class k
  std::vector<double> average_precision;    // (K), NaN without positives
  std::vector<double> precision, recall;    // (K) at the threshold
  double mean_average_precision = 0;
  double exact_match = 0;
  double accuracy = 0;
};

// scores and labels are (N, K) row-major (image n, class k at n * K + k); labels
// are 0 or 1. Throws (naming the argument, expected vs found) on mismatched sizes,
// labels other than 0/1 and non-finite scores.
MultilabelMetrics multilabel_metrics(const std::vector<float>& scores, const std::vector<float>& labels,
                                     int64_t images, int64_t classes, double threshold = 0.5);

// The metrics as a text table, one row per class and a last row of the means:
//
//   class     images      AP  precision  recall
//   circle       122   0.912      0.850   0.803
//   ...
//   mean       (300)   0.874  exact match 0.512  accuracy 0.903 (threshold 0.50)
//
// class_names has K entries (checked).
std::string format_multilabel_table(const MultilabelMetrics& metrics, const std::vector<std::string>& class_names);

}  // namespace wise
