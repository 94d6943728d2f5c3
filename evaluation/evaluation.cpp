// The evaluation driver (see evaluation.h): per image, decode and pack the masks once (in
// bounded blocks) and compute every prediction x GT IoU; then run the protocol's matching
// and AP over each evaluated set (all, sizes, objects per image), which only re-reads
// those IoUs.
#include "evaluation/evaluation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <unordered_map>

#include "data/number_text.h"
#include "evaluation/average_precision.h"
#include "kernels/mask_ops.h"
#include "nn/masks.h"

namespace wise::data {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kLargestArea = 1e10;  // COCOeval's 1e5 ** 2

// One image after the protocol's filters: its GT and predictions and all their IoUs.
struct PreparedImage {
  int64_t id = 0;
  std::vector<int64_t> gt_class;  // class index into Dataset::categories
  std::vector<double> gt_area;    // pixels, after void removal under `wise`
  std::vector<uint8_t> gt_crowd;
  std::vector<int64_t> prediction_class;  // in descending score order (stable)
  std::vector<float> prediction_score;
  std::vector<double> prediction_area;
  std::vector<float> iou;           // (P, G) mask IoU
  std::vector<float> matching_iou;  // (P, G) as iou, crowd columns |p & g| / |p|
  int64_t objects = 0;              // non-crowd GT
};

std::string size_text(int64_t height, int64_t width) {
  return std::to_string(height) + " x " + std::to_string(width);
}

// The masks of `rles`, each AND NOT the `void_bits` when given, packed to bits for
// nn/masks.h's mask_iou_packed: packed (N, words) and areas (N). The bits are in the RLE's
// own column-major order (data::rle_to_bits), which IoU does not depend on as long as
// every mask compared (ground truth, predictions, void) is packed the same way; straight
// from the runs, with no dense bytes (decoding to pixels and packing those was 48 % of a
// 500-image evaluation).
void pack_rles(const std::vector<const Rle*>& rles, int64_t height, int64_t width,
               const std::vector<uint64_t>* void_bits, Tensor& packed, Tensor& areas) {
  const int64_t count = static_cast<int64_t>(rles.size());
  const int64_t words = kernels::mask_words(height * width);
  packed = Tensor::empty({count, words}, DType::int64);
  areas = Tensor::empty({count}, DType::int64);
  for (int64_t i = 0; i < count; ++i) {
    auto* bits = reinterpret_cast<uint64_t*>(packed.data<int64_t>() + i * words);
    int64_t area = static_cast<int64_t>(rle_to_bits(*rles[static_cast<size_t>(i)], bits));
    if (void_bits) {
      area = 0;
      for (int64_t w = 0; w < words; ++w) {
        bits[w] &= ~(*void_bits)[static_cast<size_t>(w)];
        area += __builtin_popcountll(bits[w]);
      }
    }
    areas.data<int64_t>()[i] = area;
  }
}

struct Lookup {
  std::unordered_map<int64_t, int64_t> category_index;
  std::unordered_map<int64_t, int64_t> image_index;  // into Dataset::images
};

Lookup build_lookup(const Dataset& dataset) {
  Lookup lookup;
  for (std::size_t c = 0; c < dataset.categories.size(); ++c) {
    if (!lookup.category_index.emplace(dataset.categories[c].id, c).second) {
      throw std::invalid_argument("evaluate: ground truth category id " +
                                  std::to_string(dataset.categories[c].id) + " appears twice");
    }
  }
  for (std::size_t i = 0; i < dataset.images.size(); ++i) {
    if (!lookup.image_index.emplace(dataset.images[i].id, i).second) {
      throw std::invalid_argument("evaluate: ground truth image id " +
                                  std::to_string(dataset.images[i].id) + " appears twice");
    }
  }
  return lookup;
}

// Image and category indices of an annotation or detection; throws naming it otherwise.
std::pair<int64_t, int64_t> locate(const Lookup& lookup, const Dataset& dataset,
                                   const std::string& what, int64_t image_id,
                                   int64_t category_id, const Rle& mask) {
  const auto image = lookup.image_index.find(image_id);
  if (image == lookup.image_index.end()) {
    throw std::invalid_argument("evaluate: " + what + " has image_id " +
                                std::to_string(image_id) +
                                ", which is not an image of the ground truth");
  }
  const auto category = lookup.category_index.find(category_id);
  if (category == lookup.category_index.end()) {
    throw std::invalid_argument("evaluate: " + what + " has category_id " +
                                std::to_string(category_id) +
                                ", which is not a category of the ground truth");
  }
  const ImageInfo& info = dataset.images[image->second];
  if (mask.height != info.height || mask.width != info.width) {
    throw std::invalid_argument("evaluate: " + what + " has a " +
                                size_text(mask.height, mask.width) + " mask, expected image " +
                                std::to_string(image_id) + "'s size " +
                                size_text(info.height, info.width));
  }
  return {image->second, category->second};
}

// What the `wise` score filter compares: the results file's double when there is one
// (WISE's Python filtered those; their float32 can round up onto the threshold).
double score_for_threshold(const Detection& detection) {
  return detection.file_score.value_or(static_cast<double>(detection.score));
}

// The predictions the protocol scores in one image (indices into `detections`), in
// descending score order, ties in input order.
std::vector<int64_t> scored_predictions(const std::vector<int64_t>& given,
                                        const std::vector<Detection>& detections,
                                        const std::vector<int64_t>& detection_class,
                                        const EvaluationOptions& options) {
  std::vector<int64_t> order;
  for (int64_t d : given) {
    if (options.protocol == Protocol::wise &&
        score_for_threshold(detections[d]) < options.score_threshold) {
      continue;
    }
    order.push_back(d);
  }
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return detections[a].score > detections[b].score;
  });
  if (options.protocol != Protocol::wise) return order;
  std::unordered_map<int64_t, int64_t> per_class;  // COCOeval's maxDets: per image and class
  std::vector<int64_t> kept;
  for (int64_t d : order) {
    if (per_class[detection_class[d]]++ < options.max_detections) kept.push_back(d);
  }
  return kept;
}

PreparedImage prepare_image(const ImageInfo& info, const std::vector<int64_t>& annotation_indices,
                            const std::vector<int64_t>& prediction_indices, const Dataset& dataset,
                            const std::vector<int64_t>& annotation_class,
                            const std::vector<Detection>& detections,
                            const std::vector<int64_t>& detection_class,
                            const EvaluationOptions& options) {
  PreparedImage image;
  image.id = info.id;
  std::vector<const Rle*> gt_masks, prediction_masks;
  for (int64_t a : annotation_indices) {
    const Annotation& annotation = dataset.annotations[a];
    image.gt_class.push_back(annotation_class[a]);
    image.gt_crowd.push_back(annotation.iscrowd ? 1 : 0);
    image.objects += annotation.iscrowd ? 0 : 1;
    gt_masks.push_back(&annotation.segmentation);
  }
  for (int64_t d : prediction_indices) {
    image.prediction_class.push_back(detection_class[d]);
    image.prediction_score.push_back(detections[d].score);
    prediction_masks.push_back(&detections[d].segmentation);
  }
  std::vector<uint64_t> void_bits;
  const bool remove_void = options.protocol == Protocol::wise && info.void_mask.has_value();
  if (remove_void) {
    if (info.void_mask->height != info.height || info.void_mask->width != info.width) {
      throw std::invalid_argument("evaluate: image " + std::to_string(info.id) + " has a " +
                                  size_text(info.void_mask->height, info.void_mask->width) +
                                  " void mask, expected its size " +
                                  size_text(info.height, info.width));
    }
    void_bits.resize(static_cast<size_t>(kernels::mask_words(info.height * info.width)));
    rle_to_bits(*info.void_mask, void_bits.data());
  }
  const std::vector<uint64_t>* void_or_null = remove_void ? &void_bits : nullptr;
  const int64_t G = static_cast<int64_t>(gt_masks.size());
  const int64_t P = static_cast<int64_t>(prediction_masks.size());
  image.gt_area.assign(G, 0.0);
  image.prediction_area.assign(P, 0.0);
  Tensor gt_packed, gt_areas, prediction_packed, prediction_areas, iou;
  if (G > 0) {
    pack_rles(gt_masks, info.height, info.width, void_or_null, gt_packed, gt_areas);
    for (int64_t g = 0; g < G; ++g) image.gt_area[g] = static_cast<double>(gt_areas.data<int64_t>()[g]);
  }
  if (P > 0) {
    pack_rles(prediction_masks, info.height, info.width, void_or_null, prediction_packed, prediction_areas);
    for (int64_t p = 0; p < P; ++p) {
      image.prediction_area[p] = static_cast<double>(prediction_areas.data<int64_t>()[p]);
    }
  }
  if (G == 0 || P == 0) return image;
  mask_iou_packed(prediction_packed, prediction_areas, gt_packed, gt_areas, iou);
  image.iou = iou.to_vector<float>();
  image.matching_iou = image.iou;
  // Crowd GT: pycocotools' iou(..., iscrowd=1) = |p & g| / |p| (0 for an empty p).
  const int64_t words = gt_packed.size(1);
  const auto* gt_words = reinterpret_cast<const uint64_t*>(gt_packed.data<int64_t>());
  const auto* prediction_words = reinterpret_cast<const uint64_t*>(prediction_packed.data<int64_t>());
  for (int64_t g = 0; g < G; ++g) {
    if (!image.gt_crowd[g]) continue;
    for (int64_t p = 0; p < P; ++p) {
      const int64_t intersection =
          kernels::mask_intersection(prediction_words + p * words, gt_words + g * words, words);
      const int64_t area = prediction_areas.data<int64_t>()[p];
      image.matching_iou[p * G + g] =
          intersection == 0 ? 0.0f
                            : static_cast<float>(static_cast<double>(intersection) /
                                                 static_cast<double>(area));
    }
  }
  return image;
}

std::vector<PreparedImage> prepare_images(const Dataset& dataset,
                                          const std::vector<Detection>& detections,
                                          const EvaluationOptions& options,
                                          int64_t& predictions_scored) {
  const Lookup lookup = build_lookup(dataset);
  const std::size_t image_count = dataset.images.size();
  std::vector<std::vector<int64_t>> annotations_of(image_count), detections_of(image_count);
  std::vector<int64_t> annotation_class(dataset.annotations.size());
  for (std::size_t a = 0; a < dataset.annotations.size(); ++a) {
    const Annotation& annotation = dataset.annotations[a];
    const auto [image, category] =
        locate(lookup, dataset, "annotation " + std::to_string(a) + " (id " +
                                    std::to_string(annotation.id) + ")",
               annotation.image_id, annotation.category_id, annotation.segmentation);
    annotations_of[image].push_back(static_cast<int64_t>(a));
    annotation_class[a] = category;
  }
  std::vector<int64_t> detection_class(detections.size());
  for (std::size_t d = 0; d < detections.size(); ++d) {
    const Detection& detection = detections[d];
    const auto [image, category] = locate(lookup, dataset, "detection " + std::to_string(d),
                                          detection.image_id, detection.category_id,
                                          detection.segmentation);
    detections_of[image].push_back(static_cast<int64_t>(d));
    detection_class[d] = category;
  }
  // Ascending image id, as COCOeval's sorted(imgIds): it decides the order of score ties.
  std::vector<int64_t> order(image_count);
  std::iota(order.begin(), order.end(), int64_t{0});
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return dataset.images[a].id < dataset.images[b].id;
  });
  std::vector<PreparedImage> images;
  images.reserve(image_count);
  predictions_scored = 0;
  for (int64_t i : order) {
    const std::vector<int64_t> scored =
        scored_predictions(detections_of[i], detections, detection_class, options);
    predictions_scored += static_cast<int64_t>(scored.size());
    images.push_back(prepare_image(dataset.images[i], annotations_of[i], scored, dataset,
                                   annotation_class, detections, detection_class, options));
  }
  return images;
}

// Which images and which GT sizes one evaluated set covers.
struct SubsetSpec {
  std::string name;
  std::vector<uint8_t> includes_image;  // per prepared image
  double min_area = 0;
  double max_area = kLargestArea;
};

bool outside(double area, const SubsetSpec& spec) {
  return area < spec.min_area || area > spec.max_area;
}

SubsetEvaluation evaluate_subset(const std::vector<PreparedImage>& images, const SubsetSpec& spec,
                                 int64_t classes, const EvaluationOptions& options) {
  const std::size_t T = options.iou_thresholds.size();
  SubsetEvaluation result;
  result.name = spec.name;
  result.class_ground_truth.assign(classes, 0);
  std::vector<std::vector<std::vector<ScoredOutcome>>> pooled(
      classes, std::vector<std::vector<ScoredOutcome>>(T));
  std::vector<double> abo_sum(classes, 0.0);
  for (std::size_t i = 0; i < images.size(); ++i) {
    if (!spec.includes_image[i]) continue;
    const PreparedImage& image = images[i];
    const int64_t G = static_cast<int64_t>(image.gt_class.size());
    const int64_t P = static_cast<int64_t>(image.prediction_class.size());
    ++result.images;
    result.predictions += P;
    std::vector<uint8_t> gt_ignored(G);
    for (int64_t g = 0; g < G; ++g) {
      gt_ignored[g] = image.gt_crowd[g] || outside(image.gt_area[g], spec);
      if (gt_ignored[g]) continue;
      // ABO: the best IoU with any prediction of the image, whatever its class.
      float best = 0;
      for (int64_t p = 0; p < P; ++p) best = std::max(best, image.iou[p * G + g]);
      abo_sum[image.gt_class[g]] += best;
      ++result.class_ground_truth[image.gt_class[g]];
    }
    for (int64_t c = 0; c < classes; ++c) {
      std::vector<int64_t> gt, predictions;
      for (int64_t g = 0; g < G; ++g) if (image.gt_class[g] == c) gt.push_back(g);
      for (int64_t p = 0; p < P; ++p) if (image.prediction_class[p] == c) predictions.push_back(p);
      if (predictions.empty()) continue;  // GT alone only adds positives (counted above)
      ClassImageMatching matching;
      matching.predictions = static_cast<int64_t>(predictions.size());
      matching.ground_truth = static_cast<int64_t>(gt.size());
      for (int64_t p : predictions) {
        for (int64_t g : gt) matching.iou.push_back(image.matching_iou[p * G + g]);
        matching.prediction_outside_range.push_back(outside(image.prediction_area[p], spec));
      }
      for (int64_t g : gt) {
        matching.gt_ignored.push_back(gt_ignored[g]);
        matching.gt_crowd.push_back(image.gt_crowd[g]);
      }
      for (std::size_t t = 0; t < T; ++t) {
        const std::vector<MatchOutcome> outcomes =
            options.protocol == Protocol::voc ? voc_match(matching, options.iou_thresholds[t])
                                              : coco_match(matching, options.iou_thresholds[t]);
        for (std::size_t k = 0; k < predictions.size(); ++k) {
          pooled[c][t].push_back({image.prediction_score[predictions[k]], outcomes[k]});
        }
      }
    }
  }
  result.class_ap.assign(classes, std::vector<double>(T, kNaN));
  result.class_abo.assign(classes, kNaN);
  result.mean_ap.assign(T, 0.0);
  double abo_total = 0;
  for (int64_t c = 0; c < classes; ++c) {
    const int64_t positives = result.class_ground_truth[c];
    result.ground_truth += positives;
    if (positives == 0) continue;
    ++result.classes_with_ground_truth;
    abo_total += abo_sum[c];
    result.class_abo[c] = abo_sum[c] / static_cast<double>(positives);
    for (std::size_t t = 0; t < T; ++t) {
      result.class_ap[c][t] = options.protocol == Protocol::voc
                                  ? voc_average_precision(pooled[c][t], positives)
                                  : coco_average_precision(pooled[c][t], positives);
      result.mean_ap[t] += result.class_ap[c][t];
    }
  }
  for (std::size_t t = 0; t < T; ++t) {
    result.mean_ap[t] = result.classes_with_ground_truth > 0
                            ? result.mean_ap[t] / static_cast<double>(result.classes_with_ground_truth)
                            : kNaN;
  }
  result.abo = result.ground_truth > 0 ? abo_total / static_cast<double>(result.ground_truth) : kNaN;
  return result;
}

void check_options(const EvaluationOptions& options) {
  if (options.iou_thresholds.empty()) {
    throw std::invalid_argument("evaluate: options.iou_thresholds is empty, expected e.g. "
                                "{0.25, 0.5, 0.75}");
  }
  for (double t : options.iou_thresholds) {
    if (!(t > 0 && t <= 1)) {
      throw std::invalid_argument("evaluate: options.iou_thresholds holds " + number_text(t) +
                                  ", expected values in (0, 1]");
    }
  }
  if (options.max_detections < 1) {
    throw std::invalid_argument("evaluate: options.max_detections is " +
                                std::to_string(options.max_detections) + ", expected >= 1");
  }
  if (!(options.small_area >= 0 && options.medium_area >= options.small_area)) {
    throw std::invalid_argument("evaluate: options.small_area / medium_area are " +
                                number_text(options.small_area) + " / " +
                                number_text(options.medium_area) +
                                ", expected 0 <= small <= medium");
  }
}

}  // namespace

const char* protocol_name(Protocol protocol) {
  return protocol == Protocol::voc ? "voc" : "wise";
}

Protocol parse_protocol(const std::string& name) {
  if (name == "voc") return Protocol::voc;
  if (name == "wise") return Protocol::wise;
  throw std::invalid_argument("unknown evaluation protocol '" + name +
                              "', expected 'voc' (chainercv) or 'wise' (WISE's COCOeval)");
}

EvaluationResult evaluate(const Dataset& ground_truth, const std::vector<Detection>& detections,
                          const EvaluationOptions& options) {
  check_options(options);
  EvaluationResult result;
  result.protocol = options.protocol;
  result.options = options;
  result.categories = ground_truth.categories;
  result.predictions_given = static_cast<int64_t>(detections.size());
  for (const Annotation& annotation : ground_truth.annotations) {
    result.crowd_ground_truth += annotation.iscrowd ? 1 : 0;
  }
  const std::vector<PreparedImage> images =
      prepare_images(ground_truth, detections, options, result.predictions_scored);
  const int64_t classes = static_cast<int64_t>(ground_truth.categories.size());
  const std::vector<uint8_t> every_image(images.size(), 1);

  result.all = evaluate_subset(images, {"all", every_image, 0, kLargestArea}, classes, options);
  if (!options.breakdowns) return result;
  const SubsetSpec sizes[] = {{"small", every_image, 0, options.small_area},
                              {"medium", every_image, options.small_area, options.medium_area},
                              {"large", every_image, options.medium_area, kLargestArea}};
  for (const SubsetSpec& spec : sizes) {
    result.by_size.push_back(evaluate_subset(images, spec, classes, options));
  }
  for (int64_t objects = 1; objects <= 5; ++objects) {
    SubsetSpec spec;
    spec.name = objects <= 4 ? std::to_string(objects) + (objects == 1 ? " object" : " objects")
                             : ">4 objects";
    for (const PreparedImage& image : images) {
      spec.includes_image.push_back(objects <= 4 ? image.objects == objects : image.objects > 4);
    }
    result.by_object_count.push_back(evaluate_subset(images, spec, classes, options));
  }
  return result;
}

}  // namespace wise::data
