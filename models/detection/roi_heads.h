// Mask R-CNN's second stage (He et al. 2017, Sec. 3; Fast R-CNN's heads on FPN levels,
// Lin et al. 2017, Sec. 4.2): torchvision 0.14's RoIHeads with its box and mask branches.
//
//   training, per image:
//     proposals += the gt boxes (add_gt_proposals)
//     match: IoU >= fg_iou_thresh -> the gt's class, < bg_iou_thresh -> background (0)
//     sample batch_size_per_image RoIs, at most positive_fraction of them foreground
//     regression targets: encode(matched gt, RoI) with bbox_reg_weights (10, 10, 5, 5)
//   box branch:  RoIAlign 7x7 of each RoI's FPN level (FPN Eq. 1) -> BoxHead
//     L_cls = cross entropy of class_logits against the labels, mean over the RoIs
//     L_box = smooth L1 (beta 1/9) of the label's deltas against the targets, summed
//             over the foreground RoIs / number of RoIs        (fastrcnn_loss)
//   mask branch (foreground RoIs only): RoIAlign 14x14 -> MaskHead -> the label's 28x28
//     logits; L_mask = BCE against the gt mask cropped to the RoI and resized to 28x28
//     (project_masks_on_boxes), mean over pixels                  (maskrcnn_loss)
//   The step's loss is Eq. 2's L = L_cls + L_box + L_mask (with the RPN's two terms).
//
//   inference: box branch on every proposal; per class >= 1: decode the class's deltas,
//     clip, softmax score > score_thresh, boxes >= 1e-2 px, NMS at nms_thresh per class,
//     the top detections_per_img per image (postprocess_detections); then the mask branch
//     on the detections: sigmoid of the detected class's logits (maskrcnn_inference).
//
// Index bookkeeping (labels, the sample, per-image splits) is on the host, as in the RPN
// (rpn.h says why); the arithmetic runs on the features' device.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/box_ops.h"
#include "models/detection/box_head.h"
#include "models/detection/mask_head.h"
#include "models/detection/rpn.h"
#include "models/detection/stage_times.h"
#include "nn/parameter_buffer.h"
#include "nn/random.h"
#include "nn/roi_align.h"
#include "nn/tensor.h"

namespace wise {

// torchvision's RoIHeads arguments with maskrcnn_resnet50_fpn's defaults.
struct RoiHeadsConfig {
  MultiScaleRoiAlignOptions box_roi_pool{7, 7, 2, false, {0.25f, 0.125f, 0.0625f, 0.03125f}};
  MultiScaleRoiAlignOptions mask_roi_pool{14, 14, 2, false, {0.25f, 0.125f, 0.0625f, 0.03125f}};
  BoxHeadConfig box_head;
  MaskHeadConfig mask_head;
  double fg_iou_thresh = 0.5;
  double bg_iou_thresh = 0.5;
  int64_t batch_size_per_image = 512;
  double positive_fraction = 0.25;
  kernels::BoxCoderWeights bbox_reg_weights{10.0f, 10.0f, 5.0f, 5.0f};
  float score_thresh = 0.05f;
  double nms_thresh = 0.5;
  int64_t detections_per_img = 100;
  float smooth_l1_beta = 1.0f / 9.0f;
};

// One image's ground truth on the features' device: boxes (G, 4) float32, labels (G)
// int64 in [1, num_classes), masks (G, H, W) uint8 in the image's pixels.
struct DetectionTarget {
  Tensor boxes;
  Tensor labels;
  Tensor masks;
};

// One image's detections on the device: boxes (D, 4), scores (D), labels (D) int64, and
// mask probabilities (D, 1, M, M) of each box's class (M = 28), before pasting.
struct Detections {
  Tensor boxes;
  Tensor scores;
  Tensor labels;
  Tensor masks;
};

// One image's candidate RoIs: its proposals and then its gt boxes (add_gt_proposals),
// each one's label (the matched gt's class, 0 background, -1 between the thresholds) and
// matched gt (torchvision's clamped matched_idxs: 0 where none).
struct RoiCandidates {
  std::vector<float> boxes;  // (R, 4)
  std::vector<int64_t> labels;
  std::vector<int64_t> matched;
};

// A training step's RoIs, per image, in sampled order (ascending proposal index, as
// torchvision's torch.where over the sampler's masks).
struct RoiSample {
  std::vector<std::vector<float>> boxes;        // (R_n, 4) RoI boxes
  std::vector<std::vector<int64_t>> labels;     // (R_n) 0 background, else the gt's class
  std::vector<std::vector<int64_t>> matched;    // (R_n) the matched gt (0 for background)
};

class RoiHeads {
 public:
  RoiHeads(const RoiHeadsConfig& config, ParameterBuffer& buffer, std::string prefix = "roi_heads.");
  void initialize(Generator& generator);

  // ---- Training ----------------------------------------------------------------------
  // features: P2..P5 plain (N, C, H_l, W_l) (P6 is not pooled); proposals[n] (P_n, 4) from
  // the RPN; targets[n] the ground truth. Samples from `generator`, then compute_losses.
  void forward_training(const std::vector<Tensor>& features, const std::vector<Tensor>& proposals,
                        const std::vector<DetectionTarget>& targets, Generator& generator);
  const Tensor& loss_classifier() const { return loss_classifier_; }  // [1]
  const Tensor& loss_box_reg() const { return loss_box_reg_; }        // [1]
  const Tensor& loss_mask() const { return loss_mask_; }              // [1]
  // Adds compute_losses' and forward_inference's box and mask branch times to `times`
  // (nullptr: stop); for the benchmark's split (stage_times.h).
  void time_stages(StageTimes* times) { stage_times_ = times; }
  // After forward_training: the three losses' gradients [1] (undefined = 0). Accumulates
  // (+=) the heads' parameter gradients and dL/dP_l into d_features[l] (plain, P_l's shape;
  // undefined = not wanted).
  void backward(const Tensor& d_loss_classifier, const Tensor& d_loss_box_reg,
                const Tensor& d_loss_mask, std::vector<Tensor>& d_features);

  // forward_training's steps (public so that a parity test can feed torchvision's sample):
  // select_training_samples = subsample(assign_targets_to_proposals(...)), then
  // compute_losses.
  std::vector<RoiCandidates> assign_targets_to_proposals(const std::vector<Tensor>& proposals,
                                                         const std::vector<DetectionTarget>& targets) const;
  // The balanced sample of each image's candidates, drawn on `device`.
  RoiSample subsample(const std::vector<RoiCandidates>& candidates, Device device, Generator& generator) const;
  void compute_losses(const std::vector<Tensor>& features, const RoiSample& sample,
                      const std::vector<DetectionTarget>& targets);

  // ---- Inference ---------------------------------------------------------------------
  // Detections per image, boxes clipped to image_sizes[n].
  std::vector<Detections> forward_inference(const std::vector<Tensor>& features,
                                            const std::vector<Tensor>& proposals,
                                            const std::vector<ImageSize>& image_sizes);

  const RoiHeadsConfig& config() const { return config_; }
  const BoxHead& box_head() const { return box_head_; }
  const MaskHead& mask_head() const { return mask_head_; }

 private:
  StageTimes* stage_times_ = nullptr;
  // The mask branch's logits of `labels`' channels for rois (R, 5): (R, M, M).
  void mask_logits_of(const std::vector<Tensor>& features, const Tensor& rois, const Tensor& labels,
                      Tensor& selected);

  RoiHeadsConfig config_;
  BoxHead box_head_;
  MaskHead mask_head_;
  // compute_losses' tensors, kept for backward.
  std::vector<Tensor> features_;
  Tensor box_rois_, box_pooled_, labels_, positive_, positive_labels_, positive_regression_,
      positive_deltas_, regression_targets_, loss_classifier_, box_loss_sum_, loss_box_reg_;
  Tensor mask_rois_, mask_pooled_, mask_logits_selected_, mask_targets_, loss_mask_;
  int64_t num_rois_ = 0, num_positive_ = 0;
};

}  // namespace wise
