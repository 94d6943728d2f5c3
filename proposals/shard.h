// `--shard i/n`: image-level work split over n independent processes (or machines), each
// taking the images at positions p with p % n == i of the dataset's image list. Round-robin
// rather than contiguous blocks so every shard gets a similar mix of images (and time);
// the shards of 0/n .. n-1/n partition the list exactly: each image in exactly one.
#pragma once

#include <cstdint>
#include <string>

#include "data/dataset.h"

namespace wise::proposals {

struct Shard {
  int64_t index = 0;  // i, 0-based
  int64_t count = 1;  // n
  bool contains(int64_t position) const { return position % count == index; }
};

// "i/n" with 0 <= i < n; throws std::invalid_argument naming the text and the rule.
Shard parse_shard(const std::string& text);

// The shard's images of `dataset` (positions p % n == i of its image list, in order) with
// their annotations; the categories unchanged. What segment --shard and train_prm
// --pseudo-shard run on; data/shards.h merges their outputs.
data::Dataset images_of_shard(const data::Dataset& dataset, const Shard& shard);

}  // namespace wise::proposals
