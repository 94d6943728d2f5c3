// The RPN's head (Ren et al. 2015, Sec. 3.1; torchvision 0.14's RPNHead and
// concat_box_prediction_layers): one small network slid over every FPN level, with the
// same weights on every level (FPN paper, Sec. 4.1).
//
//   per level l:  t_l          = relu(conv3x3(P_l) + b)                (N, C, H_l, W_l)
//                 objectness_l = cls_logits(t_l)   1x1 conv            (N, A, H_l, W_l)
//                 deltas_l     = bbox_pred(t_l)    1x1 conv            (N, 4A, H_l, W_l)
//   flattened:    objectness   (N, T)     T = sum_l H_l W_l A
//                 deltas       (N, T, 4)
// Row r of image n is level l's anchor (h, w, a) at r = offset_l + (h W_l + w) A + a, the
// order of the anchors (models/detection/anchors.h): torchvision's permute (N, H, W, A, C)
// then concatenation over levels. The flattening is a layout change, NCHW -> NHWC,
// done by the tensors' format conversion (kernels/reorder.h).
//
// Parameters, under `prefix` (Mask R-CNN's "rpn.head."): conv.0.0.weight (C, C, 3, 3),
// conv.0.0.bias, cls_logits.weight (A, C, 1, 1), cls_logits.bias, bbox_pred.weight
// (4A, C, 1, 1), bbox_pred.bias: torchvision's names (its Conv2dNormActivation wrapper
// is why the first is conv.0.0). Initialised as torchvision: weights N(0, 0.01^2), biases 0.
#pragma once

#include <string>
#include <vector>

#include "nn/parameter_buffer.h"
#include "nn/random.h"
#include "nn/tensor.h"

namespace wise {

class RpnHead {
 public:
  // Declares the parameters into `buffer` (not yet allocated); it must outlive the head.
  RpnHead(int64_t in_channels, int64_t num_anchors, ParameterBuffer& buffer,
          std::string prefix = "rpn.head.");

  void initialize(Generator& generator);

  // features P_l (N, C, H_l, W_l) on the buffer's device, any layout. Writes the
  // flattened objectness (N, T) and deltas (N, T, 4), plain, head-owned (overwritten by
  // the next forward). Keeps what backward needs.
  void forward(const std::vector<Tensor>& features);
  const Tensor& objectness() const { return objectness_; }
  const Tensor& pred_bbox_deltas() const { return pred_bbox_deltas_; }
  // H_l W_l A per level (torchvision's num_anchors_per_level), of the last forward.
  const std::vector<int64_t>& rows_per_level() const { return rows_per_level_; }

  // After forward: d_objectness (N, T) and d_deltas (N, T, 4), plain (either undefined =
  // zero). Accumulates (+=) the parameters' gradients and dL/dP_l into d_features[l]
  // (P_l's shape and format; undefined = not wanted).
  void backward(const Tensor& d_objectness, const Tensor& d_deltas,
                std::vector<Tensor>& d_features);

  int64_t num_anchors() const { return num_anchors_; }

 private:
  ParameterBuffer& buffer_;
  int64_t in_channels_ = 0, num_anchors_ = 0;
  int conv_weight_ = -1, conv_bias_ = -1, cls_weight_ = -1, cls_bias_ = -1, bbox_weight_ = -1,
      bbox_bias_ = -1;
  // Activations of the last forward, per level.
  std::vector<Tensor> features_, hidden_, level_objectness_, level_deltas_;
  std::vector<int64_t> rows_per_level_;
  Tensor objectness_, pred_bbox_deltas_;
  // Backward scratch, per level.
  std::vector<Tensor> d_level_objectness_, d_level_deltas_, d_hidden_, d_pre_activation_;
};

}  // namespace wise
