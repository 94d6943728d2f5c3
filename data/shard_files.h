// The files per-image stages write in shards (segment --shard's folders, train_prm
// --pseudo-shard's instance files) joined into the files one unsharded run writes, after
// data/shards.h's check that every image of the reference was covered exactly once. What
// apps/merge_shards runs, and what rank 0 of an mpirun job runs after its ranks' shards
// (train/rank_shards.h).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace wise::data {

// segment --out folders, each with images.json and detections.json (and
// detections-refined.json: in every folder or in none, an error otherwise), joined into
// `out_dir`'s three files. images.json lists the reference's images with the categories
// the first folder wrote (the model's). Pictures are not touched.
struct MergedSegmentFolders {
  size_t images = 0, detections = 0;
  bool refined = false;
};
MergedSegmentFolders merge_segment_folders(const Dataset& reference, const std::vector<std::string>& folders,
                                           const std::string& out_dir);

// COCO instance files (pseudo masks), each maybe with its scored copy beside it
// (instance_results_path: in every shard or in none), joined into `out_path` and its
// results file.
struct MergedInstanceFiles {
  size_t images = 0, annotations = 0;
  bool results = false;
};
MergedInstanceFiles merge_instance_files(const Dataset& reference, const std::vector<std::string>& files,
                                         const std::string& out_path);

// "X.json" -> "X-results.json": where train_prm writes the scored copy of an instance file.
std::string instance_results_path(const std::string& instances);

}  // namespace wise::data
