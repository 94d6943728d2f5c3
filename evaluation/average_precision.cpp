// The voc and coco matching rules and their AP (see average_precision.h).
#include "evaluation/average_precision.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

namespace wise::data {

namespace {

void check_shapes(const ClassImageMatching& input, const char* rule) {
  const auto P = static_cast<std::size_t>(input.predictions);
  const auto G = static_cast<std::size_t>(input.ground_truth);
  if (input.iou.size() != P * G || input.gt_ignored.size() != G || input.gt_crowd.size() != G ||
      input.prediction_outside_range.size() != P) {
    throw std::invalid_argument(
        std::string(rule) + ": inconsistent ClassImageMatching: " + std::to_string(P) +
        " predictions x " + std::to_string(G) + " ground truth expects iou of " +
        std::to_string(P * G) + ", got " + std::to_string(input.iou.size()) + "; gt flags " +
        std::to_string(input.gt_ignored.size()) + "/" + std::to_string(input.gt_crowd.size()) +
        ", prediction flags " + std::to_string(input.prediction_outside_range.size()));
  }
}

MatchOutcome unmatched(const ClassImageMatching& input, int64_t prediction) {
  return input.prediction_outside_range[prediction] ? MatchOutcome::ignored
                                                    : MatchOutcome::false_positive;
}

// The outcomes that count, sorted by descending score; ties keep their pooled order.
std::vector<ScoredOutcome> counted_by_score(const std::vector<ScoredOutcome>& pooled) {
  std::vector<ScoredOutcome> counted;
  counted.reserve(pooled.size());
  for (const ScoredOutcome& entry : pooled) {
    if (entry.outcome != MatchOutcome::ignored) counted.push_back(entry);
  }
  std::stable_sort(counted.begin(), counted.end(),
                   [](const ScoredOutcome& a, const ScoredOutcome& b) { return a.score > b.score; });
  return counted;
}

}  // namespace

std::vector<MatchOutcome> voc_match(const ClassImageMatching& input, double threshold) {
  check_shapes(input, "voc_match");
  const int64_t P = input.predictions, G = input.ground_truth;
  std::vector<MatchOutcome> outcomes(P);
  std::vector<uint8_t> matched(G, 0);
  for (int64_t p = 0; p < P; ++p) {
    const float* row = input.iou.data() + p * G;
    // chainercv's rule over the regular GT: numpy's argmax, the first maximum. A crowd
    // region's |p & g| / |p| is 1 for any prediction inside it, so letting it compete
    // would take every prediction in a crowd away from its own instance.
    int64_t best = -1;
    bool in_crowd = false;
    for (int64_t g = 0; g < G; ++g) {
      if (input.gt_crowd[g]) {
        in_crowd = in_crowd || static_cast<double>(row[g]) >= threshold;
      } else if (best < 0 || row[g] > row[best]) {
        best = g;
      }
    }
    if (best < 0 || static_cast<double>(row[best]) < threshold) {
      // COCOeval's fallback: a crowd region absorbs what no regular GT takes.
      outcomes[p] = in_crowd ? MatchOutcome::ignored : unmatched(input, p);
    } else if (input.gt_ignored[best]) {
      outcomes[p] = MatchOutcome::ignored;
    } else if (matched[best]) {
      outcomes[p] = MatchOutcome::false_positive;  // no fallback to the second best
    } else {
      matched[best] = 1;
      outcomes[p] = MatchOutcome::true_positive;
    }
  }
  return outcomes;
}

std::vector<MatchOutcome> coco_match(const ClassImageMatching& input, double threshold) {
  check_shapes(input, "coco_match");
  const int64_t P = input.predictions, G = input.ground_truth;
  // COCOeval visits GT with the ignored ones last (a stable sort on the ignore flag).
  std::vector<int64_t> order(G);
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return input.gt_ignored[a] < input.gt_ignored[b];
  });
  std::vector<MatchOutcome> outcomes(P);
  std::vector<uint8_t> matched(G, 0);
  for (int64_t p = 0; p < P; ++p) {
    const float* row = input.iou.data() + p * G;
    double best_iou = std::min(threshold, 1 - 1e-10);  // COCOeval's min([t, 1 - 1e-10])
    int64_t best = -1;
    for (int64_t g : order) {
      if (matched[g] && !input.gt_crowd[g]) continue;
      // Matched a regular GT already: ignored GT (all after it) cannot replace it.
      if (best >= 0 && !input.gt_ignored[best] && input.gt_ignored[g]) break;
      if (static_cast<double>(row[g]) < best_iou) continue;
      best_iou = row[g];  // `<` above: an equal IoU later in the order wins
      best = g;
    }
    if (best < 0) {
      outcomes[p] = unmatched(input, p);
    } else {
      matched[best] = 1;
      outcomes[p] = input.gt_ignored[best] ? MatchOutcome::ignored : MatchOutcome::true_positive;
    }
  }
  return outcomes;
}

double voc_average_precision(const std::vector<ScoredOutcome>& pooled, int64_t positives) {
  if (positives <= 0) return std::numeric_limits<double>::quiet_NaN();
  const std::vector<ScoredOutcome> counted = counted_by_score(pooled);
  const std::size_t n = counted.size();
  // mrec = [0, recall..., 1], mpre = [0, precision..., 0], as chainercv.
  std::vector<double> recall(n + 2), precision(n + 2);
  recall[0] = 0, precision[0] = 0, recall[n + 1] = 1, precision[n + 1] = 0;
  int64_t true_positives = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (counted[i].outcome == MatchOutcome::true_positive) ++true_positives;
    recall[i + 1] = static_cast<double>(true_positives) / static_cast<double>(positives);
    precision[i + 1] = static_cast<double>(true_positives) / static_cast<double>(i + 1);
  }
  // The envelope: precision at recall r = the best precision at any recall >= r.
  for (std::size_t i = n + 1; i-- > 0;) precision[i] = std::max(precision[i], precision[i + 1]);
  double ap = 0;
  for (std::size_t i = 0; i + 1 < n + 2; ++i) {
    if (recall[i + 1] != recall[i]) ap += (recall[i + 1] - recall[i]) * precision[i + 1];
  }
  return ap;
}

double coco_average_precision(const std::vector<ScoredOutcome>& pooled, int64_t positives) {
  if (positives <= 0) return std::numeric_limits<double>::quiet_NaN();
  const std::vector<ScoredOutcome> counted = counted_by_score(pooled);
  const std::size_t n = counted.size();
  const double spacing = std::numeric_limits<double>::epsilon();  // numpy's np.spacing(1)
  std::vector<double> recall(n), precision(n);
  double true_positives = 0, false_positives = 0;
  for (std::size_t i = 0; i < n; ++i) {
    (counted[i].outcome == MatchOutcome::true_positive ? true_positives : false_positives) += 1;
    recall[i] = true_positives / static_cast<double>(positives);
    precision[i] = true_positives / (false_positives + true_positives + spacing);
  }
  for (std::size_t i = n; i-- > 1;) precision[i - 1] = std::max(precision[i - 1], precision[i]);
  // np.linspace(0, 1, 101): k * 0.01 (not k / 100: 3 * 0.01 != 0.03), the last exactly 1.
  constexpr int recall_points = 101;
  double sum = 0;
  for (int k = 0; k < recall_points; ++k) {
    const double point = k + 1 == recall_points ? 1.0 : static_cast<double>(k) * 0.01;
    // np.searchsorted(recall, point, side='left'): the first recall >= point.
    const auto first = std::lower_bound(recall.begin(), recall.end(), point);
    if (first == recall.end()) break;  // not reached: precision 0 from here on
    sum += precision[static_cast<std::size_t>(first - recall.begin())];
  }
  return sum / recall_points;
}

}  // namespace wise::data
