// WISE at test time (the paper's Fig. 3): a trained Mask R-CNN segments images, and an
// optional refinement swaps each predicted mask for its best-IoU object proposal
// (pseudo_masks/refinement.h). What apps/segment runs.
//
//   inputs    a COCO file's images (`annotations` + `image_folder`: its image ids, so that
//             `evaluate` scores the results against it), or `paths`: image files, folders
//             (their .jpg, .jpeg and .png files, sorted) and .txt lists (a path per line,
//             relative to the list's folder), numbered 1..N in that order
//   outputs   <out_dir>/detections.json         COCO results of every image (score > score_thresh)
//             <out_dir>/detections-refined.json the same refined, with `refine`
//             <out_dir>/images.json             the images as a COCO file (ids, files, sizes)
//             <out_dir>/pictures/<name>.png     each image with its (refined) detections of
//                                               score >= draw_thresh: coloured masks, boxes,
//                                               "name 0.93" labels
#pragma once

#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "distributed/communicator.h"
#include "kernels/device.h"
#include "proposals/proposal_run.h"
#include "proposals/shard.h"
#include "pseudo_masks/refinement.h"

namespace wise {

struct SegmentOptions {
  std::string model;              // a train_maskrcnn --out folder or one of its checkpoints
  // Or no model: these COCO results on the `annotations` file's images (train_maskrcnn's
  // detections-val.json) are taken as the predictions, to refine and draw.
  std::string detections;
  std::string annotations;        // a COCO file whose images to segment...
  std::string image_folder;       // ...under this folder
  std::vector<std::string> paths;  // or images, folders and lists
  std::string out_dir;

  float score_thresh = 0.05f;  // the model's box_score_thresh (torchvision's): detections scoring less dropped
  float draw_thresh = 0.5f;    // drawn in the pictures
  bool pictures = true;
  int64_t limit = 0;           // at most this many images (0: all)
  // Of those, the shard's: positions p % count == index (proposals/shard.h); the shards'
  // outputs join with apps/merge_shards (data/shard_files.h).
  proposals::Shard shard;
  // Under mpirun, the job: its ranks split the shard's images (train/rank_shards.h), and
  // rank 0 joins their outputs into out_dir as one process writes them. Null: alone.
  distributed::Communicator* communicator = nullptr;

  bool refine = false;
  // The proposals to refine with: selective search through `proposals.cache` (computed
  // where missing; train_prm's and make_proposals' caches hit) or the files of
  // `proposals.precomputed`; `proposals.images` is set from the inputs.
  proposals::ProposalRunOptions proposals;
  pseudo_masks::RefinementOptions refinement;

  int64_t batch_size = 8;
  int num_workers = 1;
  kernels::Device device = kernels::Device::cpu;
  std::ostream* progress_stream = &std::cerr;
};

struct SegmentResult {
  int64_t images = 0;              // (in a job, the counts are the job's)
  int64_t detections = 0;          // in detections.json
  int64_t drawn = 0;               // in the pictures
  pseudo_masks::RefinementCounts refinement;
  std::string checkpoint;          // the model's file
  int64_t iteration = 0;
  double inference_seconds = 0, refinement_seconds = 0, drawing_seconds = 0;  // (in a job: rank 0's)
  std::string results_path, refined_results_path, images_path, pictures_dir;
};

// The images `options` name as a COCO dataset without annotations (the COCO file's own,
// with its categories and annotations, when given), the first `limit` of them, before the
// shard is taken; `paths` are read for their sizes.
// Throws naming the path that is missing, empty or not an image.
data::Dataset segment_inputs(const SegmentOptions& options, std::string& image_folder);

SegmentResult segment_images(const SegmentOptions& options);

}  // namespace wise
