// PRM's own instance segmentation as train_prm's baseline step (issue 21, item 4): the
// "PRM" row of WISE's Table 1, on the same data and from the same classifier as WISE.
//
//   peaks      the trained PRM's kept peaks on each val image (models/prm.h: classes
//              predicted present, class score >= 0, and peaks that train/peak_rule.h counts:
//              the rule the val peak quality uses), each with its peak
//              response map (peak backpropagation)
//   proposals  the images' mask proposals (proposals/proposal_run.h: selective search
//              through the disk cache, or a precomputed folder)
//   retrieval  each peak's response map picks the proposal maximising
//              alpha sum R(mask) + sum R(contour) - beta sum Q(mask), then the mask NMS
//              (pseudo_masks/peak_retrieval.h: PRM's demo settings by default)
//   output     the instances as COCO results (score = sigmoid of the class score), and
//              their mask mAP at 0.25 / 0.5 / 0.75 and ABO against the split's ground
//              truth under both protocols
//
// Runs at the images' native size (the proposals' and the masks'); the maps of an image
// padded into a larger batch are cropped to it. Nothing is trained; the model's inference
// statistics are used.
#pragma once

#include <cstdint>
#include <string>

#include "distributed/communicator.h"
#include "evaluation/evaluation.h"
#include "models/prm.h"
#include "proposals/proposal_run.h"
#include "pseudo_masks/peak_retrieval.h"
#include "train/weak_data.h"

namespace wise {

struct PrmBaselineStepOptions {
  bool enabled = false;
  pseudo_masks::RetrievalOptions retrieval;
  proposals::ProposalRunOptions proposals;  // `images` is filled in from the split
  int64_t limit = 0;      // the first `limit` images of the split (0: all)
  // Under mpirun, the job: its ranks split the images (train/rank_shards.h) and rank 0
  // writes the results (and the report) of one process. Null: alone.
  distributed::Communicator* communicator = nullptr;
  int64_t batch_size = 16;
  Device device = Device::cpu;
};

struct PrmBaselineReport {
  std::string path;  // the COCO results written
  int64_t images = 0, peaks = 0, instances = 0;
  int64_t ground_truth = 0;          // the split's (non-crowd) instances in those images
  double proposal_milliseconds = 0;  // selective search's total (0 when all were cached)
  double seconds = 0;                // the whole step
  data::EvaluationResult voc, wise;
};

// Runs the step on `split` (val, for the table) and writes the results to `out_path`
// atomically. The model's config decides which peaks are kept. In a job every rank calls
// it; the report's counts are the job's, its scores on rank 0 alone.
PrmBaselineReport run_prm_baseline(PrmClassifier& model, const DatasetSplit& split,
                                   const PrmBaselineStepOptions& options, const std::string& out_path);

// "PRM baseline (peak response retrieval): 1210 instances from 1870 peaks on 500 images
//  (2496 true instances); voc mAP 25/50/75 0.412 / 0.301 / 0.120, wise ..., ABO 0.402; 95 s"
std::string format_prm_baseline_report(const PrmBaselineReport& report);

}  // namespace wise
