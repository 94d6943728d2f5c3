#include "train/split_images.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <utility>

#include "kernels/check.h"

namespace wise {
namespace {

data::LoaderOptions in_order(int64_t batch_size) {
  WISE_CHECK(batch_size >= 1, "batch_size must be >= 1, got ", batch_size);
  data::LoaderOptions options;
  options.batch_size = batch_size;
  options.shuffle = false;
  options.augment = weak_validation_augmentation(0);  // native size, no augmentation
  return options;
}

}  // namespace

SplitImages::SplitImages(const DatasetSplit& split, int64_t limit, int64_t batch_size,
                         const proposals::ProposalRunOptions& proposals, const proposals::Shard& shard)
    : dataset_(proposals::images_of_shard(data::first_images(split.dataset, limit), shard)),
      image_folder_(split.image_folder),
      proposals_(proposals),
      loader_(data::weak_source_from_dataset(dataset_, split.image_folder), in_order(batch_size)) {
  proposals_.images = split.image_folder;
  if (!proposals_.cache.empty()) std::filesystem::create_directories(proposals_.cache);
  for (const data::ImageInfo& image : dataset_.images) by_id_[image.id] = &image;
  for (const data::Category& category : dataset_.categories) category_ids_.push_back(category.id);
  loader_.start_epoch(0);
}

std::optional<SplitBatch> SplitImages::next() {
  std::optional<data::WeakBatch> batch = loader_.next();
  if (!batch) return std::nullopt;
  SplitBatch out;
  for (int64_t id : batch->image_ids) out.images.push_back(by_id_.at(id));
  out.proposals = proposals::proposals_for_images(out.images, proposals_);
  out.batch = std::move(*batch);
  return out;
}

std::string SplitImages::category_name(int64_t category_id) const {
  for (const data::Category& category : dataset_.categories)
    if (category.id == category_id) return category.name;
  return "class " + std::to_string(category_id);
}

std::vector<float> crop_plane(const float* plane, int64_t columns, int64_t height, int64_t width) {
  std::vector<float> cropped(static_cast<size_t>(height * width));
  for (int64_t y = 0; y < height; ++y) std::copy(plane + y * columns, plane + y * columns + width, cropped.begin() + y * width);
  return cropped;
}

BothProtocols evaluate_both_protocols(const data::Dataset& ground_truth, const std::vector<data::Detection>& detections) {
  data::EvaluationOptions options;
  options.breakdowns = false;
  BothProtocols both;
  options.protocol = data::Protocol::voc;
  both.voc = data::evaluate(ground_truth, detections, options);
  options.protocol = data::Protocol::wise;
  both.wise = data::evaluate(ground_truth, detections, options);
  return both;
}

std::string format_mean_ap(const data::EvaluationResult& result) {
  const std::vector<double>& ap = result.all.mean_ap;
  char text[64];
  std::snprintf(text, sizeof(text), "%.3f / %.3f / %.3f", ap.size() > 0 ? ap[0] : NAN, ap.size() > 1 ? ap[1] : NAN,
                ap.size() > 2 ? ap[2] : NAN);
  return text;
}

}  // namespace wise
