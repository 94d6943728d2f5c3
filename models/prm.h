// PRM: the peak response classifier of Zhou et al., "Weakly Supervised Instance
// Segmentation using Class Peak Response" (CVPR 2018), WISE's first stage (Laradji et al.,
// Sec. 3.1): a fully convolutional ResNet trained on image-level labels whose class
// response maps' local maxima ("peaks") locate the instances, and whose peak
// backpropagation gives each peak its instance's response map.
//
//   images (N, 3, H, W)
//     backbone:   ResNet conv1 .. layer4 (models/resnet.h)         C5 (N, F, H/s, W/s)
//                 (output stride s = 32, or 16 / 8 with dilated stages:
//                 ResNetConfig::replace_stride_with_dilation)
//     classifier: 1x1 conv with bias -> class response maps (CAMs)  M  (N, K, h, w)
//   training:
//     [upsample:  bilinear x training_upsample_factor, align corners (1 = off)]
//     PSL:        peaks = local maxima of each M^c in a 3x3 window that are >= the map's
//                 lower median; s^c = (1 / N^c) sum_k M^c[i_k, j_k]  (WISE Sec. 3.1, the
//                 class score; nn/peak_stimulation.h)
//     loss:       multilabel soft margin of s against the image-level labels y (nn/losses.h)
//   inference:
//     upsample:   M up x8 bilinearly with align corners (PRM's sub-pixel peak locating)
//     PSL:        peaks and class scores of the upsampled maps, as in training
//     keep:       a peak (n, c, y, x) when s^c_n >= class_threshold (PRM: 0, a logit),
//                 M_up[n, c, y, x] > peak_threshold (PRM: 30 on its ImageNet ResNet-50's
//                 scale) and M_up[n, c, y, x] >= kept_peak_fraction x the map's largest
//                 peak when that is positive (ours: a scale-free threshold; 0 = off)
//     peak backpropagation (PRM Sec. 3.3): from a one-hot at the kept peak on the
//                 upsampled map, back through the upsampling (its ordinary backward), the
//                 classifier and the ResNet, every convolution under PRM's rule
//                   g_in = (x - min x) (.) W+^T( g / (W+ (x - min x) + eps) ),  W+ = max(W, 0)
//                 (nn/peak_response.h) and the norms, ReLUs, max-pool and residual adds by
//                 their ordinary backward; then the image gradient summed over channels,
//                 clamped at 0, normalised: the peak response map R (H, W).
//
// Parameters (in the caller's ParameterBuffer, under `prefix`): the backbone with
// torchvision's names (conv1.weight, layer1.0.bn1.*, ..., as MultilabelClassifier's body,
// so an ImageNet ResNet or a trained MultilabelClassifier loads by name through
// load_backbone / `--weights`), then classifier.weight (K, F, 1, 1) and classifier.bias (K).
// The classifier is declared last, so it comes first in the buffer and its gradients
// finish first; it is always trainable. PRM trains it at 100x the backbone's learning rate
// (0.01 vs 1e-4): a per-parameter rule on the prefix "classifier." (nn/optimizer.h).
//
// The API for a trainer (train_prm):
//   PrmClassifier model(config, buffer);  buffer.allocate(device);
//   model.initialize(generator) or model.load_backbone(path) after initialize;
//   step:   scores = model.forward_training(images)          (N, K) class scores s
//           loss   = model.loss(targets)                     [1] on the device
//           model.backward_loss(nullptr)                      parameter gradients +=
//   (or backward(d_scores, d_images) with a gradient of one's own)
//   eval:   PrmInference out = model.infer(images, with_response_maps)
//           out.scores (N, K) for classification mAP; out.peaks, out.kept and
//           out.response_maps for localisation and pseudo masks.
// Peak coordinates are on the upsampled map's grid (h f, w f): with align corners, row
// y_up is CAM row y_up (h - 1) / (h f - 1), i.e. image row ~ s y_up (h - 1) / (h f - 1)
// at output stride s (CAM cell i is centred on pixel s i); train_prm maps them to pixels.
//
// Cost: one backward pass under PRM's rule is about three forward passes of the batch
// (each convolution runs a forward with W+ and an input-gradient convolution). PRM runs
// one pass per peak; here one pass serves one peak of every image of the batch (the rule
// is per sample), so a batch costs as many passes as its image with the most kept peaks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/resnet.h"
#include "nn/losses.h"
#include "nn/parameter_buffer.h"
#include "nn/peak_response.h"
#include "nn/peak_stimulation.h"
#include "nn/random.h"
#include "nn/resize.h"
#include "nn/state_dict.h"
#include "nn/tensor.h"

namespace wise {

struct PrmConfig {
  ResNetConfig backbone;
  int64_t num_classes = 0;  // K >= 1
  // PSL in training (PRM: window 3, peaks >= the lower median, its backward without 1/N).
  PeakStimulationOptions peak_stimulation;
  // Bilinear (align corners) upsampling of the CAM before the training PSL; 1 = none.
  int training_upsample_factor = 1;
  MultilabelSoftMarginOptions loss;  // mean over the batch, as torch's default
  // Inference: the CAM upsampling (PRM's sub_pixel_locating_factor) and its PSL.
  int upsample_factor = 8;
  PeakStimulationOptions inference_peaks;
  // Which peaks get a response map: s^c >= class_threshold, M_up > peak_threshold and
  // M_up >= kept_peak_fraction x the largest peak of M_up^c when both are > 0 (0: off).
  float class_threshold = 0.0f;
  float peak_threshold = 0.0f;
  float kept_peak_fraction = 0.0f;
  // And, when set, M_up^c at the peak >= every other class's M_up there among the classes
  // passing class_threshold (train/peak_rule.h says why).
  bool dominant_peaks = false;
  PeakResponseNormalization response_normalization = PeakResponseNormalization::sum;  // PRM's
};

// One inference pass. Tensors are on the images' device unless said otherwise.
struct PrmInference {
  Tensor class_maps;      // (N, K, h, w) plain: the CAMs, stride 32
  Tensor upsampled_maps;  // (N, K, h f, w f) plain: x upsample_factor, align corners
  Tensor scores;          // (N, K): PSL class scores of the upsampled maps (logits)
  Tensor peaks;           // (P, 4) int64 on the CPU: (n, c, y, x) on the upsampled grid, sorted
  Tensor peak_values;     // (P) on the CPU: upsampled_maps at each peak
  std::vector<int64_t> kept;  // rows of `peaks` passing the three thresholds above
  Tensor response_maps;   // (kept.size(), H, W) plain: their peak response maps (when asked)
};

class PrmClassifier {
 public:
  // Declares the backbone's and the classifier's parameters into `buffer` (not yet
  // allocated) as `prefix` + name. The buffer must outlive the model.
  PrmClassifier(const PrmConfig& config, ParameterBuffer& buffer, std::string prefix = "");

  // The backbone's torchvision initialisation (kaiming_normal_ convs, norm weight 1, bias
  // 0), then the classifier as nn.Conv2d's default: weight kaiming_uniform_(a = sqrt(5)),
  // i.e. U(-1/sqrt(F), 1/sqrt(F)), bias U(-1/sqrt(F), 1/sqrt(F)). Draws in that order.
  void initialize(Generator& generator);

  // Loads a backbone saved with torchvision's names (an ImageNet ResNet, a
  // MultilabelClassifier or a PrmClassifier): every backbone parameter must be in the file;
  // its fc.*, classifier.* and num_batches_tracked are ignored; our classifier is untouched.
  LoadReport load_backbone(const std::string& path);

  // ---- Training --------------------------------------------------------------------
  // images (N, 3, H, W) -> the class scores s (N, K) plain, model-owned (overwritten by the
  // next forward). Uses the backbone's training path (batch statistics with batch_norm).
  const Tensor& forward_training(const Tensor& images);
  // The multilabel soft-margin loss of the last training forward's scores against
  // targets (N, K) in {0, 1} (float32 on the device); [1], model-owned.
  const Tensor& loss(const Tensor& targets);
  // After loss(targets): backward of the loss (d_loss = 1) into the parameters' gradients
  // (+=) and *d_images (+=, when not null: needs ResNetConfig::image_gradient with frozen
  // stages).
  void backward_loss(Tensor* d_images);
  // After forward_training: d_scores (N, K) plain = dL/ds. Accumulates (+=) into the
  // trainable parameters' gradients and *d_images when not null.
  void backward(const Tensor& d_scores, Tensor* d_images);

  // The last training forward's class response maps (N, K, h, w) plain, the maps the PSL
  // read (upsampled when training_upsample_factor > 1), and its peaks (K', 4) int64.
  const Tensor& class_maps() const { return class_maps_; }
  const Tensor& stimulated_maps() const { return stimulated_; }
  const Tensor& peaks() const { return peaks_; }

  // ---- Inference --------------------------------------------------------------------
  // CAMs, upsampled CAMs, their peaks and class scores; with response_maps, also the peak
  // response map of every kept peak (one backward each). The backbone runs its inference
  // statistics in both cases.
  PrmInference infer(const Tensor& images, bool response_maps = true);

  const PrmConfig& config() const { return config_; }
  int64_t num_classes() const { return config_.num_classes; }
  ResNet& backbone() { return backbone_; }
  const std::string& prefix() const { return prefix_; }

 private:
  // C5 -> CAM (N, K, h, w) plain, into `maps`.
  void classify(const Tensor& c5, Tensor& maps) const;
  // The peak response maps of `peaks` ((n, c, y, x) rows of `inference`, at most one per
  // image n) in one backward pass, peak i's into row map_rows[i] of `maps` (kept, H, W).
  void peak_responses(const PrmInference& inference, const Tensor& c5, const std::vector<const int64_t*>& peaks,
                      const Shape& images, const std::vector<int64_t>& map_rows, Tensor& maps);

  PrmConfig config_;
  ParameterBuffer& buffer_;
  std::string prefix_;
  ResNet backbone_;
  int classifier_weight_ = -1, classifier_bias_ = -1;  // indices into buffer_
  // The training step's activations and gradients, reused between steps.
  Tensor c5_;                    // the backbone's C5 (a handle to its buffer)
  Tensor class_maps_;            // (N, K, h, w) plain
  Tensor stimulated_;            // the PSL's input: class_maps_ or its upsampling
  Tensor peaks_, peak_values_, scores_, peak_mask_, peak_counts_;
  Tensor targets_, loss_;
  Tensor d_stimulated_, d_class_maps_, d_c5_;
  bool saved_for_backward_ = false;
};

}  // namespace wise
