// Mask R-CNN's mask branch after RoIAlign (He et al. 2017, Sec. 3 and Fig. 4, right):
// torchvision 0.14's MaskRCNNHeads and MaskRCNNPredictor.
//
//   x (R, C, 14, 14) pooled RoI features
//   4 x  x = relu(conv3x3(x))            mask_head.<i>.0   (R, 256, 14, 14)
//        x = relu(convtranspose2x2 s2(x)) mask_predictor.conv5_mask   (R, 256, 28, 28)
//   mask_logits = conv1x1(x)              mask_predictor.mask_fcn_logits (R, num_classes, 28, 28)
// One mask per class (He et al.'s decoupling of masks and classes); the loss and the
// inference read only the RoI's class channel.
//
// Parameters, under `prefix` ("roi_heads."): mask_head.<i>.0.weight (256, C_i, 3, 3) and
// .bias, mask_predictor.conv5_mask.weight (256, 256, 2, 2) (ConvTranspose2d's layout),
// .bias, mask_predictor.mask_fcn_logits.weight (num_classes, 256, 1, 1), .bias:
// torchvision's names. Initialisation as torchvision: every conv weight kaiming_normal_
// (fan_out, relu); the four conv biases 0; the predictor's two biases PyTorch's default
// U(+-1/sqrt(fan_in)) (torchvision leaves them).
#pragma once

#include <string>
#include <vector>

#include "nn/parameter_buffer.h"
#include "nn/random.h"
#include "nn/tensor.h"

namespace wise {

struct MaskHeadConfig {
  int64_t in_channels = 256;
  std::vector<int64_t> layers{256, 256, 256, 256};  // mask_layers
  int64_t dim_reduced = 256;                         // the transposed conv's channels
  int64_t num_classes = 91;
};

class MaskHead {
 public:
  MaskHead(const MaskHeadConfig& config, ParameterBuffer& buffer, std::string prefix = "roi_heads.");
  void initialize(Generator& generator);

  // pooled (R, C, S, S) plain -> mask_logits (R, num_classes, 2S, 2S) plain, head-owned.
  // Keeps what backward needs. R may be 0.
  void forward(const Tensor& pooled);
  const Tensor& mask_logits() const { return mask_logits_; }

  // After forward: d_mask_logits (R, num_classes, 2S, 2S) any layout. Accumulates (+=) the
  // parameters' gradients and dL/d pooled into *d_pooled when not null.
  void backward(const Tensor& d_mask_logits, Tensor* d_pooled);

  const MaskHeadConfig& config() const { return config_; }

 private:
  MaskHeadConfig config_;
  ParameterBuffer& buffer_;
  std::vector<int> conv_weight_, conv_bias_;
  int deconv_weight_ = -1, deconv_bias_ = -1, logits_weight_ = -1, logits_bias_ = -1;
  Tensor pooled_;
  std::vector<Tensor> hidden_;  // the four convs' outputs (post-ReLU)
  Tensor upsampled_, logits_blocked_, mask_logits_;
  std::vector<Tensor> d_hidden_, d_pre_;
  Tensor d_upsampled_, d_upsampled_pre_;
};

}  // namespace wise
