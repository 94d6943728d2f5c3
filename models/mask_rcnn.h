// Mask R-CNN (He et al., "Mask R-CNN", ICCV 2017) on a ResNet-FPN, as torchvision 0.14's
// maskrcnn_resnet50_fpn: WISE's second stage (Laradji et al., Sec. 3.2), trained on pseudo
// masks, and at test time the only network that runs.
//
//   images (N, 3, H, W), normalised and padded to one batch (models/detection_transform.h)
//     backbone:   ResNet + FPN -> P2..P6                     (models/resnet_fpn.h)
//     RPN:        proposals per image; L_objectness, L_rpn_box (models/detection/rpn.h)
//     RoI heads:  box branch on P2..P5 -> L_cls, L_box; mask branch -> L_mask
//                 (models/detection/roi_heads.h)
//   training loss (WISE Eq. 2, Mask R-CNN's multi-task loss plus the RPN's):
//     L = L_cls + L_box + L_mask + L_objectness + L_rpn_box
//   inference: detections per image (boxes, scores, labels, 28 x 28 mask probabilities);
//     models/detection_transform.h maps them back to the input image and pastes the masks.
//
// Parameters, in one ParameterBuffer, with torchvision's state-dict names: backbone.body.*,
// backbone.fpn.*, rpn.head.*, roi_heads.box_head.*, roi_heads.box_predictor.*,
// roi_heads.mask_head.*, roi_heads.mask_predictor.*: a torchvision maskrcnn_resnet50_fpn
// state dict loads by name, and an ImageNet ResNet or a classifier's backbone by
// load_backbone. Declared in execution order, so the buffer's reverse layout puts the
// heads' gradients first.
#pragma once

#include <string>
#include <vector>

#include "models/detection/roi_heads.h"
#include "models/detection/rpn.h"
#include "models/resnet_fpn.h"
#include "nn/parameter_buffer.h"
#include "nn/random.h"
#include "nn/state_dict.h"
#include "nn/tensor.h"

namespace wise {

struct MaskRcnnConfig {
  ResNetFpnConfig backbone;  // ResNet-50, frozen BN, 3 trainable stages, 256 FPN channels
  RpnConfig rpn;
  RoiHeadsConfig roi_heads;  // num_classes, in_channels: set by with_classes()
};

// torchvision's maskrcnn_resnet50_fpn(num_classes) configuration: num_classes counts the
// background; every head's in_channels is the FPN's out_channels.
MaskRcnnConfig mask_rcnn_config(const ResNetFpnConfig& backbone, int64_t num_classes);

// The five losses of a training step, [1] each on the device.
struct MaskRcnnLosses {
  Tensor loss_classifier, loss_box_reg, loss_mask, loss_objectness, loss_rpn_box_reg;
};

// A padded batch: images (N, 3, H, W) and each image's size before padding.
struct ImageBatch {
  Tensor images;
  std::vector<ImageSize> image_sizes;
};

class MaskRcnn {
 public:
  MaskRcnn(const MaskRcnnConfig& config, ParameterBuffer& buffer);

  // torchvision's initialisation of every part (backbone, then RPN head, then RoI heads).
  void initialize(Generator& generator);
  // A backbone saved with torchvision's ResNet names (an ImageNet ResNet, wise's shipped
  // object-centric backbone, a classifier's or PRM's checkpoint): file key K goes to
  // backbone.body.K; fc.* and classifier.* are ignored. The FPN and heads are untouched.
  LoadReport load_backbone(const std::string& path);

  // ---- Training --------------------------------------------------------------------
  // Runs every stage's training path, sampling from `generator`; returns the losses.
  const MaskRcnnLosses& forward_training(const ImageBatch& batch, const std::vector<DetectionTarget>& targets,
                                         Generator& generator);
  // The same with the RPN's anchor sample and the RoI heads' sample given instead of drawn
  // (torchvision's, for tests/fixtures/mask_rcnn_parity_test.cpp): the RPN still makes its
  // training proposals (rpn().proposals()), and the RoI heads pool the sample's boxes.
  const MaskRcnnLosses& forward_training(const ImageBatch& batch, const std::vector<DetectionTarget>& targets,
                                         const RpnSample& rpn_sample, const RoiSample& roi_sample);
  // After forward_training: backward of L = the sum of the five losses into the trainable
  // parameters' gradients (+=).
  void backward();

  // ---- Inference -------------------------------------------------------------------
  // Detections per image, in the batch's (padded, resized) coordinates.
  std::vector<Detections> infer(const ImageBatch& batch);

  // Adds each stage's seconds of forward_training, backward and infer to `times`
  // (nullptr: stop): the benchmark's split (models/detection/stage_times.h).
  void time_stages(StageTimes* times);

  const MaskRcnnConfig& config() const { return config_; }
  const ResNetFpnBackbone& backbone() const { return backbone_; }
  const RegionProposalNetwork& rpn() const { return rpn_; }
  const RoiHeads& roi_heads() const { return roi_heads_; }

 private:
  const MaskRcnnLosses& collect_losses();

  StageTimes* stage_times_ = nullptr;
  MaskRcnnConfig config_;
  ParameterBuffer& buffer_;
  ResNetFpnBackbone backbone_;
  RegionProposalNetwork rpn_;
  RoiHeads roi_heads_;
  MaskRcnnLosses losses_;
  std::vector<Tensor> features_;       // P2..P6 of the last training forward (handles)
  std::vector<Tensor> pooled_levels_;  // P2..P5 in plain layout, what RoIAlign reads
  Tensor one_;                         // [1] = 1: each loss's gradient
};

}  // namespace wise
