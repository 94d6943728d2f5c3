// Mask R-CNN's RoI heads (see roi_heads.h): the training sample, the three losses and
// their backward, and the inference post-processing.
#include "models/detection/roi_heads.h"

#include <algorithm>

#include "kernels/elementwise.h"
#include "kernels/memory.h"
#include "models/detection/boxes.h"
#include "models/detection/host_lists.h"
#include "models/detection/mask_targets.h"
#include "models/detection/matcher.h"
#include "nn/activation.h"
#include "nn/ensure.h"
#include "nn/indexing.h"
#include "nn/losses.h"

namespace wise {

namespace {

// rois (R, 5) = (image index, x1, y1, x2, y2) rows from per-image box lists.
std::vector<float> roi_rows(const std::vector<std::vector<float>>& boxes) {
  std::vector<float> rois;
  for (size_t n = 0; n < boxes.size(); ++n) {
    for (size_t i = 0; i < boxes[n].size(); i += 4) {
      rois.push_back(static_cast<float>(n));
      rois.insert(rois.end(), boxes[n].begin() + static_cast<std::ptrdiff_t>(i),
                  boxes[n].begin() + static_cast<std::ptrdiff_t>(i + 4));
    }
  }
  return rois;
}

int64_t rows_of(const std::vector<float>& rois) { return static_cast<int64_t>(rois.size()) / 5; }

void require_target(const DetectionTarget& target, Device device, size_t n) {
  const std::string what = "RoiHeads: targets[" + std::to_string(n) + "]";
  WISE_CHECK(target.boxes.defined() && target.boxes.rank() == 2 && target.boxes.size(1) == 4 &&
                 target.boxes.dtype() == DType::float32 && target.boxes.device() == device,
             what, ".boxes must be float32 (G, 4) on the features' device, got ",
             target.boxes.defined() ? target.boxes.describe() : "undefined");
  const int64_t G = target.boxes.size(0);
  WISE_CHECK(target.labels.defined() && target.labels.dtype() == DType::int64 &&
                 target.labels.shape() == Shape({G}) && target.labels.device() == device,
             what, ".labels must be int64 (", G, ") on the features' device, got ",
             target.labels.defined() ? target.labels.describe() : "undefined");
  WISE_CHECK(target.masks.defined() && target.masks.dtype() == DType::uint8 && target.masks.rank() == 3 &&
                 target.masks.size(0) == G && target.masks.device() == device,
             what, ".masks must be uint8 (", G, ", H, W) on the features' device, got ",
             target.masks.defined() ? target.masks.describe() : "undefined");
}

bool any_defined(const std::vector<Tensor>& tensors) {
  return std::any_of(tensors.begin(), tensors.end(), [](const Tensor& t) { return t.defined(); });
}

}  // namespace

RoiHeads::RoiHeads(const RoiHeadsConfig& config, ParameterBuffer& buffer, std::string prefix)
    : config_(config), box_head_(config.box_head, buffer, prefix), mask_head_(config.mask_head, buffer, prefix) {
  WISE_CHECK(config.box_head.num_classes == config.mask_head.num_classes,
             "RoiHeadsConfig: the box head's num_classes (", config.box_head.num_classes,
             ") and the mask head's (", config.mask_head.num_classes, ") must agree");
}

void RoiHeads::initialize(Generator& generator) {
  box_head_.initialize(generator);
  mask_head_.initialize(generator);
}

std::vector<RoiCandidates> RoiHeads::assign_targets_to_proposals(
    const std::vector<Tensor>& proposals, const std::vector<DetectionTarget>& targets) const {
  WISE_CHECK(proposals.size() == targets.size(), "RoiHeads: ", proposals.size(), " proposal lists for ",
             targets.size(), " targets");
  const MatcherOptions matcher{config_.fg_iou_thresh, config_.bg_iou_thresh, false};
  std::vector<RoiCandidates> all(proposals.size());
  Tensor iou, matches;
  for (size_t n = 0; n < proposals.size(); ++n) {
    const Device device = proposals[n].device();
    require_target(targets[n], device, n);
    RoiCandidates& candidates = all[n];
    // add_gt_proposals: the gt boxes join the candidates, so every gt has a perfect RoI
    candidates.boxes = proposals[n].to_vector<float>();
    const std::vector<float> gt = targets[n].boxes.to_vector<float>();
    const std::vector<int64_t> gt_labels = targets[n].labels.to_vector<int64_t>();
    candidates.boxes.insert(candidates.boxes.end(), gt.begin(), gt.end());
    const int64_t R = static_cast<int64_t>(candidates.boxes.size()) / 4;
    std::vector<int64_t> matched(static_cast<size_t>(R), kBelowLowThreshold);
    if (!gt_labels.empty()) {  // no gt: every candidate is background
      box_iou(targets[n].boxes, upload(candidates.boxes, {R, 4}, device), iou);
      match_proposals(iou, matcher, matches);
      matched = matches.to_vector<int64_t>();
    }
    for (int64_t m : matched) {
      candidates.labels.push_back(m >= 0 ? gt_labels[static_cast<size_t>(m)] : m == kBelowLowThreshold ? 0 : -1);
      candidates.matched.push_back(std::max<int64_t>(m, 0));
    }
  }
  return all;
}

RoiSample RoiHeads::subsample(const std::vector<RoiCandidates>& candidates, Device device,
                              Generator& generator) const {
  const BalancedSamplerOptions sampler{config_.batch_size_per_image, config_.positive_fraction};
  RoiSample sample;
  Tensor positive_mask, negative_mask;
  for (const RoiCandidates& image : candidates) {
    balanced_positive_negative_sample(upload(image.labels, device), sampler, generator, positive_mask,
                                      negative_mask);
    const std::vector<uint8_t> positive = positive_mask.to_vector<uint8_t>();
    const std::vector<uint8_t> negative = negative_mask.to_vector<uint8_t>();
    std::vector<float> boxes;
    std::vector<int64_t> labels, matched;
    for (size_t i = 0; i < image.labels.size(); ++i) {
      if (positive[i] == 0 && negative[i] == 0) continue;
      boxes.insert(boxes.end(), image.boxes.begin() + 4 * static_cast<std::ptrdiff_t>(i),
                   image.boxes.begin() + 4 * static_cast<std::ptrdiff_t>(i) + 4);
      labels.push_back(image.labels[i]);
      matched.push_back(image.matched[i]);
    }
    sample.boxes.push_back(std::move(boxes));
    sample.labels.push_back(std::move(labels));
    sample.matched.push_back(std::move(matched));
  }
  return sample;
}

void RoiHeads::compute_losses(const std::vector<Tensor>& features, const RoiSample& sample,
                              const std::vector<DetectionTarget>& targets) {
  WISE_CHECK(!features.empty(), "RoiHeads: no feature maps");
  const Device device = features[0].device();
  const int64_t K = config_.box_head.num_classes;
  StageClock clock(stage_times_, device);
  features_ = features;
  // ---- box branch: fastrcnn_loss
  const std::vector<float> rois = roi_rows(sample.boxes);
  num_rois_ = rows_of(rois);
  box_rois_ = upload(rois, {num_rois_, 5}, device);
  std::vector<int64_t> labels, positive, positive_labels;
  std::vector<float> positive_gt, positive_boxes, mask_rois;
  std::vector<std::vector<float>> gt_host(targets.size());
  for (size_t n = 0; n < targets.size(); ++n) gt_host[n] = targets[n].boxes.to_vector<float>();
  for (size_t n = 0, row = 0; n < sample.labels.size(); ++n) {
    for (size_t i = 0; i < sample.labels[n].size(); ++i, ++row) {
      const int64_t label = sample.labels[n][i];
      labels.push_back(label);
      if (label <= 0) continue;
      positive.push_back(static_cast<int64_t>(row));
      positive_labels.push_back(label);
      const float* gt = gt_host[n].data() + 4 * sample.matched[n][i];
      positive_gt.insert(positive_gt.end(), gt, gt + 4);
      const float* box = sample.boxes[n].data() + 4 * i;
      positive_boxes.insert(positive_boxes.end(), box, box + 4);
      mask_rois.push_back(static_cast<float>(n));
      mask_rois.insert(mask_rois.end(), box, box + 4);
    }
  }
  num_positive_ = static_cast<int64_t>(positive.size());
  labels_ = upload(labels, device);
  positive_ = upload(positive, device);
  positive_labels_ = upload(positive_labels, device);

  multi_scale_roi_align_forward(features, box_rois_, config_.box_roi_pool, box_pooled_);
  box_head_.forward(box_pooled_);
  softmax_cross_entropy_forward(box_head_.class_logits(), labels_, {Reduction::mean, -100}, loss_classifier_);
  BoxCoderOptions coder;
  coder.weights = config_.bbox_reg_weights;
  box_encode(upload(positive_gt, {num_positive_, 4}, device), upload(positive_boxes, {num_positive_, 4}, device),
             coder, regression_targets_);
  index_select_rows(box_head_.box_regression().reshape({num_rois_, K, 4}), positive_, positive_regression_);
  select_class(positive_regression_, positive_labels_, positive_deltas_);
  smooth_l1_forward(positive_deltas_, regression_targets_, {Reduction::sum, config_.smooth_l1_beta}, box_loss_sum_);
  loss_box_reg_ = box_loss_sum_.clone();
  kernels::scale(device, 1.0f / static_cast<float>(num_rois_), loss_box_reg_.data<float>(), 1);

  clock.lap(&StageTimes::box_head);

  // ---- mask branch: maskrcnn_loss over the foreground RoIs
  if (num_positive_ == 0) {  // torchvision: mask_logits.sum() * 0
    loss_mask_ = Tensor::zeros({1}, DType::float32, device);
    clock.lap(&StageTimes::mask_head);
    return;
  }
  mask_rois_ = upload(mask_rois, {num_positive_, 5}, device);
  mask_logits_of(features, mask_rois_, positive_labels_, mask_logits_selected_);
  const int64_t M = mask_logits_selected_.size(1);
  ensure_tensor(mask_targets_, {num_positive_, M, M}, DType::float32, device);
  Tensor image_targets;
  for (size_t n = 0, offset = 0; n < sample.labels.size(); ++n) {
    std::vector<float> boxes;
    std::vector<int64_t> matched;
    for (size_t i = 0; i < sample.labels[n].size(); ++i) {
      if (sample.labels[n][i] <= 0) continue;
      boxes.insert(boxes.end(), sample.boxes[n].begin() + 4 * static_cast<std::ptrdiff_t>(i),
                   sample.boxes[n].begin() + 4 * static_cast<std::ptrdiff_t>(i) + 4);
      matched.push_back(sample.matched[n][i]);
    }
    const int64_t count = static_cast<int64_t>(matched.size());
    if (count == 0) continue;
    project_masks_on_boxes(targets[n].masks, upload(boxes, {count, 4}, device), upload(matched, device), M,
                           image_targets);
    kernels::copy_bytes(mask_targets_.data<float>() + offset * M * M, device, image_targets.data<float>(), device,
                        sizeof(float) * static_cast<size_t>(count * M * M));
    offset += static_cast<size_t>(count);
  }
  binary_cross_entropy_with_logits_forward(mask_logits_selected_, mask_targets_, Tensor(), {Reduction::mean},
                                           loss_mask_);
  clock.lap(&StageTimes::mask_head);
}

void RoiHeads::mask_logits_of(const std::vector<Tensor>& features, const Tensor& rois, const Tensor& labels,
                              Tensor& selected) {
  multi_scale_roi_align_forward(features, rois, config_.mask_roi_pool, mask_pooled_);
  mask_head_.forward(mask_pooled_);
  select_class(mask_head_.mask_logits(), labels, selected);
}

void RoiHeads::forward_training(const std::vector<Tensor>& features, const std::vector<Tensor>& proposals,
                                const std::vector<DetectionTarget>& targets, Generator& generator) {
  WISE_CHECK(!features.empty(), "RoiHeads: no feature maps");
  const RoiSample sample =
      subsample(assign_targets_to_proposals(proposals, targets), features[0].device(), generator);
  compute_losses(features, sample, targets);
}

void RoiHeads::backward(const Tensor& d_loss_classifier, const Tensor& d_loss_box_reg, const Tensor& d_loss_mask,
                        std::vector<Tensor>& d_features) {
  WISE_CHECK(loss_classifier_.defined(), "RoiHeads::backward: run forward_training first");
  const Device device = box_pooled_.device();
  const int64_t K = config_.box_head.num_classes;
  const bool feature_gradients = any_defined(d_features);
  WISE_CHECK(!feature_gradients || d_features.size() == features_.size(), "RoiHeads::backward: ",
             d_features.size(), " feature gradients for ", features_.size(), " levels");
  // ---- box branch
  Tensor d_class_logits = Tensor::zeros(box_head_.class_logits().shape(), DType::float32, device);
  if (d_loss_classifier.defined()) {
    softmax_cross_entropy_backward(d_loss_classifier, box_head_.class_logits(), labels_, {Reduction::mean, -100},
                                   d_class_logits);
  }
  Tensor d_box_regression = Tensor::zeros(box_head_.box_regression().shape(), DType::float32, device);
  if (d_loss_box_reg.defined() && num_positive_ > 0) {
    Tensor d_sum = d_loss_box_reg.clone();  // L_box = sum / number of RoIs
    kernels::scale(device, 1.0f / static_cast<float>(num_rois_), d_sum.data<float>(), 1);
    Tensor d_deltas = Tensor::zeros(positive_deltas_.shape(), DType::float32, device);
    smooth_l1_backward(d_sum, positive_deltas_, regression_targets_, {Reduction::sum, config_.smooth_l1_beta},
                       d_deltas);
    Tensor d_positive_regression = Tensor::zeros(positive_regression_.shape(), DType::float32, device);
    select_class_backward(d_deltas, positive_labels_, d_positive_regression);
    Tensor d_all = d_box_regression.reshape({num_rois_, K, 4});
    index_select_rows_backward(d_positive_regression, positive_, d_all);
  }
  Tensor d_box_pooled = Tensor::zeros(box_pooled_.shape(), DType::float32, device);
  box_head_.backward(d_class_logits, d_box_regression, feature_gradients ? &d_box_pooled : nullptr);
  if (feature_gradients) multi_scale_roi_align_backward(d_box_pooled, box_rois_, config_.box_roi_pool, d_features);
  // ---- mask branch
  if (!d_loss_mask.defined() || num_positive_ == 0) return;
  Tensor d_selected = Tensor::zeros(mask_logits_selected_.shape(), DType::float32, device);
  binary_cross_entropy_with_logits_backward(d_loss_mask, mask_logits_selected_, mask_targets_, Tensor(),
                                            {Reduction::mean}, d_selected);
  Tensor d_mask_logits = Tensor::zeros(mask_head_.mask_logits().shape(), DType::float32, device);
  select_class_backward(d_selected, positive_labels_, d_mask_logits);
  Tensor d_mask_pooled = Tensor::zeros(mask_pooled_.shape(), DType::float32, device);
  mask_head_.backward(d_mask_logits, feature_gradients ? &d_mask_pooled : nullptr);
  if (feature_gradients) multi_scale_roi_align_backward(d_mask_pooled, mask_rois_, config_.mask_roi_pool, d_features);
}

std::vector<Detections> RoiHeads::forward_inference(const std::vector<Tensor>& features,
                                                    const std::vector<Tensor>& proposals,
                                                    const std::vector<ImageSize>& image_sizes) {
  WISE_CHECK(!features.empty() && proposals.size() == image_sizes.size(), "RoiHeads: ", proposals.size(),
             " proposal lists for ", image_sizes.size(), " image sizes");
  const Device device = features[0].device();
  StageClock clock(stage_times_, device);
  const int64_t K = config_.box_head.num_classes;
  const size_t N = proposals.size();
  // ---- box branch on every proposal of the batch
  std::vector<std::vector<float>> boxes(N);
  for (size_t n = 0; n < N; ++n) boxes[n] = proposals[n].to_vector<float>();
  const std::vector<float> rois = roi_rows(boxes);
  const int64_t R = rows_of(rois);
  Tensor roi_tensor = upload(rois, {R, 5}, device), pooled, pred_boxes, scores;
  multi_scale_roi_align_forward(features, roi_tensor, config_.box_roi_pool, pooled);
  box_head_.forward(pooled);
  std::vector<float> proposal_boxes;
  for (const std::vector<float>& image : boxes) proposal_boxes.insert(proposal_boxes.end(), image.begin(), image.end());
  BoxCoderOptions coder;
  coder.weights = config_.bbox_reg_weights;
  box_decode(box_head_.box_regression(), upload(proposal_boxes, {R, 4}, device), coder, pred_boxes);
  softmax_forward(box_head_.class_logits(), scores);
  const std::vector<float> score_values = scores.to_vector<float>();

  // ---- postprocess_detections, per image
  std::vector<Detections> detections(N);
  std::vector<float> detected_rois;
  std::vector<int64_t> detected_labels;
  NmsOptions nms_options;
  nms_options.iou_threshold = config_.nms_thresh;
  Tensor candidates, small_keep, kept_boxes, keep;
  for (size_t n = 0, offset = 0; n < N; ++n) {
    const int64_t P = static_cast<int64_t>(boxes[n].size()) / 4;
    // the image's (P K, 4) class boxes, clipped in place
    Tensor class_boxes = pred_boxes.view(static_cast<int64_t>(offset) * 4 * K, {P * K, 4});
    clip_boxes_to_image(class_boxes, image_sizes[n].height, image_sizes[n].width, class_boxes);
    // background dropped, scores > score_thresh, in torchvision's (proposal, class) order
    std::vector<int64_t> index, labels;
    std::vector<float> candidate_scores;
    for (int64_t p = 0; p < P; ++p) {
      for (int64_t c = 1; c < K; ++c) {
        const float score = score_values[static_cast<size_t>((static_cast<int64_t>(offset) + p) * K + c)];
        if (!(score > config_.score_thresh)) continue;
        index.push_back(p * K + c);
        labels.push_back(c);
        candidate_scores.push_back(score);
      }
    }
    offset += static_cast<size_t>(P);
    index_select_rows(class_boxes, upload(index, device), candidates);
    remove_small_boxes(candidates, 1e-2f, small_keep);
    std::vector<int64_t> large = small_keep.to_vector<int64_t>(), large_labels;
    std::vector<float> large_scores;
    for (int64_t i : large) {
      large_labels.push_back(labels[static_cast<size_t>(i)]);
      large_scores.push_back(candidate_scores[static_cast<size_t>(i)]);
    }
    index_select_rows(candidates, upload(large, device), kept_boxes);
    const Tensor kept_scores = upload(large_scores, {static_cast<int64_t>(large_scores.size())}, device);
    batched_nms(kept_boxes, kept_scores, upload(large_labels, device), nms_options, keep);
    std::vector<int64_t> top = keep.to_vector<int64_t>();
    if (static_cast<int64_t>(top.size()) > config_.detections_per_img) top.resize(static_cast<size_t>(config_.detections_per_img));
    Detections& out = detections[n];
    const Tensor top_index = upload(top, device);
    index_select_rows(kept_boxes, top_index, out.boxes);
    index_select_rows(kept_scores, top_index, out.scores);
    std::vector<int64_t> top_labels;
    for (int64_t i : top) top_labels.push_back(large_labels[static_cast<size_t>(i)]);
    out.labels = upload(top_labels, device);
    const std::vector<float> top_boxes = out.boxes.to_vector<float>();
    for (size_t i = 0; i < top.size(); ++i) {
      detected_rois.push_back(static_cast<float>(n));
      detected_rois.insert(detected_rois.end(), top_boxes.begin() + 4 * static_cast<std::ptrdiff_t>(i),
                           top_boxes.begin() + 4 * static_cast<std::ptrdiff_t>(i) + 4);
    }
    detected_labels.insert(detected_labels.end(), top_labels.begin(), top_labels.end());
  }

  clock.lap(&StageTimes::box_head);

  // ---- maskrcnn_inference: the detected class's mask probabilities
  const int64_t D = rows_of(detected_rois);
  const int64_t M = 2 * config_.mask_roi_pool.pooled_height;
  Tensor probabilities = Tensor::empty({D, 1, M, M}, DType::float32, device);
  if (D > 0) {
    Tensor selected;
    mask_logits_of(features, upload(detected_rois, {D, 5}, device), upload(detected_labels, device), selected);
    Tensor flat = probabilities.reshape(selected.shape());
    sigmoid_forward(selected, flat);
  }
  for (size_t n = 0, offset = 0; n < N; ++n) {
    const int64_t count = detections[n].labels.size(0);
    detections[n].masks = probabilities.view(static_cast<int64_t>(offset) * M * M, {count, 1, M, M});
    offset += static_cast<size_t>(count);
  }
  clock.lap(&StageTimes::mask_head);
  return detections;
}

}  // namespace wise
