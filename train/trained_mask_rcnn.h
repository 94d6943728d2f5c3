// A Mask R-CNN that train_maskrcnn trained, read back for inference (apps/segment, the
// pipeline's evaluation): the configuration stored in the checkpoint's metadata rebuilds
// the network (depth, width, FPN channels, anchors, heads, the input size) and names its
// categories; the checkpoint's "model." tensors fill it.
//
//   auto trained = load_trained_mask_rcnn("runs/maskrcnn", Device::cpu);  // its newest checkpoint
//   std::vector<data::Detection> found = predict_mask_rcnn(*trained->model, images, folder, trained->options);
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "models/mask_rcnn.h"
#include "nn/parameter_buffer.h"
#include "train/mask_rcnn_training.h"

namespace wise {

struct TrainedMaskRcnn {
  std::string checkpoint;  // the file read
  int64_t iteration = 0;   // optimizer steps it had taken
  // The model and input-size fields of the run's options (the rest are defaults).
  MaskRcnnTrainingOptions options;
  std::vector<data::Category> categories;  // label l >= 1 is categories[l - 1]
  ParameterBuffer parameters;
  std::unique_ptr<MaskRcnn> model;  // uses `parameters`
};

// `path`: a train_maskrcnn --out folder (its newest intact checkpoint; broken ones are
// skipped with a warning on stderr) or one checkpoint file. Throws wise::Error naming the
// file when it is not a Mask R-CNN checkpoint, lacks a field (named by its dotted path),
// or its tensors do not fit the configuration. box_score_thresh: the inference's score
// threshold (torchvision's box_score_thresh; not a trained quantity, so not stored).
std::unique_ptr<TrainedMaskRcnn> load_trained_mask_rcnn(const std::string& path, Device device,
                                                        float box_score_thresh = 0.05f);

}  // namespace wise
