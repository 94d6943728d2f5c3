// Matching predictions to ground truth, and average precision: the two rules wise reports.
//
// Both rules work on one class at a time. Within one image, the predictions of the class
// are taken by descending score, ties in input order (std::stable_sort); each is matched
// to at most one ground truth (GT) and counts as a true positive, a false positive, or
// is ignored (counts as neither). The outcomes of all images are then pooled, sorted
// again by descending score (stable: ties keep image order, then within-image order) and
// turned into precision and recall.
//
// Ties: that is pycocotools' order exactly (a stable mergesort on -score, both in
// evaluateImg and in accumulate), but not chainercv's: it sorts with `argsort()[::-1]`,
// numpy's default quicksort (not stable) reversed, so its ties come out in an order
// numpy does not promise, typically the reverse of the input. wise uses the stable order
// under both protocols, so that a result does not depend on a sort's internals; a voc AP
// can differ from chainercv's only where tied scores have different outcomes.
//
//   voc  (chainercv's calc_instance_segmentation_voc_prec_rec + _voc_ap, what later
//        papers report): each prediction takes its best-IoU regular (non-crowd) GT of the
//        class in its image (IoU ties: the first GT in annotation order, numpy's argmax).
//        It is a true positive iff that IoU >= t and that GT is still unmatched; a false
//        positive if that GT is matched already (no fallback to the second-best GT).
//        Only when no regular GT reaches t do crowd regions count: the prediction is
//        ignored if one overlaps it >= t, else a false positive. AP = area under the
//        precision envelope (VOC 2010+): sum over recall steps of
//        (r_i - r_{i-1}) * max_{j>=i} p_j.
//   coco (pycocotools' COCOeval.evaluateImg + accumulate, what WISE's code used): GT are
//        visited with ignored ones last; a prediction takes the best-IoU GT that is still
//        unmatched (crowd GT may match many predictions) with IoU >= t, preferring any
//        regular GT over an ignored one (IoU ties: the last GT visited, as COCOeval's
//        `<` test). A match to an ignored GT ignores the prediction. AP = mean over the
//        101 recall points 0, 0.01, ..., 1 of the envelope's precision at the first
//        pooled prediction reaching that recall (0 past the highest recall reached);
//        precision = tp / (tp + fp + 2^-52) as COCOeval (np.spacing(1); it can take
//        the last bit off an AP of 1).
//
// Ignored GT (wise's extension of chainercv's rule, which knows neither crowds nor sizes;
// the coco rule is COCOeval's own): crowd GT and GT outside the size range are not
// positives. Under `voc`, crowd regions come after every regular GT, as in COCOeval:
// their overlap |p & g| / |p| is 1 for anything inside them, so letting them compete
// with the regular GT would ignore a perfect prediction of an instance inside a crowd.
// A regular GT outside the size range competes like any other, and a prediction it
// takes (IoU >= t) is ignored. A prediction that matches nothing and lies outside the
// size range being evaluated is ignored (COCOeval's rule, applied to both).
#pragma once

#include <cstdint>
#include <vector>

namespace wise::data {

enum class MatchOutcome : uint8_t { true_positive, false_positive, ignored };

// One image's predictions and GT of one class, ready for matching.
struct ClassImageMatching {
  int64_t predictions = 0;   // P, in descending score order (stable)
  int64_t ground_truth = 0;  // G, in annotation order
  // (P, G) row-major. Regular GT: the mask IoU; crowd GT: |prediction & gt| / |prediction|
  // (pycocotools' maskUtils.iou with iscrowd = 1).
  std::vector<float> iou;
  std::vector<uint8_t> gt_ignored;                // (G): crowd, or outside the size range
  std::vector<uint8_t> gt_crowd;                  // (G): matched after the regular GT;
                                                  //      many times (coco)
  std::vector<uint8_t> prediction_outside_range;  // (P): its own area outside the range
};

// Outcomes (P) of the predictions at IoU threshold `threshold`, by either rule.
std::vector<MatchOutcome> voc_match(const ClassImageMatching& input, double threshold);
std::vector<MatchOutcome> coco_match(const ClassImageMatching& input, double threshold);

struct ScoredOutcome {
  float score = 0;
  MatchOutcome outcome = MatchOutcome::false_positive;
};

// AP of one class from the outcomes pooled over images (in image order, each image's in
// descending score order) and the number of non-ignored GT (`positives`). Ignored
// outcomes are dropped. Returns NaN when positives == 0 (the class is then left out of
// the mean, as chainercv's nan and COCOeval's -1).
double voc_average_precision(const std::vector<ScoredOutcome>& pooled, int64_t positives);
double coco_average_precision(const std::vector<ScoredOutcome>& pooled, int64_t positives);

}  // namespace wise::data
