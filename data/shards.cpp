#include "data/shards.h"

#include <map>
#include <stdexcept>

namespace wise::data {

namespace {

// Which shard covered each image of the reference; throws unless each is covered by
// exactly one and no shard covered another.
template <class Shard, class ImagesOf>
std::map<int64_t, size_t> check_coverage(const Dataset& reference, const std::vector<Shard>& shards,
                                         const ImagesOf& images_of) {
  std::map<int64_t, size_t> covered_by;  // image id -> shard
  std::map<int64_t, const ImageInfo*> wanted;
  for (const ImageInfo& image : reference.images) wanted[image.id] = &image;
  for (size_t s = 0; s < shards.size(); ++s) {
    for (const ImageInfo& image : images_of(shards[s])) {
      if (wanted.count(image.id) == 0) {
        throw std::invalid_argument("merge: shard " + shards[s].name + " covered image " + std::to_string(image.id) +
                                    " (" + image.file_name + "), which the reference does not list");
      }
      const auto [entry, inserted] = covered_by.emplace(image.id, s);
      if (!inserted) {
        throw std::invalid_argument("merge: image " + std::to_string(image.id) + " (" + image.file_name +
                                    ") is in two shards: " + shards[entry->second].name + " and " + shards[s].name);
      }
    }
  }
  for (const ImageInfo& image : reference.images) {
    if (covered_by.count(image.id) == 0) {
      throw std::invalid_argument("merge: image " + std::to_string(image.id) + " (" + image.file_name +
                                  ") is in no shard: a shard is missing or was cut short");
    }
  }
  return covered_by;
}

}  // namespace

std::vector<Detection> merge_result_shards(const Dataset& reference, const std::vector<ResultShard>& shards) {
  const std::map<int64_t, size_t> covered_by =
      check_coverage(reference, shards, [](const ResultShard& shard) -> const std::vector<ImageInfo>& { return shard.images; });
  std::map<int64_t, std::vector<const Detection*>> by_image;
  for (size_t s = 0; s < shards.size(); ++s) {
    for (const Detection& detection : shards[s].detections) {
      const auto owner = covered_by.find(detection.image_id);
      if (owner == covered_by.end() || owner->second != s) {
        throw std::invalid_argument("merge: shard " + shards[s].name + " has a result on image " +
                                    std::to_string(detection.image_id) + ", which it did not cover");
      }
      by_image[detection.image_id].push_back(&detection);
    }
  }
  std::vector<Detection> merged;
  for (const ImageInfo& image : reference.images) {
    for (const Detection* detection : by_image[image.id]) merged.push_back(*detection);
  }
  return merged;
}

Dataset merge_instance_shards(const Dataset& reference, const std::vector<InstanceShard>& shards) {
  const std::map<int64_t, size_t> covered_by = check_coverage(
      reference, shards, [](const InstanceShard& shard) -> const std::vector<ImageInfo>& { return shard.dataset.images; });
  std::map<int64_t, std::vector<const Annotation*>> by_image;
  for (size_t s = 0; s < shards.size(); ++s) {
    for (const Annotation& annotation : shards[s].dataset.annotations) {
      const auto owner = covered_by.find(annotation.image_id);
      if (owner == covered_by.end() || owner->second != s) {
        throw std::invalid_argument("merge: shard " + shards[s].name + " has an annotation on image " +
                                    std::to_string(annotation.image_id) + ", which it did not cover");
      }
      by_image[annotation.image_id].push_back(&annotation);
    }
  }
  Dataset merged;
  merged.images = reference.images;
  if (!shards.empty()) merged.categories = shards.front().dataset.categories;
  for (const ImageInfo& image : reference.images) {
    for (const Annotation* annotation : by_image[image.id]) {
      merged.annotations.push_back(*annotation);
      merged.annotations.back().id = static_cast<int64_t>(merged.annotations.size());
    }
  }
  return merged;
}

}  // namespace wise::data
