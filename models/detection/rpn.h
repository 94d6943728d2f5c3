// The Region Proposal Network (Ren et al. 2015, Sec. 3.1, on FPN levels as Lin et al.
// 2017, Sec. 4.1), torchvision 0.14's RegionProposalNetwork: Mask R-CNN's first stage.
//
//   head:       objectness (N, T) and deltas (N, T, 4) for T anchors per image
//               (models/detection/rpn_head.h), anchors (T, 4) (anchors.h)
//   proposals:  per image: top pre_nms_top_n anchors by objectness on each level, decoded
//               (BoxCoder weights 1, 1, 1, 1), clipped to the image, boxes smaller than
//               min_size dropped, sigmoid(objectness) >= score_thresh kept, NMS at
//               nms_thresh within each level (batched_nms), the top post_nms_top_n kept.
//               No gradient flows through them (torchvision detaches the deltas).
//   training:   each anchor matched to the ground truth (IoU >= fg_iou_thresh positive,
//               < bg_iou_thresh negative, between ignored, each gt's best anchors kept
//               positive), batch_size_per_image anchors sampled per image with at most
//               positive_fraction positive, and
//                 L_objectness = mean over the sampled of BCE(objectness, label)
//                 L_box_reg    = sum over the sampled positives of smooth_l1(deltas -
//                                encode(gt, anchor); beta) / number sampled
//               over the whole batch, as torchvision's compute_loss.
//
// The forward's host side: top-n selection, target labels and the sample's index lists
// are small per-image index bookkeeping done on the host (as torchvision's data-dependent
// shapes sync too); the per-anchor arithmetic (decode, clip, NMS, IoU, matching,
// sampling, losses) runs on the features' device through models/detection and nn/.
//
// Image sizes: the anchors cover the padded batch (batch_size, torchvision's
// images.tensors.shape[-2:]); each image's proposals are clipped to its own size
// (image_sizes, before padding).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/detection/anchors.h"
#include "models/detection/matcher.h"
#include "models/detection/rpn_head.h"
#include "nn/parameter_buffer.h"
#include "nn/random.h"
#include "nn/tensor.h"

namespace wise {

struct ImageSize {
  int64_t height = 0;
  int64_t width = 0;
};

// torchvision's RegionProposalNetwork arguments and maskrcnn_resnet50_fpn's defaults.
struct RpnConfig {
  AnchorGeneratorOptions anchor_generator;  // sizes 32..512, ratios 0.5, 1, 2
  double fg_iou_thresh = 0.7;
  double bg_iou_thresh = 0.3;
  int64_t batch_size_per_image = 256;
  double positive_fraction = 0.5;
  int64_t pre_nms_top_n_train = 2000;  // per level
  int64_t pre_nms_top_n_test = 1000;
  int64_t post_nms_top_n_train = 2000;  // per image
  int64_t post_nms_top_n_test = 1000;
  double nms_thresh = 0.7;
  float score_thresh = 0.0f;
  float min_size = 1e-3f;
  float smooth_l1_beta = 1.0f / 9.0f;
};

// Per image: boxes (P_n, 4) and their scores sigmoid(objectness) (P_n), by score
// descending, on the features' device.
struct RpnProposals {
  std::vector<Tensor> boxes;
  std::vector<Tensor> scores;
};

// A training step's sampled anchors: flat rows n T + t of the batch, ascending.
struct RpnSample {
  std::vector<int64_t> positive;
  std::vector<int64_t> negative;
};

class RegionProposalNetwork {
 public:
  // Declares the head's parameters into `buffer` under prefix + "head.".
  RegionProposalNetwork(const RpnConfig& config, int64_t in_channels, ParameterBuffer& buffer,
                        std::string prefix = "rpn.");

  void initialize(Generator& generator) { head_.initialize(generator); }

  // ---- Training ----------------------------------------------------------------------
  // features P2..P6 (N, C, H_l, W_l); gt_boxes[n] (G_n, 4) float32 (x1, y1, x2, y2) on
  // the features' device (G_n may be 0). Runs the steps below in order, sampling from
  // `generator`, and returns the proposals (train top-n) for the RoI heads.
  const RpnProposals& forward_training(const std::vector<Tensor>& features, ImageSize batch_size,
                                       const std::vector<ImageSize>& image_sizes,
                                       const std::vector<Tensor>& gt_boxes, Generator& generator);
  const Tensor& loss_objectness() const { return loss_objectness_; }  // [1]
  const Tensor& loss_box_reg() const { return loss_box_reg_; }        // [1]
  // After forward_training: d_loss_objectness, d_loss_box_reg [1] on the device (1 for
  // the plain gradient). Accumulates (+=) the head's parameter gradients and dL/dP_l into
  // d_features[l] (undefined = not wanted).
  void backward(const Tensor& d_loss_objectness, const Tensor& d_loss_box_reg,
                std::vector<Tensor>& d_features);

  // ---- Inference ---------------------------------------------------------------------
  const RpnProposals& forward_inference(const std::vector<Tensor>& features, ImageSize batch_size,
                                        const std::vector<ImageSize>& image_sizes);

  // ---- forward_training's steps, in order (public so that a parity test can feed
  // torchvision's sample to compute_loss) -------------------------------------------------
  // The head and the anchors of the padded batch.
  void run_head(const std::vector<Tensor>& features, ImageSize batch_size);
  // The proposals from the head's last outputs (filter_proposals).
  const RpnProposals& filter_proposals(const std::vector<ImageSize>& image_sizes,
                                       int64_t pre_nms_top_n, int64_t post_nms_top_n);
  // Per anchor of the batch (N T): the matched gt (>= 0), -1 background, -2 ignored
  // (assign_targets_to_anchors; no gt: all background).
  void assign_targets_to_anchors(const std::vector<Tensor>& gt_boxes);
  const std::vector<int64_t>& anchor_matches() const { return matches_; }
  // The balanced sample of each image's labelled anchors (fg_bg_sampler).
  RpnSample sample_anchors(Generator& generator) const;
  // The two losses over `sample` (compute_loss); keeps what backward needs.
  void compute_loss(const RpnSample& sample, const std::vector<Tensor>& gt_boxes);

  const RpnHead& head() const { return head_; }
  const RpnProposals& proposals() const { return proposals_; }  // the last filter_proposals'
  const Tensor& anchors() const { return anchors_; }  // (T, 4)
  const RpnConfig& config() const { return config_; }

 private:
  RpnConfig config_;
  RpnHead head_;
  Tensor anchors_;
  std::vector<int64_t> matches_;  // (N T)
  RpnProposals proposals_;
  // compute_loss's tensors, kept for backward.
  Tensor sampled_, positive_, sampled_objectness_, objectness_targets_, positive_deltas_,
      regression_targets_, box_loss_sum_, loss_objectness_, loss_box_reg_;
  int64_t num_sampled_ = 0;
};

}  // namespace wise
