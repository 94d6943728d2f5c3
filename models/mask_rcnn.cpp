// Mask R-CNN (see mask_rcnn.h): the three stages in order, and the backward that joins
// the RPN's and the RoI heads' gradients on the FPN levels.
#include "models/mask_rcnn.h"

#include "kernels/elementwise.h"
#include "models/torchvision_weights.h"
#include "nn/ensure.h"

namespace wise {

namespace {

// P2..P5 (not P6, which only the RPN reads) in plain layout for RoIAlign.
void plain_levels(const std::vector<Tensor>& features, std::vector<Tensor>& plain) {
  plain.resize(features.size() - 1);
  for (size_t l = 0; l + 1 < features.size(); ++l) plain[l] = features[l].to_format(MemoryFormat::plain);
}

}  // namespace

MaskRcnnConfig mask_rcnn_config(const ResNetFpnConfig& backbone, int64_t num_classes) {
  MaskRcnnConfig config;
  config.backbone = backbone;
  config.roi_heads.box_head.in_channels = backbone.out_channels;
  config.roi_heads.box_head.num_classes = num_classes;
  config.roi_heads.mask_head.in_channels = backbone.out_channels;
  config.roi_heads.mask_head.num_classes = num_classes;
  return config;
}

MaskRcnn::MaskRcnn(const MaskRcnnConfig& config, ParameterBuffer& buffer)
    : config_(config),
      buffer_(buffer),
      backbone_(config.backbone, buffer, "backbone."),
      rpn_(config.rpn, config.backbone.out_channels, buffer, "rpn."),
      roi_heads_(config.roi_heads, buffer, "roi_heads.") {
  WISE_CHECK(config.roi_heads.box_head.in_channels == config.backbone.out_channels &&
                 config.roi_heads.mask_head.in_channels == config.backbone.out_channels,
             "MaskRcnnConfig: the RoI heads' in_channels (", config.roi_heads.box_head.in_channels, ", ",
             config.roi_heads.mask_head.in_channels, ") must be the FPN's out_channels (",
             config.backbone.out_channels, "); mask_rcnn_config() sets them");
}

void MaskRcnn::initialize(Generator& generator) {
  backbone_.initialize(generator);
  rpn_.initialize(generator);
  roi_heads_.initialize(generator);
}

LoadReport MaskRcnn::load_backbone(const std::string& path) {
  WISE_CHECK(buffer_.allocated(), "MaskRcnn::load_backbone(", path, "): allocate the ParameterBuffer first");
  return load_torchvision_weights(path, buffer_, "backbone.body.", "classifier.");
}

namespace {

void check_training_batch(const ImageBatch& batch, const std::vector<DetectionTarget>& targets) {
  WISE_CHECK(batch.images.defined() && batch.images.rank() == 4 &&
                 static_cast<int64_t>(batch.image_sizes.size()) == batch.images.size(0) &&
                 targets.size() == batch.image_sizes.size(),
             "MaskRcnn: a batch of ", batch.images.defined() ? batch.images.describe() : "undefined", " with ",
             batch.image_sizes.size(), " image sizes and ", targets.size(), " targets");
}

std::vector<Tensor> boxes_of(const std::vector<DetectionTarget>& targets) {
  std::vector<Tensor> boxes;
  for (const DetectionTarget& target : targets) boxes.push_back(target.boxes);
  return boxes;
}

}  // namespace

// WISE Eq. 2: L = L_cls + L_box + L_mask (+ the RPN's L_objectness + L_rpn_box).
const MaskRcnnLosses& MaskRcnn::collect_losses() {
  losses_ = {roi_heads_.loss_classifier(), roi_heads_.loss_box_reg(), roi_heads_.loss_mask(),
             rpn_.loss_objectness(), rpn_.loss_box_reg()};
  return losses_;
}

const MaskRcnnLosses& MaskRcnn::forward_training(const ImageBatch& batch, const std::vector<DetectionTarget>& targets,
                                                 Generator& generator) {
  check_training_batch(batch, targets);
  const ImageSize padded{batch.images.size(2), batch.images.size(3)};
  StageClock clock(stage_times_, batch.images.device());
  features_ = backbone_.forward(batch.images, /*training=*/true);
  clock.lap(&StageTimes::backbone);
  const RpnProposals& proposals =
      rpn_.forward_training(features_, padded, batch.image_sizes, boxes_of(targets), generator);
  clock.lap(&StageTimes::rpn);
  plain_levels(features_, pooled_levels_);
  roi_heads_.forward_training(pooled_levels_, proposals.boxes, targets, generator);  // times its branches
  return collect_losses();
}

const MaskRcnnLosses& MaskRcnn::forward_training(const ImageBatch& batch, const std::vector<DetectionTarget>& targets,
                                                 const RpnSample& rpn_sample, const RoiSample& roi_sample) {
  check_training_batch(batch, targets);
  const ImageSize padded{batch.images.size(2), batch.images.size(3)};
  features_ = backbone_.forward(batch.images, /*training=*/true);
  const std::vector<Tensor> gt_boxes = boxes_of(targets);
  // RegionProposalNetwork::forward_training's steps, with the sample given.
  rpn_.run_head(features_, padded);
  rpn_.filter_proposals(batch.image_sizes, config_.rpn.pre_nms_top_n_train, config_.rpn.post_nms_top_n_train);
  rpn_.assign_targets_to_anchors(gt_boxes);
  rpn_.compute_loss(rpn_sample, gt_boxes);
  plain_levels(features_, pooled_levels_);
  roi_heads_.compute_losses(pooled_levels_, roi_sample, targets);
  return collect_losses();
}

void MaskRcnn::backward() {
  WISE_CHECK(losses_.loss_classifier.defined(), "MaskRcnn::backward: run forward_training first");
  const Device device = pooled_levels_[0].device();
  StageClock clock(stage_times_, device);
  if (!one_.defined() || one_.device() != device) one_ = Tensor::from_vector<float>({1}, {1.0f}).to(device);
  // dL/dP2..P5 from the RoI heads (plain, as RoIAlign read them)
  std::vector<Tensor> d_pooled;
  for (const Tensor& level : pooled_levels_) d_pooled.push_back(Tensor::zeros(level.shape(), DType::float32, device));
  roi_heads_.backward(one_, one_, one_, d_pooled);
  // ... plus the RPN's, in the backbone's layout, on P2..P6
  const std::vector<Tensor>& features = features_;
  std::vector<Tensor> d_features;
  for (size_t l = 0; l < features.size(); ++l) {
    const Tensor& level = features[l];
    d_features.push_back(l < d_pooled.size() ? d_pooled[l].to_format(level.format())
                                             : Tensor::zeros(level.shape(), DType::float32, device, level.format()));
  }
  rpn_.backward(one_, one_, d_features);
  backbone_.backward(d_features, nullptr);
  clock.lap(&StageTimes::backward);
}

void MaskRcnn::time_stages(StageTimes* times) {
  stage_times_ = times;
  roi_heads_.time_stages(times);
}

std::vector<Detections> MaskRcnn::infer(const ImageBatch& batch) {
  WISE_CHECK(batch.images.defined() && batch.images.rank() == 4 &&
                 static_cast<int64_t>(batch.image_sizes.size()) == batch.images.size(0),
             "MaskRcnn::infer: a batch of ", batch.images.defined() ? batch.images.describe() : "undefined",
             " with ", batch.image_sizes.size(), " image sizes");
  const ImageSize padded{batch.images.size(2), batch.images.size(3)};
  StageClock clock(stage_times_, batch.images.device());
  const std::vector<Tensor>& features = backbone_.forward(batch.images, /*training=*/false);
  clock.lap(&StageTimes::backbone);
  const RpnProposals& proposals = rpn_.forward_inference(features, padded, batch.image_sizes);
  clock.lap(&StageTimes::rpn);
  plain_levels(features, pooled_levels_);
  return roi_heads_.forward_inference(pooled_levels_, proposals.boxes, batch.image_sizes);
}

}  // namespace wise
