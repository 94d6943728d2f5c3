// The Region Proposal Network (see rpn.h): proposals, anchor targets, the balanced
// sample and the two losses, around the head of rpn_head.h.
#include "models/detection/rpn.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/elementwise.h"
#include "models/detection/boxes.h"
#include "models/detection/host_lists.h"
#include "nn/activation.h"
#include "nn/ensure.h"
#include "nn/indexing.h"
#include "nn/losses.h"

namespace wise {

namespace {

// Row n of an (N, T, ...) plain tensor as a (T, ...) view.
Tensor image_rows(const Tensor& batch, int64_t n) {
  std::vector<int64_t> dims;
  for (int axis = 1; axis < batch.rank(); ++axis) dims.push_back(batch.shape()[axis]);
  const Shape shape(dims);
  return batch.view(n * shape.numel(), shape);
}

// torchvision's _get_top_n_idx for one image: per level, the indices of its
// min(top_n, rows) highest objectness values, by value descending (ties: lower index
// first), offset to the image's rows; and each one's level.
void top_n_per_level(const std::vector<float>& objectness, const std::vector<int64_t>& rows_per_level,
                     int64_t top_n, std::vector<int64_t>& indices, std::vector<int64_t>& levels) {
  indices.clear();
  levels.clear();
  int64_t offset = 0;
  std::vector<int64_t> order;
  for (size_t level = 0; level < rows_per_level.size(); ++level) {
    const int64_t rows = rows_per_level[level];
    const int64_t k = std::min(top_n, rows);
    order.resize(static_cast<size_t>(rows));
    std::iota(order.begin(), order.end(), offset);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
      const float va = objectness[static_cast<size_t>(a)], vb = objectness[static_cast<size_t>(b)];
      return va > vb || (va == vb && a < b);
    });
    indices.insert(indices.end(), order.begin(), order.begin() + k);
    levels.insert(levels.end(), static_cast<size_t>(k), static_cast<int64_t>(level));
    offset += rows;
  }
}

// The first `count` entries of a 1-d int64 keep list (all when shorter).
Tensor first(const Tensor& keep, int64_t count) {
  return keep.view(0, {std::min(count, keep.size(0))});
}

}  // namespace

RegionProposalNetwork::RegionProposalNetwork(const RpnConfig& config, int64_t in_channels,
                                             ParameterBuffer& buffer, std::string prefix)
    : config_(config),
      head_(in_channels, num_anchors_per_location(config.anchor_generator, 0), buffer,
            prefix + "head.") {
  for (size_t level = 1; level < config.anchor_generator.sizes.size(); ++level) {
    WISE_CHECK(num_anchors_per_location(config.anchor_generator, static_cast<int64_t>(level)) ==
                   head_.num_anchors(),
               "RpnConfig: every level needs the same number of anchors per location (one "
               "head serves them all), level ",
               level, " has ",
               num_anchors_per_location(config.anchor_generator, static_cast<int64_t>(level)),
               ", level 0 ", head_.num_anchors());
  }
}

void RegionProposalNetwork::run_head(const std::vector<Tensor>& features, ImageSize batch_size) {
  WISE_CHECK(features.size() == config_.anchor_generator.sizes.size(), "RegionProposalNetwork: ",
             features.size(), " feature maps for ", config_.anchor_generator.sizes.size(),
             " anchor levels");
  head_.forward(features);
  std::vector<FeatureMapSize> maps;
  for (const Tensor& feature : features) maps.push_back({feature.size(2), feature.size(3)});
  generate_anchors(batch_size.height, batch_size.width, maps, config_.anchor_generator,
                   features[0].device(), anchors_);
}

const RpnProposals& RegionProposalNetwork::filter_proposals(
    const std::vector<ImageSize>& image_sizes, int64_t pre_nms_top_n, int64_t post_nms_top_n) {
  const Tensor& objectness = head_.objectness();
  const int64_t N = objectness.size(0);
  WISE_CHECK(static_cast<int64_t>(image_sizes.size()) == N, "RegionProposalNetwork: ",
             image_sizes.size(), " image sizes for a batch of ", N);
  const Device device = objectness.device();
  const std::vector<float> all_objectness = objectness.to_vector<float>();
  const int64_t T = objectness.size(1);
  proposals_.boxes.resize(static_cast<size_t>(N));
  proposals_.scores.resize(static_cast<size_t>(N));
  BoxCoderOptions coder;  // the RPN's weights (1, 1, 1, 1)
  NmsOptions nms_options;
  nms_options.iou_threshold = config_.nms_thresh;
  std::vector<int64_t> candidates, levels;
  Tensor image_objectness, image_deltas, candidate_anchors, logits, boxes, scores, small_keep,
      kept_boxes, kept_scores, keep;
  for (int64_t n = 0; n < N; ++n) {
    const std::vector<float> row(all_objectness.begin() + n * T, all_objectness.begin() + (n + 1) * T);
    top_n_per_level(row, head_.rows_per_level(), pre_nms_top_n, candidates, levels);
    const Tensor index = upload(candidates, device);
    // decode, clip, score
    index_select_rows(image_rows(head_.pred_bbox_deltas(), n), index, image_deltas);
    index_select_rows(anchors_, index, candidate_anchors);
    box_decode(image_deltas, candidate_anchors, coder, boxes);
    const ImageSize size = image_sizes[static_cast<size_t>(n)];
    clip_boxes_to_image(boxes, size.height, size.width, boxes);
    index_select_rows(image_rows(objectness, n), index, logits);
    sigmoid_forward(logits, scores);
    // remove_small_boxes, then score >= score_thresh (on the host: a few thousand values)
    remove_small_boxes(boxes, config_.min_size, small_keep);
    const std::vector<int64_t> large = small_keep.to_vector<int64_t>();
    const std::vector<float> score_values = scores.to_vector<float>();
    std::vector<int64_t> kept, kept_levels;
    for (int64_t i : large) {
      if (score_values[static_cast<size_t>(i)] >= config_.score_thresh) {
        kept.push_back(i);
        kept_levels.push_back(levels[static_cast<size_t>(i)]);
      }
    }
    const Tensor kept_index = upload(kept, device);
    index_select_rows(boxes, kept_index, kept_boxes);
    index_select_rows(scores, kept_index, kept_scores);
    // NMS within each level, then the image's top post_nms_top_n
    batched_nms(kept_boxes, kept_scores, upload(kept_levels, device), nms_options, keep);
    const Tensor top = first(keep, post_nms_top_n);
    index_select_rows(kept_boxes, top, proposals_.boxes[static_cast<size_t>(n)]);
    index_select_rows(kept_scores, top, proposals_.scores[static_cast<size_t>(n)]);
  }
  return proposals_;
}

void RegionProposalNetwork::assign_targets_to_anchors(const std::vector<Tensor>& gt_boxes) {
  const int64_t N = head_.objectness().size(0), T = anchors_.size(0);
  WISE_CHECK(static_cast<int64_t>(gt_boxes.size()) == N, "RegionProposalNetwork: ", gt_boxes.size(),
             " ground-truth box lists for a batch of ", N);
  MatcherOptions matcher{config_.fg_iou_thresh, config_.bg_iou_thresh, true};
  matches_.assign(static_cast<size_t>(N * T), kBelowLowThreshold);
  Tensor iou, matches;
  for (int64_t n = 0; n < N; ++n) {
    const Tensor& gt = gt_boxes[static_cast<size_t>(n)];
    WISE_CHECK(gt.defined() && gt.rank() == 2 && gt.size(1) == 4, "RegionProposalNetwork: gt_boxes[",
               n, "] must be (G, 4), got ", gt.defined() ? gt.describe() : "undefined");
    if (gt.size(0) == 0) continue;  // no ground truth: every anchor is background
    box_iou(gt, anchors_, iou);
    match_proposals(iou, matcher, matches);
    const std::vector<int64_t> values = matches.to_vector<int64_t>();
    std::copy(values.begin(), values.end(), matches_.begin() + n * T);
  }
}

RpnSample RegionProposalNetwork::sample_anchors(Generator& generator) const {
  const int64_t N = head_.objectness().size(0), T = anchors_.size(0);
  const Device device = anchors_.device();
  BalancedSamplerOptions sampler{config_.batch_size_per_image, config_.positive_fraction};
  RpnSample sample;
  std::vector<int64_t> labels(static_cast<size_t>(T));
  Tensor positive_mask, negative_mask;
  for (int64_t n = 0; n < N; ++n) {
    // the sampler's labels: 1 positive, 0 negative, -1 ignored (torchvision's, as int64)
    for (int64_t t = 0; t < T; ++t) {
      const int64_t match = matches_[static_cast<size_t>(n * T + t)];
      labels[static_cast<size_t>(t)] = match >= 0 ? 1 : match == kBelowLowThreshold ? 0 : -1;
    }
    balanced_positive_negative_sample(upload(labels, device), sampler, generator, positive_mask,
                                      negative_mask);
    const std::vector<uint8_t> positive = positive_mask.to_vector<uint8_t>();
    const std::vector<uint8_t> negative = negative_mask.to_vector<uint8_t>();
    for (int64_t t = 0; t < T; ++t) {
      if (positive[static_cast<size_t>(t)] != 0) sample.positive.push_back(n * T + t);
      if (negative[static_cast<size_t>(t)] != 0) sample.negative.push_back(n * T + t);
    }
  }
  return sample;
}

void RegionProposalNetwork::compute_loss(const RpnSample& sample, const std::vector<Tensor>& gt_boxes) {
  const Tensor& objectness = head_.objectness();
  const int64_t N = objectness.size(0), T = anchors_.size(0);
  const Device device = objectness.device();
  const int64_t P = static_cast<int64_t>(sample.positive.size());
  num_sampled_ = P + static_cast<int64_t>(sample.negative.size());

  // L_objectness: BCE over the sampled anchors (positives first, label 1; then negatives, 0).
  std::vector<int64_t> sampled = sample.positive;
  sampled.insert(sampled.end(), sample.negative.begin(), sample.negative.end());
  sampled_ = upload(sampled, device);
  std::vector<float> targets(static_cast<size_t>(num_sampled_), 0.0f);
  std::fill(targets.begin(), targets.begin() + P, 1.0f);
  objectness_targets_ = upload(targets, {num_sampled_}, device);
  index_select_rows(objectness.reshape({N * T}), sampled_, sampled_objectness_);
  binary_cross_entropy_with_logits_forward(sampled_objectness_, objectness_targets_, Tensor(),
                                           {Reduction::mean}, loss_objectness_);

  // L_box_reg: smooth L1 of the positives' deltas against encode(their gt, their anchor).
  std::vector<int64_t> anchor_of_positive;
  std::vector<float> gt_of_positive;
  std::vector<std::vector<float>> gt_host(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; ++n) gt_host[static_cast<size_t>(n)] = gt_boxes[static_cast<size_t>(n)].to_vector<float>();
  for (int64_t row : sample.positive) {
    const int64_t n = row / T, match = matches_[static_cast<size_t>(row)];
    WISE_CHECK(match >= 0, "RegionProposalNetwork::compute_loss: sampled positive ", row,
               " has no matched ground truth");
    anchor_of_positive.push_back(row % T);
    const float* box = gt_host[static_cast<size_t>(n)].data() + 4 * match;
    gt_of_positive.insert(gt_of_positive.end(), box, box + 4);
  }
  positive_ = upload(sample.positive, device);
  Tensor positive_anchors;
  index_select_rows(anchors_, upload(anchor_of_positive, device), positive_anchors);
  box_encode(upload(gt_of_positive, {P, 4}, device), positive_anchors, BoxCoderOptions{},
             regression_targets_);
  index_select_rows(head_.pred_bbox_deltas().reshape({N * T, 4}), positive_, positive_deltas_);
  smooth_l1_forward(positive_deltas_, regression_targets_, {Reduction::sum, config_.smooth_l1_beta},
                    box_loss_sum_);
  loss_box_reg_ = box_loss_sum_.clone();
  kernels::scale(device, 1.0f / static_cast<float>(num_sampled_), loss_box_reg_.data<float>(), 1);
}

const RpnProposals& RegionProposalNetwork::forward_training(const std::vector<Tensor>& features,
                                                            ImageSize batch_size,
                                                            const std::vector<ImageSize>& image_sizes,
                                                            const std::vector<Tensor>& gt_boxes,
                                                            Generator& generator) {
  run_head(features, batch_size);
  filter_proposals(image_sizes, config_.pre_nms_top_n_train, config_.post_nms_top_n_train);
  assign_targets_to_anchors(gt_boxes);
  compute_loss(sample_anchors(generator), gt_boxes);
  return proposals_;
}

const RpnProposals& RegionProposalNetwork::forward_inference(const std::vector<Tensor>& features,
                                                             ImageSize batch_size,
                                                             const std::vector<ImageSize>& image_sizes) {
  run_head(features, batch_size);
  return filter_proposals(image_sizes, config_.pre_nms_top_n_test, config_.post_nms_top_n_test);
}

void RegionProposalNetwork::backward(const Tensor& d_loss_objectness, const Tensor& d_loss_box_reg,
                                     std::vector<Tensor>& d_features) {
  WISE_CHECK(loss_objectness_.defined(), "RegionProposalNetwork::backward: run forward_training first");
  const Tensor& objectness = head_.objectness();
  const int64_t N = objectness.size(0), T = anchors_.size(0);
  const Device device = objectness.device();
  Tensor d_objectness = Tensor::zeros({N, T}, DType::float32, device);
  Tensor d_deltas = Tensor::zeros({N, T, 4}, DType::float32, device);
  if (d_loss_objectness.defined()) {
    Tensor d_sampled = Tensor::zeros(sampled_objectness_.shape(), DType::float32, device);
    binary_cross_entropy_with_logits_backward(d_loss_objectness, sampled_objectness_,
                                              objectness_targets_, Tensor(), {Reduction::mean},
                                              d_sampled);
    Tensor flat = d_objectness.reshape({N * T});
    index_select_rows_backward(d_sampled, sampled_, flat);
  }
  if (d_loss_box_reg.defined()) {
    // L_box_reg = box_loss_sum / number sampled
    Tensor d_sum = d_loss_box_reg.clone();
    kernels::scale(device, 1.0f / static_cast<float>(num_sampled_), d_sum.data<float>(), 1);
    Tensor d_positive = Tensor::zeros(positive_deltas_.shape(), DType::float32, device);
    smooth_l1_backward(d_sum, positive_deltas_, regression_targets_,
                       {Reduction::sum, config_.smooth_l1_beta}, d_positive);
    Tensor flat = d_deltas.reshape({N * T, 4});
    index_select_rows_backward(d_positive, positive_, flat);
  }
  head_.backward(d_objectness, d_deltas, d_features);
}

}  // namespace wise
