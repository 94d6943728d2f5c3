// Training PRM (models/prm.h) on image-level labels: WISE's first stage, what
// apps/train_prm runs.
//
//   data   <data_dir>/annotations/{train,val}.json (COCO), images/{train,val}/; the
//          training side reads the image-level label sets only (data/loader.h's
//          WeakLoader: no masks reach the model). K = the dataset's categories.
//   model  PrmClassifier: ResNet body -> 1x1 conv class response maps -> peak
//          stimulation (mean of each map's peaks) -> K class scores; from scratch,
//          or the body from ImageNet-style weights (`weights`: torchvision names, e.g.
//          what train_classifier --export-body writes)
//   loss   multilabel soft margin of the class scores
//   solver SGD with momentum or Adam/AdamW, no weight decay on norm weights and
//          biases, the backbone at backbone_lr_multiplier x the classifier's rate
//          (PRM: 0.01 from ImageNet weights), linear warm-up, x0.1 at each milestone
//   loop   run_training_loop (train/training_loop.h): checkpoints, --resume, the NaN
//          guard, progress and <out_dir>/log.jsonl
//   val    at the end, on the val split: the classification metrics of the class
//          scores (train/classification_metrics.h), and the quality of the peaks
//          (train/peak_quality.h): the peaks of the classes predicted present (score
//          >= 0, a logit) on the x8-upsampled class maps, those >= peak_fraction x
//          their map's maximum, mapped to image pixels, against the val instances.
//          The same again with the classes of the image-level label (the peaks pseudo
//          masks start from, free of classification errors). The val masks are
//          evaluation data; they never reach training.
//   pseudo masks (when asked) on the train split: train/pseudo_mask_step.h.
//   PRM baseline (when asked) on the val split: train/prm_baseline_step.h.
#pragma once

#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "models/prm.h"
#include "train/classification_metrics.h"
#include "train/figure_step.h"
#include "train/peak_quality.h"
#include "train/peak_rule.h"
#include "train/prm_baseline_step.h"
#include "train/pseudo_mask_step.h"
#include "train/solver.h"
#include "train/training_loop.h"

namespace wise {

struct PrmTrainingOptions {
  std::string data_dir;  // annotations/{train,val}.json, images/{train,val}/
  std::string out_dir;   // checkpoints and log.jsonl
  bool resume = false;

  // Model.
  int depth = 18;
  double width_multiplier = 0.25;
  int output_stride = 32;  // 32, 16 (layer4 dilated) or 8 (layer3 and layer4): the CAM's stride
  Normalization norm = Normalization::batch_norm;
  std::string weights;  // backbone weights (safetensors, torchvision keys); "" = from scratch
  int upsample_factor = 8;   // the class maps' upsampling at inference (PRM's sub-pixel locating)
  // Which peaks make a class score in training: 0, PRM's rule, those >= the map's lower
  // median; f in (0, 1], those >= f x the map's maximum (PeakThreshold::fraction_of_max),
  // so that training raises a present class's strong peaks and not the weak ones off
  // its objects.
  float training_peak_fraction = 0.0f;
  // The peaks that count (train/peak_rule.h), for val, pseudo masks, figures and the
  // baseline's response maps alike.
  PeakRule peaks;
  // The inference peaks' window on the upsampled grid (odd; PRM: 3, which on a x8 map is
  // about the class map's own 3x3 cells); f (2 r) + 1 keeps one peak within r cells.
  int peak_window = 3;

  // Solver.
  OptimizerKind optimizer = OptimizerKind::adam;
  int64_t iterations = 3000;
  int64_t batch_size = 16;
  double base_lr = 1e-3;
  double backbone_lr_multiplier = 1.0;  // PRM's 0.01 when the backbone is pretrained
  double momentum = 0.9;                // SGD's
  double weight_decay = 1e-4;           // not on norm weights and biases
  int64_t warmup_iters = 100;
  double warmup_factor = 0.1;
  std::vector<int64_t> milestones;  // empty: at 2/3 and 8/9 of `iterations`

  // Augmentation and data.
  float flip_probability = 0.5f;
  float jitter = 0.4f;
  int64_t image_size = 0;  // > 0: images resized to this short side; 0: native size
  uint64_t seed = 0;
  int num_workers = 1;

  // Loop.
  int64_t checkpoint_every = 250;
  int keep_last = 3;
  int64_t log_every = 10;
  int64_t val_batch_size = 16;
  bool validate = true;  // at the end
  // After a completed run: pseudo masks of the train split (train/pseudo_mask_step.h),
  // written to <out_dir>/pseudo_masks-<sample|best>.json.
  PseudoMaskStepOptions pseudo_masks;
  // After a completed run: PRM's own instance segmentation of the val split
  // (train/prm_baseline_step.h), written to <out_dir>/prm_baseline-val.json.
  PrmBaselineStepOptions prm_baseline;
  // After a completed run: Figure-1 panels of the first figures.count train images
  // (train/figure_step.h) in <out_dir>/figures/; selection and proposals are the pseudo
  // masks'.
  FigureStepOptions figures;

  Device device = Device::cpu;
  std::ostream* progress_stream = &std::cerr;  // nullptr: silent
  // The job's processes (train/data_parallel.h): null, this process alone. With several,
  // batch_size is the global batch (each rank reads batch_size / W of it), and rank 0
  // alone writes files. After training the ranks split the images of the pseudo masks and
  // the baseline (train/rank_shards.h); validation and figures are rank 0's.
  distributed::Communicator* communicator = nullptr;
};

struct PrmValidation {
  MultilabelMetrics classification;
  PeakQuality peaks;           // the peaks of the classes predicted present
  PeakQuality labelled_peaks;  // the peaks of the classes in the image-level label
  std::vector<std::string> class_names;
};

struct PrmTrainingResult {
  TrainingOutcome outcome;
  bool validated = false;  // only after a completed run
  PrmValidation validation;
  bool made_pseudo_masks = false;
  PseudoMaskReport pseudo_masks;
  bool ran_prm_baseline = false;
  PrmBaselineReport prm_baseline;
  std::vector<std::string> figures;  // the panels written
  int64_t train_images = 0, batches_per_epoch = 0;
};

// Trains (or resumes) as described above; throws on bad options, a missing or bad
// dataset (naming the file and how to make one) and I/O errors.
PrmTrainingResult train_prm(const PrmTrainingOptions& options);

}  // namespace wise
