// WISE's pseudo masks as train_prm's last step (issue 21, item 6): the trained PRM's peaks
// on a split's images pick mask proposals (pseudo_masks/pseudo_masks.h, Eq. 1), and the
// picks are written as a COCO dataset -- the images and categories of the split, one
// annotation per pseudo mask (compressed RLE) -- that Mask R-CNN's trainer reads as it
// reads ground truth.
//
//   peaks      for each image and each class in its image-level label (not the predicted
//              classes: the labels are known for training images), the peaks of its x8
//              upsampled class map that train/peak_rule.h counts, in image pixels
//              (image_peaks, the rule the val peak quality uses)
//   proposals  proposals/proposal_run.h's proposals_for_image: selective search through
//              the disk cache (keyed on code, options and pixels), or a precomputed folder
//   pick       sample (Eq. 1, seeded per image and peak) or best, among the candidates
//              weighted by
//                objectness  their b_k alone (the paper's Eq. 1; the default)
//                class_map   b_k x their class-map support (train/class_map_support.h):
//                            Eq. 1 with PRM's class-aware term, so that a peak near a small
//                            shape draws the shape's tight proposals over the background
//                            ones around it
//   suppress   optionally (nms_threshold > 0; off by default, as in WISE), a greedy mask NMS
//              among each image's pseudo masks of one class, ranked by score
//              (pseudo_masks/mask_nms.h): different proposals picked by several peaks of one
//              object would otherwise give Mask R-CNN conflicting copies of it
//   keep       optionally (min_score > 0; off by default, as in WISE), only the masks scored
//              at least min_score: most low-support picks are background proposals next
//              to a small shape (models/PRM.md), and Mask R-CNN learns them as objects
//   score      each pseudo mask's confidence, which ranks it in the report's mAP (and is
//              written nowhere else: Mask R-CNN trains on the masks, not their scores):
//                class_map   (the default) the mask's class-map support
//                            (train/class_map_support.h): the share of the mask its class's
//                            map supports. A proposal covering the background around a
//                            small shape scores low, a tight one high
//                objectness  the proposal's b_k, Eq. 1's weight (below 0.5 for most of
//                            selective search's proposals, which `wise`'s 0.5 score
//                            filter then drops)
//   report     instances found; and, since shapes training images have masks that never
//              reached training, the pseudo masks' own mask mAP at 0.25 / 0.5 / 0.75
//              against them under both protocols (the paper's Table 3 "pseudo masks" row).
#pragma once

#include <cstdint>
#include <string>

#include "distributed/communicator.h"
#include "evaluation/evaluation.h"
#include "models/prm.h"
#include "proposals/proposal_run.h"
#include "proposals/shard.h"
#include "pseudo_masks/pseudo_masks.h"
#include "train/peak_rule.h"
#include "train/weak_data.h"

namespace wise {

enum class PseudoMaskWeighting { objectness, class_map };
enum class PseudoMaskScore { class_map, objectness };

// "class_map" / "objectness", and the inverse (throws std::invalid_argument naming the
// value and the choices).
const char* pseudo_mask_score_name(PseudoMaskScore score);
PseudoMaskScore parse_pseudo_mask_score(const std::string& name);
const char* pseudo_mask_weighting_name(PseudoMaskWeighting weighting);
PseudoMaskWeighting parse_pseudo_mask_weighting(const std::string& name);

struct PseudoMaskStepOptions {
  bool enabled = false;
  pseudo_masks::PseudoMaskOptions selection;
  PseudoMaskWeighting weighting = PseudoMaskWeighting::objectness;
  PseudoMaskScore score = PseudoMaskScore::class_map;
  double nms_threshold = 0;
  double min_score = 0;        // > 0: drop the masks scored below this (after the NMS)    // > 0: suppress a mask with IoU >= this with a better one of its class
  proposals::ProposalRunOptions proposals;  // `images` is filled in from the split
  int64_t limit = 0;           // the first `limit` images of the split (0: all)
  proposals::Shard shard;      // of those, this shard's (the outputs' names say which)
  // Under mpirun, the job: its ranks split the shard's images (train/rank_shards.h) and
  // rank 0 writes the files (and the report) of one process. Null: alone.
  distributed::Communicator* communicator = nullptr;
  PeakRule peaks;  // train_prm sets its own (PrmTrainingOptions::peaks)
  int64_t batch_size = 16;
  Device device = Device::cpu;
};

struct PseudoMaskReport {
  std::string path;            // the COCO instance file written (Mask R-CNN trains on it)
  std::string results_path;    // the same masks with their scores as COCO results (`evaluate`)
  int64_t images = 0, peaks = 0, peaks_without_proposal = 0, duplicates = 0, suppressed = 0, masks = 0;
  int64_t below_min_score = 0;  // kept by the NMS, then dropped by min_score
  int64_t ground_truth = 0;    // the split's instances in those images
  double proposal_milliseconds = 0;  // selective search's total (0 when all were cached)
  data::EvaluationResult voc, wise;  // the pseudo masks against the split's ground truth
};

// Runs the step on `split` and writes <out_path> and <results_path> atomically. The
// model's inference statistics are used; nothing is trained. In a job every rank calls
// it; the counts of the report are the job's, and its scores are on rank 0 alone.
PseudoMaskReport make_pseudo_masks(PrmClassifier& model, const DatasetSplit& split,
                                   const PseudoMaskStepOptions& options, const std::string& out_path,
                                   const std::string& results_path);

// "pseudo masks (sample by objectness, seed 0, scored by class_map): 2,310 masks from
//  2,498 peaks on 500 images (120 without a proposal, 68 duplicates, 0 suppressed, 0 scored
//  below 0); against the 2,431 true instances: voc mAP 25/50/75 0.712 / 0.603 / 0.301,
//  wise 0.700 / 0.590 / 0.290, ABO 0.650"
std::string format_pseudo_mask_report(const PseudoMaskReport& report, const PseudoMaskStepOptions& options);

}  // namespace wise
