// Training Mask R-CNN (models/mask_rcnn.h): WISE's second stage, what apps/train_maskrcnn
// runs, on ground-truth masks (the fully supervised upper bound) or on the PRM stage's
// pseudo masks (WISE).
//
//   data   <data_dir>/annotations/{train,val}.json (COCO) and images/{train,val}/; the
//          training annotations may come from another COCO file (`train_annotations`,
//          e.g. train_prm's pseudo_masks-sample.json: same images, pseudo masks)
//   model  MaskRcnn on a ResNet-FPN; the body from `weights` (torchvision names: an
//          ImageNet ResNet, wise's shipped object-centric body, a classifier's), or
//          from scratch
//   loss   WISE Eq. 2: L_cls + L_box + L_mask + the RPN's L_objectness + L_rpn_box
//   solver SGD with momentum, linear warm-up, x0.1 at each milestone, no weight decay on
//          norm weights and biases, biases at bias_lr_multiplier x the rate
//          (maskrcnn-benchmark's 2, the `paper` preset)
//   loop   run_training_loop (train/training_loop.h): checkpoints, --resume
//          (bit-identical on the CPU: the batches and the RPN / RoI samples are functions
//          of the iteration), the NaN guard, progress, <out_dir>/log.jsonl
//   val    every val_every steps (the model after that many steps, into the log) and at
//          the end: mask mAP at 0.25 / 0.5 / 0.75 and ABO on the val split under the
//          `voc` protocol (and `wise`'s at the end), detections written as COCO results
#pragma once

#include <cstdint>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/loader.h"
#include "evaluation/evaluation.h"
#include "models/mask_rcnn.h"
#include "train/solver.h"
#include "train/training_loop.h"
#include "train/weak_data.h"

namespace wise {

using InstanceIterationBatches = LoaderIterations<data::InstanceLoader, data::InstanceSource, data::InstanceBatch>;

struct MaskRcnnTrainingOptions {
  std::string data_dir;           // annotations/{train,val}.json, images/{train,val}/
  std::string train_annotations;  // "" = <data_dir>/annotations/train.json
  std::string out_dir;
  bool resume = false;

  // Model: the default is small and fast for the shapes sets at their native size.
  int depth = 18;
  double width_multiplier = 0.25;
  Normalization norm = Normalization::frozen_batch_norm;  // torchvision's, with `weights`
  int trainable_layers = 5;        // 0..5 (torchvision: 3)
  int64_t fpn_channels = 64;       // torchvision: 256
  std::string weights;             // the body (safetensors, torchvision names); "" = from scratch
  std::vector<float> anchor_sizes{16, 32, 64, 128, 256};  // one per level; torchvision 32..512
  int64_t representation_size = 256;                      // box head; torchvision 1024
  int64_t mask_layers = 4;                                 // mask head convs (torchvision 4)
  int64_t rpn_batch_size_per_image = 256;
  int64_t rpn_pre_nms_top_n_train = 1000, rpn_post_nms_top_n_train = 500;  // torchvision 2000 / 2000
  int64_t rpn_pre_nms_top_n_test = 500, rpn_post_nms_top_n_test = 300;     // torchvision 1000 / 1000
  int64_t box_batch_size_per_image = 128;  // torchvision 512
  int64_t detections_per_img = 100;
  float box_score_thresh = 0.05f;  // inference: detections scoring below are dropped (torchvision's)

  // Solver.
  int64_t iterations = 3000;
  int64_t batch_size = 4;
  double base_lr = 0.02;
  double momentum = 0.9;
  double weight_decay = 1e-4;
  double bias_lr_multiplier = 1.0;
  int64_t warmup_iters = 200;
  double warmup_factor = 1.0 / 3.0;
  std::vector<int64_t> milestones;  // empty: at 2/3 and 8/9 of `iterations`

  // Augmentation and data.
  float flip_probability = 0.5f;
  float jitter = 0.2f;
  int64_t image_size = 0;  // > 0: short side (and max_image_size the long side); 0: native
  int64_t max_image_size = 1333;
  uint64_t seed = 0;
  int num_workers = 1;

  // Loop.
  int64_t checkpoint_every = 500;
  int keep_last = 3;
  int64_t log_every = 20;
  int64_t val_every = 0;   // > 0: mask mAP of the first val_limit val images into the log
  int64_t val_limit = 100;
  bool validate = true;    // at the end, on the whole val split
  int64_t val_batch_size = 8;

  Device device = Device::cpu;
  std::ostream* progress_stream = &std::cerr;
  // The job's processes (train/data_parallel.h): null, this process alone. With several,
  // batch_size is the global batch (each rank reads batch_size / W of it), and rank 0
  // alone writes files and runs what follows training.
  distributed::Communicator* communicator = nullptr;
};

// The `paper` preset (WISE's Mask R-CNN, maskrcnn-benchmark's R50-FPN schedule): lr
// 0.00125 x batch size, momentum 0.9, weight decay 1e-4, biases at 2x the rate, 500
// warm-up iterations at 1/3.
void apply_paper_preset(MaskRcnnTrainingOptions& options);

struct MaskRcnnValidation {
  data::EvaluationResult voc, wise;
  int64_t images = 0, detections = 0;
  double seconds = 0;
  std::string results_path;  // the COCO results written ("" when not asked)
};

struct MaskRcnnTrainingResult {
  TrainingOutcome outcome;
  bool validated = false;
  MaskRcnnValidation validation;
  int64_t train_images = 0, train_instances = 0, batches_per_epoch = 0;
  double train_seconds = 0;
};

// The configuration the options describe, for `num_classes` categories (+ background).
MaskRcnnConfig mask_rcnn_config_of(const MaskRcnnTrainingOptions& options, int64_t num_classes);

// `model`'s detections of every image of `images` (files under `image_folder`) as COCO
// results: at the native size (or image_size / max_image_size), val_batch_size images per
// batch, boxes and masks back at each image's original size (train/detection_results.h).
// `on_batch(done, total)` after each batch, when given.
std::vector<data::Detection> predict_mask_rcnn(MaskRcnn& model, const data::Dataset& images,
                                               const std::string& image_folder, const MaskRcnnTrainingOptions& options,
                                               const std::function<void(int64_t, int64_t)>& on_batch = {});

// Mask mAP of `model` on the first `limit` images of `split` (0: all) at the native size
// (or image_size), under both protocols; the COCO results go to results_path when not "".
MaskRcnnValidation validate_mask_rcnn(MaskRcnn& model, const DatasetSplit& split, int64_t limit,
                                      const MaskRcnnTrainingOptions& options, const std::string& results_path);

// Trains (or resumes) as described above; throws on bad options, a missing or bad dataset
// (naming the file) and I/O errors.
MaskRcnnTrainingResult train_mask_rcnn(const MaskRcnnTrainingOptions& options);

// "mask mAP 25/50/75 (voc) 0.912 / 0.884 / 0.702, ABO 0.811; (wise) ...; 500 images, 1234 detections, 41 s"
std::string format_mask_rcnn_validation(const MaskRcnnValidation& validation);

}  // namespace wise
