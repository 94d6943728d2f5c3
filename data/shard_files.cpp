#include "data/shard_files.h"

#include <filesystem>
#include <stdexcept>

#include "data/coco.h"
#include "data/shards.h"

namespace wise::data {

namespace {

namespace fs = std::filesystem;

// One results file (`file` in each folder) of every shard, merged.
std::vector<Detection> merged_results(const Dataset& reference, const std::vector<std::string>& folders,
                                      const std::string& file) {
  std::vector<ResultShard> shards;
  for (const std::string& folder : folders) {
    ResultShard shard;
    shard.name = folder;
    const Dataset covered = read_coco_dataset((fs::path(folder) / "images.json").string());
    shard.images = covered.images;
    shard.detections = read_coco_results((fs::path(folder) / file).string(), covered);
    shards.push_back(std::move(shard));
  }
  return merge_result_shards(reference, shards);
}

std::string some_of(size_t found, size_t total) {
  return std::to_string(found) + " of the " + std::to_string(total) + " shards";
}

}  // namespace

std::string instance_results_path(const std::string& instances) {
  const bool json = instances.size() > 5 && instances.compare(instances.size() - 5, 5, ".json") == 0;
  return (json ? instances.substr(0, instances.size() - 5) : instances) + "-results.json";
}

MergedSegmentFolders merge_segment_folders(const Dataset& reference, const std::vector<std::string>& folders,
                                           const std::string& out_dir) {
  if (folders.empty()) throw std::invalid_argument("merge: no shard folders");
  size_t refined = 0;
  for (const std::string& folder : folders) refined += fs::exists(fs::path(folder) / "detections-refined.json");
  if (refined != 0 && refined != folders.size())
    throw std::invalid_argument("merge: detections-refined.json is in " + some_of(refined, folders.size()) +
                                ": refine all of them or none");
  fs::create_directories(out_dir);
  MergedSegmentFolders merged;
  const std::vector<Detection> detections = merged_results(reference, folders, "detections.json");
  write_coco_results(detections, (fs::path(out_dir) / "detections.json").string());
  merged.detections = detections.size();
  if (refined != 0) {
    write_coco_results(merged_results(reference, folders, "detections-refined.json"),
                       (fs::path(out_dir) / "detections-refined.json").string());
    merged.refined = true;
  }
  // The listing an unsharded run writes: the images, and the categories the shards wrote.
  Dataset images;
  images.images = reference.images;
  images.categories = read_coco_dataset((fs::path(folders[0]) / "images.json").string()).categories;
  write_coco_dataset(images, (fs::path(out_dir) / "images.json").string());
  merged.images = images.images.size();
  return merged;
}

MergedInstanceFiles merge_instance_files(const Dataset& reference, const std::vector<std::string>& files,
                                         const std::string& out_path) {
  if (files.empty()) throw std::invalid_argument("merge: no instance files");
  std::vector<InstanceShard> shards;
  std::vector<ResultShard> results;
  for (const std::string& file : files) {
    InstanceShard shard{file, read_coco_dataset(file)};
    if (fs::exists(instance_results_path(file))) {
      results.push_back({file, shard.dataset.images, read_coco_results(instance_results_path(file), shard.dataset)});
    }
    shards.push_back(std::move(shard));
  }
  if (!results.empty() && results.size() != shards.size())
    throw std::invalid_argument("merge: a -results.json file is beside " + some_of(results.size(), shards.size()) +
                                ": all of them or none");
  const Dataset merged = merge_instance_shards(reference, shards);
  write_coco_dataset(merged, out_path);
  if (!results.empty()) write_coco_results(merge_result_shards(reference, results), instance_results_path(out_path));
  return {merged.images.size(), merged.annotations.size(), !results.empty()};
}

}  // namespace wise::data
