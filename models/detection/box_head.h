// Fast R-CNN's box branch after RoIAlign (Girshick 2015; the FPN paper's "2fc" head,
// Lin et al. 2017, Sec. 4.2): torchvision 0.14's TwoMLPHead and FastRCNNPredictor.
//
//   x (R, C, P, P) pooled RoI features (P = 7)   flattened to (R, C P P)
//   h = relu(fc7(relu(fc6(x))))                   (R, representation_size = 1024)
//   class_logits   = cls_score(h)                 (R, num_classes)   background is class 0
//   box_regression = bbox_pred(h)                 (R, 4 num_classes) class-specific deltas
//
// Parameters, under `prefix` (Mask R-CNN's "roi_heads."): box_head.fc6.weight (1024, C P P),
// box_head.fc6.bias, box_head.fc7.*, box_predictor.cls_score.*, box_predictor.bbox_pred.*:
// torchvision's names. Initialised as nn.Linear (torchvision keeps its default):
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases.
#pragma once

#include <string>

#include "nn/parameter_buffer.h"
#include "nn/random.h"
#include "nn/tensor.h"

namespace wise {

struct BoxHeadConfig {
  int64_t in_channels = 256;          // the FPN's out_channels
  int64_t resolution = 7;             // box_roi_pool's output_size
  int64_t representation_size = 1024;
  int64_t num_classes = 91;           // with the background
};

class BoxHead {
 public:
  BoxHead(const BoxHeadConfig& config, ParameterBuffer& buffer, std::string prefix = "roi_heads.");
  void initialize(Generator& generator);

  // pooled (R, C, P, P) plain -> class_logits (R, num_classes), box_regression
  // (R, 4 num_classes), plain, head-owned. R may be 0. Keeps what backward needs.
  void forward(const Tensor& pooled);
  const Tensor& class_logits() const { return class_logits_; }
  const Tensor& box_regression() const { return box_regression_; }

  // After forward: accumulates (+=) the parameters' gradients and, when d_pooled is not
  // null, dL/d pooled (pooled's shape). Either output gradient may be undefined (zero).
  void backward(const Tensor& d_class_logits, const Tensor& d_box_regression, Tensor* d_pooled);

  const BoxHeadConfig& config() const { return config_; }

 private:
  BoxHeadConfig config_;
  ParameterBuffer& buffer_;
  int fc6_weight_ = -1, fc6_bias_ = -1, fc7_weight_ = -1, fc7_bias_ = -1, cls_weight_ = -1,
      cls_bias_ = -1, bbox_weight_ = -1, bbox_bias_ = -1;
  Tensor flat_, fc6_, fc7_, class_logits_, box_regression_;  // the forward's, kept
  Tensor d_fc7_, d_fc6_, d_fc6_pre_, d_fc7_pre_;
};

}  // namespace wise
