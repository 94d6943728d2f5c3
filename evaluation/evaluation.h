// Instance-segmentation evaluation: mAP at IoU 0.25 / 0.5 / 0.75 and ABO, per class, by
// object size and by number of objects per image (the WISE paper's Tables 1-3, Figure 5),
// under one of two protocols. The matching and AP rules are in evaluation/average_precision.h.
//
//   voc  (default; chainercv's eval_instance_segmentation_voc, what later papers report):
//        every prediction is scored as given; voc matching; AP = area under the precision
//        envelope. Void pixels are not touched.
//   wise (WISE's released code = pycocotools' COCOeval, segm, iouThrs [.25 .5 .75],
//        maxDets [100], area 'all'): predictions with score < 0.5 are dropped first, then
//        each (image, class) keeps its 100 best (COCOeval's maxDets counts per image AND
//        class); an image's void pixels (ImageInfo::void_mask) are removed from its GT
//        and predicted masks before anything else; coco matching; 101-point AP.
//
// Common rules:
//  - Mask IoU is nn/masks.h's (pack once per image, mask_iou_packed), float32. Rounding
//    cannot move an IoU across 0.25/0.5/0.75: |i/u - k/4| >= 1/(4u) >> 2^-25 for images
//    under 2^22 pixels; two different IoUs closer than float precision do tie.
//  - Images are taken in ascending id; ties in score keep image order, then input order
//    (stable sorts: COCOeval's order; chainercv's is unspecified, average_precision.h).
//    Scores rank as float32 (Detection::score); the `wise` score filter compares the
//    results file's double (Detection::file_score) when there is one.
//  - Crowd GT (iscrowd) are "ignore" regions as in COCOeval under both protocols: not
//    positives; IoU with them is |prediction & gt| / |prediction|. A prediction is
//    matched to the regular GT of its class first; only when none reaches the IoU
//    threshold may it match a crowd region, and it is then ignored (COCOeval's order:
//    a perfect prediction inside a crowd still finds its own instance). Crowd GT are
//    left out of ABO and of the objects-per-image counts.
//  - A class with no (non-ignored) GT in the evaluated set has AP NaN (JSON null) and is
//    left out of the mean, as chainercv's nan and COCOeval's -1.
//  - ABO = mean over non-crowd GT instances of the best IoU with any prediction of the
//    same image, whatever its class (MCG's definition), over the predictions the protocol
//    scores (after the score filter, max_detections and void removal under `wise`).
//  - Object sizes use the GT's pixel count (after void removal under `wise`), not the
//    `area` field, in COCOeval's inclusive ranges: small [0, 32^2], medium [32^2, 96^2],
//    large [96^2, 1e10] (an area of exactly 32^2 is in both small and medium). GT
//    outside the range are ignored (not positives; matching one ignores the prediction);
//    an unmatched prediction outside the range is ignored (COCOeval's rule).
//  - Objects per image: the images with exactly 1, 2, 3, 4 or more than 4 non-crowd GT
//    (any class); each subset is evaluated as a dataset of its own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace wise::data {

enum class Protocol { voc, wise };

// "voc" / "wise", and the inverse (throws naming the value and the choices).
const char* protocol_name(Protocol protocol);
Protocol parse_protocol(const std::string& name);

struct EvaluationOptions {
  Protocol protocol = Protocol::voc;
  std::vector<double> iou_thresholds{0.25, 0.5, 0.75};
  // `wise` only (`voc` scores every prediction as given and keeps void pixels):
  int64_t max_detections = 100;  // per image and class, after the score filter
  // Predictions with score < this are dropped first; compared with the results file's
  // own double (Detection::file_score) when there is one, as WISE's Python.
  double score_threshold = 0.5;
  // The size and objects-per-image breakdowns (validation during training skips them).
  bool breakdowns = true;
  double small_area = 32.0 * 32.0;   // COCO's areaRng bounds, inclusive
  double medium_area = 96.0 * 96.0;
};

// One evaluated set of images and GT (everything, one size range, or the images with
// a given number of objects). AP and ABO are fractions in [0, 1].
struct SubsetEvaluation {
  std::string name;             // "all", "small", ..., "1 object", ..., ">4 objects"
  int64_t images = 0;           // images in the set
  int64_t ground_truth = 0;     // GT counted as positives (non-crowd, in the size range)
  int64_t predictions = 0;      // predictions scored in these images
  std::vector<int64_t> class_ground_truth;      // [class] positives per class
  std::vector<std::vector<double>> class_ap;    // [class][threshold]; NaN: no GT
  std::vector<double> mean_ap;                  // [threshold], over classes with GT
  std::vector<double> class_abo;                // [class]; NaN: no GT
  double abo = 0;                               // NaN when the set has no GT
  int64_t classes_with_ground_truth = 0;        // the classes in the mean
};

struct EvaluationResult {
  Protocol protocol = Protocol::voc;
  EvaluationOptions options;
  std::vector<Category> categories;           // the class order of every [class] vector
  SubsetEvaluation all;
  std::vector<SubsetEvaluation> by_size;          // small, medium, large (if breakdowns)
  std::vector<SubsetEvaluation> by_object_count;  // 1, 2, 3, 4, >4 objects (if breakdowns)
  int64_t crowd_ground_truth = 0;     // crowd GT (ignore regions)
  int64_t predictions_given = 0;      // detections passed in
  int64_t predictions_scored = 0;     // after the protocol's filters
};

// Evaluates `detections` against `ground_truth`. Throws std::invalid_argument naming the
// detection or annotation (by index and id) when an image id or category id is unknown
// or a mask's size differs from its image's.
EvaluationResult evaluate(const Dataset& ground_truth, const std::vector<Detection>& detections,
                          const EvaluationOptions& options = {});

}  // namespace wise::data
