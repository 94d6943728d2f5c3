#include "data/shards.h"

#include <map>
#include <stdexcept>

namespace wise::data {

std::vector<Detection> merge_result_shards(const Dataset& reference, const std::vector<ResultShard>& shards) {
  std::map<int64_t, size_t> covered_by;  // image id -> shard
  std::map<int64_t, const ImageInfo*> wanted;
  for (const ImageInfo& image : reference.images) wanted[image.id] = &image;
  for (size_t s = 0; s < shards.size(); ++s) {
    for (const ImageInfo& image : shards[s].images) {
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

}  // namespace wise::data
