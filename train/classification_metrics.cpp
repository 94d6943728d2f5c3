#include "train/classification_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "kernels/check.h"

namespace wise {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double ratio(int64_t numerator, int64_t denominator) {
  return denominator == 0 ? kNaN : static_cast<double>(numerator) / static_cast<double>(denominator);
}

}  // namespace

double average_precision(const std::vector<double>& scores, const std::vector<uint8_t>& labels) {
  WISE_CHECK(scores.size() == labels.size(), "average_precision: ", scores.size(), " scores but ", labels.size(),
             " labels (one of each per image)");
  const int64_t positives = std::count(labels.begin(), labels.end(), uint8_t{1});
  if (positives == 0) return kNaN;

  // Images by descending score; the order among ties does not matter below.
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });

  double ap = 0, previous_recall = 0;
  int64_t true_positives = 0, taken = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    true_positives += labels[order[i]];
    ++taken;
    // A threshold is complete only after the last image of its score.
    const bool last_of_tie = i + 1 == order.size() || scores[order[i + 1]] != scores[order[i]];
    if (!last_of_tie) continue;
    const double recall = static_cast<double>(true_positives) / static_cast<double>(positives);
    const double precision = static_cast<double>(true_positives) / static_cast<double>(taken);
    ap += (recall - previous_recall) * precision;
    previous_recall = recall;
  }
  return ap;
}

MultilabelMetrics multilabel_metrics(const std::vector<float>& scores, const std::vector<float>& labels,
                                     int64_t images, int64_t classes, double threshold) {
  WISE_CHECK(images >= 0 && classes >= 1, "multilabel_metrics: need images >= 0 and classes >= 1, got images = ",
             images, ", classes = ", classes);
  const size_t count = static_cast<size_t>(images * classes);
  WISE_CHECK(scores.size() == count, "multilabel_metrics: scores must hold images x classes = ", images, " x ",
             classes, " = ", count, " values, got ", scores.size());
  WISE_CHECK(labels.size() == count, "multilabel_metrics: labels must hold images x classes = ", images, " x ",
             classes, " = ", count, " values, got ", labels.size());
  for (size_t i = 0; i < count; ++i) {
    WISE_CHECK(labels[i] == 0.0f || labels[i] == 1.0f, "multilabel_metrics: labels must be 0 or 1, got ",
               labels[i], " at image ", i / classes, ", class ", i % classes);
    WISE_CHECK(std::isfinite(scores[i]), "multilabel_metrics: scores must be finite, got ", scores[i],
               " at image ", i / classes, ", class ", i % classes);
  }

  MultilabelMetrics metrics;
  metrics.images = images;
  metrics.classes = classes;
  metrics.threshold = threshold;
  int64_t correct_decisions = 0;
  std::vector<uint8_t> image_correct(static_cast<size_t>(images), 1);
  double ap_sum = 0;
  int64_t ap_count = 0;
  for (int64_t k = 0; k < classes; ++k) {
    std::vector<double> class_scores(static_cast<size_t>(images));
    std::vector<uint8_t> class_labels(static_cast<size_t>(images));
    int64_t predicted = 0, true_positives = 0;
    for (int64_t n = 0; n < images; ++n) {
      const size_t at = static_cast<size_t>(n * classes + k);
      class_scores[n] = scores[at];
      class_labels[n] = labels[at] == 1.0f;
      const bool decision = scores[at] >= threshold;
      predicted += decision;
      true_positives += decision && class_labels[n];
      if (decision == static_cast<bool>(class_labels[n])) {
        ++correct_decisions;
      } else {
        image_correct[n] = 0;
      }
    }
    const int64_t positives = std::count(class_labels.begin(), class_labels.end(), uint8_t{1});
    metrics.positives.push_back(positives);
    metrics.average_precision.push_back(average_precision(class_scores, class_labels));
    metrics.precision.push_back(ratio(true_positives, predicted));
    metrics.recall.push_back(ratio(true_positives, positives));
    if (!std::isnan(metrics.average_precision.back())) {
      ap_sum += metrics.average_precision.back();
      ++ap_count;
    }
  }
  metrics.mean_average_precision = ap_count == 0 ? kNaN : ap_sum / static_cast<double>(ap_count);
  metrics.exact_match = ratio(std::count(image_correct.begin(), image_correct.end(), uint8_t{1}), images);
  metrics.accuracy = ratio(correct_decisions, images * classes);
  return metrics;
}

std::string format_multilabel_table(const MultilabelMetrics& metrics, const std::vector<std::string>& class_names) {
  WISE_CHECK(static_cast<int64_t>(class_names.size()) == metrics.classes, "format_multilabel_table: ",
             metrics.classes, " classes but ", class_names.size(), " class names");
  size_t name_width = 5;  // "class"
  for (const std::string& name : class_names) name_width = std::max(name_width, name.size());
  const int width = static_cast<int>(name_width);
  std::string table;
  char line[256];
  std::snprintf(line, sizeof line, "%-*s  %6s  %6s  %9s  %6s\n", width, "class", "images", "AP", "precision",
                "recall");
  table += line;
  for (int64_t k = 0; k < metrics.classes; ++k) {
    std::snprintf(line, sizeof line, "%-*s  %6lld  %6.3f  %9.3f  %6.3f\n", width, class_names[k].c_str(),
                  static_cast<long long>(metrics.positives[k]), metrics.average_precision[k], metrics.precision[k],
                  metrics.recall[k]);
    table += line;
  }
  char images[32];
  std::snprintf(images, sizeof images, "(%lld)", static_cast<long long>(metrics.images));
  std::snprintf(line, sizeof line, "%-*s  %6s  %6.3f  exact match %.3f  accuracy %.3f (threshold %.2f)\n", width,
                "mean", images, metrics.mean_average_precision, metrics.exact_match, metrics.accuracy,
                metrics.threshold);
  table += line;
  return table;
}

}  // namespace wise
