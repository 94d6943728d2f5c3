#include "models/prm.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "models/torchvision_weights.h"
#include "nn/conv2d.h"
#include "nn/ensure.h"

namespace wise {

namespace {

const Conv2dOptions kClassifierConv{1, 0, 1};  // 1x1, stride 1, no padding

const ResNetConfig& checked_backbone(const PrmConfig& config) {
  WISE_CHECK(config.num_classes >= 1, "PrmConfig.num_classes must be >= 1, got ", config.num_classes);
  WISE_CHECK(config.upsample_factor >= 1, "PrmConfig.upsample_factor must be >= 1, got ", config.upsample_factor);
  WISE_CHECK(config.training_upsample_factor >= 1, "PrmConfig.training_upsample_factor must be >= 1, got ",
             config.training_upsample_factor);
  return config.backbone;
}

Tensor as_plain(const Tensor& tensor) {
  return tensor.format() == MemoryFormat::plain ? tensor : tensor.to_format(MemoryFormat::plain);
}

}  // namespace

PrmClassifier::PrmClassifier(const PrmConfig& config, ParameterBuffer& buffer, std::string prefix)
    : config_(config), buffer_(buffer), prefix_(std::move(prefix)), backbone_(checked_backbone(config), buffer, prefix_) {
  // Declared after the backbone: first in the buffer, first to finish in backward.
  const int64_t features = backbone_.channels(5);
  classifier_weight_ = buffer_.add(prefix_ + "classifier.weight", {config_.num_classes, features, 1, 1});
  classifier_bias_ = buffer_.add(prefix_ + "classifier.bias", {config_.num_classes});
}

void PrmClassifier::initialize(Generator& generator) {
  WISE_CHECK(buffer_.allocated(), "PrmClassifier::initialize: allocate the ParameterBuffer first");
  backbone_.initialize(generator);
  // nn.Conv2d.reset_parameters: kaiming_uniform_(a = sqrt(5)) gives the bound
  // 1 / sqrt(fan_in), fan_in = F * 1 * 1; the bias uses the same bound.
  Tensor weight = buffer_.value(classifier_weight_);
  kaiming_uniform_(weight, generator, std::sqrt(5.0));
  const float bound = static_cast<float>(1.0 / std::sqrt(static_cast<double>(backbone_.channels(5))));
  Tensor bias = buffer_.value(classifier_bias_);
  uniform_(bias, generator, -bound, bound);
  buffer_.mark_changed();  // written through value() views
}

LoadReport PrmClassifier::load_backbone(const std::string& path) {
  WISE_CHECK(buffer_.allocated(), "PrmClassifier::load_backbone(", path, "): allocate the ParameterBuffer first");
  return load_torchvision_weights(path, buffer_, prefix_, "classifier.");
}

void PrmClassifier::classify(const Tensor& c5, Tensor& maps) const {
  Tensor output;
  conv2d_forward(c5, buffer_.value(classifier_weight_), buffer_.value(classifier_bias_), kClassifierConv, output);
  maps = as_plain(output);
}

// ---------------------------------------------------------------------------------------
// Training
// ---------------------------------------------------------------------------------------

const Tensor& PrmClassifier::forward_training(const Tensor& images) {
  saved_for_backward_ = false;
  c5_ = backbone_.forward(images, true).c5;  // a handle: the backbone owns the buffer
  classify(c5_, class_maps_);
  if (config_.training_upsample_factor > 1) {
    upsample_class_maps(class_maps_, config_.training_upsample_factor, stimulated_);
  } else {
    stimulated_ = class_maps_;
  }
  // WISE Sec. 3.1: s^c = (1 / N^c) sum_k M^c[i_k, j_k] over the peaks of M^c.
  peak_stimulation_forward(stimulated_, config_.peak_stimulation, peaks_, peak_values_, scores_, peak_mask_,
                           peak_counts_);
  saved_for_backward_ = true;
  return scores_;
}

const Tensor& PrmClassifier::loss(const Tensor& targets) {
  WISE_CHECK(saved_for_backward_, "PrmClassifier::loss needs a forward_training(images) just before");
  multilabel_soft_margin_forward(scores_, targets, Tensor(), config_.loss, loss_);
  targets_ = targets;
  return loss_;
}

void PrmClassifier::backward_loss(Tensor* d_images) {
  WISE_CHECK(saved_for_backward_ && targets_.defined(), "PrmClassifier::backward_loss needs forward_training(images) "
                                                        "and loss(targets) just before");
  const Device device = scores_.device();
  Tensor d_loss = Tensor::from_vector<float>({1}, {1.0f}).to(device);
  Tensor d_scores = Tensor::zeros(scores_.shape(), DType::float32, device);
  multilabel_soft_margin_backward(d_loss, scores_, targets_, Tensor(), config_.loss, d_scores);
  backward(d_scores, d_images);
}

void PrmClassifier::backward(const Tensor& d_scores, Tensor* d_images) {
  WISE_CHECK(saved_for_backward_, "PrmClassifier::backward needs a forward_training(images) just before");
  const Device device = scores_.device();
  require_float_on(d_scores, device, "PrmClassifier::backward: d_scores");
  WISE_CHECK(d_scores.shape() == scores_.shape() && d_scores.format() == MemoryFormat::plain,
             "PrmClassifier::backward: d_scores must be plain ", scores_.shape(), " (the scores' shape), got ",
             d_scores.describe());

  // PSL: d_score to each peak (PRM's backward, or the mean's).
  ensure_tensor(d_stimulated_, stimulated_.shape(), DType::float32, device);
  d_stimulated_.zero();
  peak_stimulation_backward(d_scores, peak_mask_, peak_counts_, config_.peak_stimulation, d_stimulated_);
  const Tensor* d_maps = &d_stimulated_;
  if (config_.training_upsample_factor > 1) {
    ensure_tensor(d_class_maps_, class_maps_.shape(), DType::float32, device);
    d_class_maps_.zero();
    resize_bilinear_backward(
        d_stimulated_, upsample_bilinear_options(class_maps_.shape(), config_.training_upsample_factor, true),
        d_class_maps_);
    d_maps = &d_class_maps_;
  }

  // Classifier: d_C5 and the 1x1 conv's weight and bias gradients.
  ensure_tensor(d_c5_, c5_.shape(), DType::float32, device, c5_.format());
  d_c5_.zero();
  Tensor d_weight = buffer_.gradient(classifier_weight_), d_bias = buffer_.gradient(classifier_bias_);
  conv2d_backward(c5_, buffer_.value(classifier_weight_), *d_maps, kClassifierConv, &d_c5_, &d_weight, &d_bias);

  ResNetFeatures d_features;
  d_features.c5 = d_c5_;
  backbone_.backward(d_features, d_images);
  saved_for_backward_ = false;
}

// ---------------------------------------------------------------------------------------
// Inference
// ---------------------------------------------------------------------------------------

PrmInference PrmClassifier::infer(const Tensor& images, bool response_maps) {
  saved_for_backward_ = false;
  PrmInference out;
  const Tensor c5 = response_maps ? backbone_.forward_for_peak_response(images).c5 : backbone_.forward(images, false).c5;
  classify(c5, out.class_maps);
  upsample_class_maps(out.class_maps, config_.upsample_factor, out.upsampled_maps);
  Tensor peaks, values, mask, counts;
  peak_stimulation_forward(out.upsampled_maps, config_.inference_peaks, peaks, values, out.scores, mask, counts);
  out.peaks = peaks.to(Device::cpu);
  out.peak_values = values.to(Device::cpu);

  // PRM's filter: the class score (a logit) and the peak's own value; then ours, the
  // value against its map's largest peak.
  const Tensor scores = out.scores.to(Device::cpu);
  const float* score = scores.data<float>();
  const int64_t* rows = out.peaks.data<int64_t>();
  const float* value = out.peak_values.data<float>();
  const int64_t K = config_.num_classes;
  std::vector<float> map_maximum(static_cast<size_t>(images.size(0) * K), -std::numeric_limits<float>::infinity());
  for (int64_t p = 0; p < out.peaks.size(0); ++p) {
    float& maximum = map_maximum[static_cast<size_t>(rows[4 * p] * K + rows[4 * p + 1])];
    maximum = std::max(maximum, value[p]);
  }
  // Whether no other class passing the class threshold has a higher upsampled map at
  // the peak (n, c, y, x).
  const Tensor upsampled = config_.dominant_peaks ? out.upsampled_maps.to(Device::cpu) : Tensor();
  auto dominant = [&](const int64_t* row) {
    const Shape& up = out.upsampled_maps.shape();
    const float* image_maps = upsampled.data<float>() + row[0] * K * up[2] * up[3];
    const int64_t offset = row[2] * up[3] + row[3];
    const float own = image_maps[row[1] * up[2] * up[3] + offset];
    for (int64_t j = 0; j < K; ++j) {
      if (j != row[1] && score[row[0] * K + j] >= config_.class_threshold && image_maps[j * up[2] * up[3] + offset] > own)
        return false;
    }
    return true;
  };
  for (int64_t p = 0; p < out.peaks.size(0); ++p) {
    const int64_t* row = rows + 4 * p;
    const float maximum = map_maximum[static_cast<size_t>(row[0] * K + row[1])];
    const bool strong =
        config_.kept_peak_fraction <= 0.0f || maximum <= 0.0f || value[p] >= config_.kept_peak_fraction * maximum;
    if (score[row[0] * K + row[1]] >= config_.class_threshold && value[p] > config_.peak_threshold && strong &&
        (!config_.dominant_peaks || dominant(row))) {
      out.kept.push_back(p);
    }
  }
  if (!response_maps) return out;

  // The maps in rounds: round r carries, in each image's sample slot, the one-hot of that
  // image's r-th kept peak. PRM's rule is per sample (x~ subtracts each sample's own
  // minimum, the norms are folded, nothing mixes samples), so one backward pass gives
  // every image's r-th map: as many passes as the most kept peaks of one image, not as
  // the kept peaks of the batch (~10x fewer on shapes).
  const int64_t N = images.size(0), H = images.size(2), W = images.size(3);
  std::vector<std::vector<size_t>> by_image(static_cast<size_t>(N));  // indices into `kept`
  for (size_t i = 0; i < out.kept.size(); ++i) by_image[static_cast<size_t>(rows[4 * out.kept[i]])].push_back(i);
  size_t rounds = 0;
  for (const std::vector<size_t>& image_kept : by_image) rounds = std::max(rounds, image_kept.size());
  out.response_maps = Tensor::zeros({static_cast<int64_t>(out.kept.size()), H, W}, DType::float32, images.device());
  std::vector<const int64_t*> round_peaks;
  std::vector<int64_t> round_maps;
  for (size_t round = 0; round < rounds; ++round) {
    round_peaks.clear();
    round_maps.clear();
    for (const std::vector<size_t>& image_kept : by_image) {
      if (round >= image_kept.size()) continue;
      round_peaks.push_back(rows + 4 * out.kept[image_kept[round]]);
      round_maps.push_back(static_cast<int64_t>(image_kept[round]));
    }
    peak_responses(out, c5, round_peaks, images.shape(), round_maps, out.response_maps);
  }
  return out;
}

void PrmClassifier::peak_responses(const PrmInference& inference, const Tensor& c5,
                                   const std::vector<const int64_t*>& peaks, const Shape& images,
                                   const std::vector<int64_t>& map_rows, Tensor& maps) {
  const Device device = c5.device();
  const Shape& up = inference.upsampled_maps.shape();
  // A one-hot at each peak of the upsampled map (at most one per image), back through the
  // upsampling ...
  std::vector<float> one_hots(static_cast<size_t>(up.numel()), 0.0f);
  for (const int64_t* peak : peaks) {
    one_hots[static_cast<size_t>(((peak[0] * up[1] + peak[1]) * up[2] + peak[2]) * up[3] + peak[3])] = 1.0f;
  }
  const Tensor d_upsampled = Tensor::from_vector<float>(up, one_hots).to(device);
  Tensor d_maps = Tensor::zeros(inference.class_maps.shape(), DType::float32, device);
  resize_bilinear_backward(d_upsampled,
                           upsample_bilinear_options(inference.class_maps.shape(), config_.upsample_factor, true),
                           d_maps);
  // ... the classifier and the backbone under PRM's rule ...
  Tensor d_c5 = Tensor::zeros(c5.shape(), DType::float32, device, c5.format());
  conv2d_peak_response_backward(c5, buffer_.value(classifier_weight_), d_maps, kClassifierConv, d_c5);
  ResNetFeatures d_features;
  d_features.c5 = d_c5;
  Tensor d_images = Tensor::zeros(images, DType::float32, device);
  backbone_.peak_response_backward(d_features, d_images);
  // ... and each image's gradient to its map (PRM: summed over channels, clamped, / sum).
  const int64_t H = images[2], W = images[3];
  for (size_t i = 0; i < peaks.size(); ++i) {
    Tensor map = maps.view(map_rows[i] * H * W, {H, W});
    peak_response_map(d_images, peaks[i][0], config_.response_normalization, map);
  }
}

}  // namespace wise
