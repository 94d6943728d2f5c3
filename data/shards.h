// Per-image stages split over processes or machines (`--shard i/n`, proposals/shard.h: the
// images at positions p of the list with p % n == i) and put back together: the merge
// step checks that the shards covered every image of the reference exactly once, and
// nothing else, before it joins their results.
//
//   reference   the COCO file the shards took their images from (after any --limit)
//   shard k     its images (the images.json segment writes) and its COCO results
//   merged      every shard's results, image by image in the reference's order (within an
//               image in the shard's order): what one unsharded run writes
// Errors name the image (id and file) and the shards involved.
#pragma once

#include <string>
#include <vector>

#include "data/dataset.h"

namespace wise::data {

struct ResultShard {
  std::string name;                  // for errors: the shard's folder
  std::vector<ImageInfo> images;     // the images it covered
  std::vector<Detection> detections;
};

std::vector<Detection> merge_result_shards(const Dataset& reference, const std::vector<ResultShard>& shards);

// Instance files (train_prm --pseudo-shard's pseudo masks: COCO datasets of the images a
// shard covered and its annotations) as the one file an unsharded run writes: the
// reference's images, the first shard's categories, the annotations image by image in
// the reference's order (within an image in the shard's), ids renumbered 1, 2, ...
struct InstanceShard {
  std::string name;
  Dataset dataset;
};
Dataset merge_instance_shards(const Dataset& reference, const std::vector<InstanceShard>& shards);

}  // namespace wise::data
