// Training a multi-label image classifier on image-level labels (what
// apps/train_classifier runs): issue 15's demonstration of train/, and the
// first half of PRM's training.
//
//   data   <data_dir>/annotations/{train,val}.json (COCO), images/{train,val}/;
//          only the image-level label sets are read (data/loader.h's WeakLoader:
//          no masks reach the model). K = the dataset's categories.
//   model  MultilabelClassifier (models/multilabel_classifier.h): ResNet body ->
//          global average pool -> fc (K logits); from scratch, or the body from
//          ImageNet weights (`weights`).
//   loss   multilabel soft margin (one sigmoid per class, mean over classes and images)
//   solver SGD with momentum, or Adam / AdamW (nn/adam.h), with weight decay (none
//          on norm weights and biases), linear warm-up, then x0.1 at each milestone
//   augment horizontal flip and colour jitter (brightness, contrast, saturation),
//          native size, ImageNet normalisation
//   loop   run_training_loop (train/training_loop.h): checkpoints, --resume, the
//          NaN guard, progress and <out_dir>/log.jsonl
//   val    at the end: per-class AP, mAP, exact match and accuracy at 0.5 on the
//          val split (train/classification_metrics.h), returned for printing and
//          appended to the log as {"step": k, "event": "validation", ...}.
//
// Batches: iteration i takes batch i mod B of epoch i div B (B = full batches
// per epoch; the remainder of a shuffled epoch is dropped). An epoch's order and
// every image's augmentation are functions of (seed, epoch, index) alone
// (data/transforms.h), so a resumed run sees exactly the batches of an
// uninterrupted one and, on the CPU, ends with the same bits.
//
// Normalization: the default is batch_norm trained from scratch (batch
// statistics in training, running statistics folded into the convolutions at
// validation, so validation is plain convolutions). 16 images per batch give BN
// good statistics; GroupNorm (--norm group_norm) did no better in our runs.
// BN's running statistics are frozen entries of the ParameterBuffer, so
// checkpoints carry them with the weights.
#pragma once

#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "models/multilabel_classifier.h"
#include "models/resnet.h"
#include "train/classification_metrics.h"
#include "train/solver.h"
#include "train/training_loop.h"

namespace wise {

struct ClassifierTrainingOptions {
  std::string data_dir;  // annotations/{train,val}.json, images/{train,val}/
  std::string out_dir;   // checkpoints and log.jsonl
  bool resume = false;

  // Model.
  int depth = 18;
  double width_multiplier = 0.25;  // ~13 steps/s at 192 x 192 on 2 cores
  int output_stride = 32;          // C5's: 32, 16 or 8 (dilated stages, models/resnet.h)
  Normalization norm = Normalization::batch_norm;
  std::string weights;  // ImageNet body weights (safetensors, torchvision keys); "" = from scratch

  // Solver.
  OptimizerKind optimizer = OptimizerKind::sgd;
  int64_t iterations = 900;  // ~14 epochs of shapes-v1's 1,000 train images
  int64_t batch_size = 16;
  double base_lr = 0.1;
  double momentum = 0.9;        // SGD's
  double weight_decay = 1e-4;  // not on norm weights and biases (AdamW: decoupled)
  int64_t warmup_iters = 50;
  double warmup_factor = 0.1;
  // Iterations where the lr drops x0.1; empty: at 2/3 and 8/9 of `iterations`.
  std::vector<int64_t> milestones;

  // Augmentation and data.
  float flip_probability = 0.5f;
  float jitter = 0.4f;  // brightness, contrast and saturation strength
  int64_t image_size = 0;  // > 0: images resized to this short side (bilinear); 0: native size
  uint64_t seed = 0;    // weights' initialisation, epoch order and augmentation
  int num_workers = 1;  // loader threads (0: on the training thread)

  // Loop.
  int64_t checkpoint_every = 100;
  int keep_last = 3;
  int64_t log_every = 10;
  int64_t val_batch_size = 32;
  bool validate = true;  // at the end
  // After a completed run: the ResNet body written as safetensors with torchvision's
  // key names (conv1.weight, layer1.0.bn1.running_mean, ...; no fc), the file that
  // --weights of this and later stages loads as an ImageNet body. "" = none.
  std::string export_body;

  Device device = Device::cpu;
  std::ostream* progress_stream = &std::cerr;  // progress and notes; nullptr: silent
  // The job's processes (train/data_parallel.h): null, this process alone. With several,
  // batch_size is the global batch (each rank reads batch_size / W of it), and rank 0
  // alone writes files and runs what follows training.
  distributed::Communicator* communicator = nullptr;
};

struct ClassifierValidation {
  MultilabelMetrics metrics;
  double loss = 0;  // the mean multilabel soft margin over the split
  std::vector<std::string> class_names;
};

struct ClassifierTrainingResult {
  TrainingOutcome outcome;
  bool validated = false;  // only after a completed run
  ClassifierValidation validation;
  int64_t train_images = 0, batches_per_epoch = 0;
};

// Trains (or resumes) as described above; throws on bad options, a missing or
// bad dataset (naming the file and how to make shapes-v1) and I/O errors.
ClassifierTrainingResult train_multilabel_classifier(const ClassifierTrainingOptions& options);

}  // namespace wise
