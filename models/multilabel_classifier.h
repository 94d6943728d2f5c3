// A multi-label image classifier: ResNet body -> global average pool -> linear.
//
//   images (N, 3, H, W)
//     body:    ResNet (models/resnet.h)                       C5 (N, C, H/32, W/32)
//     avgpool: adaptive_avg_pool2d(C5, 1)                     pooled (N, C)
//     fc:      logits = pooled fc.weight^T + fc.bias          logits (N, K)
//
// torchvision's resnet*() with num_classes = K, exactly: the same names
// ("conv1.weight", ..., "layer4.1.bn2.running_var", "fc.weight", "fc.bias", with
// an optional prefix), so an ImageNet state dict loads into the body by name and
// a trained classifier is a torchvision state dict. Trained on image-level
// labels with the multilabel soft-margin loss (one sigmoid per class), it is the
// first half of PRM (Zhou et al. 2018), which keeps the body and replaces the
// pooling + fc by a 1x1 class-response conv and peak stimulation.
//
// Parameters: the body is declared first and the fc last, so in the
// ParameterBuffer (laid out in reverse declaration order) fc.weight and fc.bias
// come first, and their gradients are the first to finish in backward. The fc
// is always trainable, whatever the body's trainable_layers.
//
// Memory: the pooled features, the logits and the gradients in between are
// model-owned and reused from step to step: at a fixed batch shape a training
// step allocates nothing after the first (the body's own rule too).
#pragma once

#include <cstdint>
#include <string>

#include "models/resnet.h"
#include "nn/parameter_buffer.h"
#include "nn/random.h"
#include "nn/state_dict.h"
#include "nn/tensor.h"

namespace wise {

struct MultilabelClassifierConfig {
  ResNetConfig backbone;
  int64_t num_classes = 0;  // K >= 1
};

class MultilabelClassifier {
 public:
  // Declares the body's and the fc's parameters into `buffer` (not yet
  // allocated) as `prefix` + torchvision name. The buffer must outlive the model.
  MultilabelClassifier(const MultilabelClassifierConfig& config, ParameterBuffer& buffer, std::string prefix = "");

  // torchvision's initialisation: the body's (kaiming_normal_ convolutions, norm
  // weight 1, bias 0), and nn.Linear's default for the fc: weight
  // kaiming_uniform_(a = sqrt(5)), i.e. U(-1/sqrt(C), 1/sqrt(C)), and bias
  // U(-1/sqrt(C), 1/sqrt(C)). The body draws first, then fc.weight, then fc.bias.
  void initialize(Generator& generator);

  // Loads an ImageNet ResNet (torchvision's keys, models/torchvision_weights.h)
  // into the body: every body parameter must be in the file; the file's fc.*
  // (1000 ImageNet classes) and num_batches_tracked are ignored, and our fc keeps
  // its values. Errors name the file and each missing or unexpected key.
  LoadReport load_imagenet_body(const std::string& path);

  // images (N, 3, H, W) float32 on the buffer's device -> logits (N, K) float32
  // plain, owned by the model (overwritten by the next forward). training = true
  // keeps what backward needs (and, with batch_norm, uses batch statistics and
  // updates the running ones); false is the inference path.
  const Tensor& forward(const Tensor& images, bool training);

  // After forward(images, true): d_logits (N, K) = dL/dlogits. Accumulates (+=)
  // into the trainable parameters' gradients and into *d_images (the images'
  // shape) when not null.
  void backward(const Tensor& d_logits, Tensor* d_images);

  // The last forward's pooled C5 features (N, C), plain.
  const Tensor& pooled_features() const { return pooled_; }

  const MultilabelClassifierConfig& config() const { return config_; }
  int64_t num_classes() const { return config_.num_classes; }
  int64_t feature_channels() const { return body_.channels(5); }
  ResNet& body() { return body_; }

 private:
  MultilabelClassifierConfig config_;
  ParameterBuffer& buffer_;
  std::string prefix_;
  ResNet body_;
  int fc_weight_ = -1, fc_bias_ = -1;  // indices into buffer_
  // Activations and their gradients, reused between steps.
  Tensor c5_;           // the body's C5 (a handle to the body's buffer)
  Tensor pooled_4d_;    // (N, C, 1, 1): the pool's output
  Tensor pooled_;       // (N, C): the same buffer, as the fc reads it
  Tensor logits_;       // (N, K)
  Tensor d_pooled_;     // (N, C)
  Tensor d_c5_;         // C5's shape and format
  bool saved_for_backward_ = false;
};

}  // namespace wise
