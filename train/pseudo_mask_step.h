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
//   pick       sample (Eq. 1, seeded per image and peak) or best
//   report     instances found; and, since shapes training images have masks that never
//              reached training, the pseudo masks' own mask mAP at 0.25 / 0.5 / 0.75
//              against them under both protocols (the paper's Table 3 "pseudo masks" row),
//              each pseudo mask scored by its proposal's objectness.
#pragma once

#include <cstdint>
#include <string>

#include "evaluation/evaluation.h"
#include "models/prm.h"
#include "proposals/proposal_run.h"
#include "pseudo_masks/pseudo_masks.h"
#include "train/peak_rule.h"
#include "train/weak_data.h"

namespace wise {

struct PseudoMaskStepOptions {
  bool enabled = false;
  pseudo_masks::PseudoMaskOptions selection;
  proposals::ProposalRunOptions proposals;  // `images` is filled in from the split
  int64_t limit = 0;           // the first `limit` images of the split (0: all)
  PeakRule peaks;  // train_prm sets its own (PrmTrainingOptions::peaks)
  int64_t batch_size = 16;
  Device device = Device::cpu;
};

struct PseudoMaskReport {
  std::string path;            // the COCO file written
  int64_t images = 0, peaks = 0, peaks_without_proposal = 0, duplicates = 0, masks = 0;
  int64_t ground_truth = 0;    // the split's instances in those images
  double proposal_milliseconds = 0;  // selective search's total (0 when all were cached)
  data::EvaluationResult voc, wise;  // the pseudo masks against the split's ground truth
};

// Runs the step on `split` and writes <out_path> atomically. The model's inference
// statistics are used; nothing is trained.
PseudoMaskReport make_pseudo_masks(PrmClassifier& model, const DatasetSplit& split,
                                   const PseudoMaskStepOptions& options, const std::string& out_path);

// "pseudo masks (sample, seed 0): 2,310 masks from 2,498 peaks on 500 images (120
//  without a proposal, 68 duplicates); against the 2,431 true instances: voc mAP
//  25/50/75 0.712 / 0.603 / 0.301, wise 0.700 / 0.590 / 0.290"
std::string format_pseudo_mask_report(const PseudoMaskReport& report, const PseudoMaskStepOptions& options);

}  // namespace wise
