// data/shards.h: shards' results merged in the reference's image order, and every way the
// shards can fail to cover the reference exactly once named.
#include "data/shards.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace wise::data {
namespace {

ImageInfo image(int64_t id) { return {id, std::to_string(id) + ".png", 4, 4, std::nullopt}; }
Detection detection(int64_t image_id, float score) {
  Detection d;
  d.image_id = image_id;
  d.category_id = 1;
  d.score = score;
  d.segmentation = rle_empty(4, 4);
  return d;
}
std::string error_of(const Dataset& reference, const std::vector<ResultShard>& shards) {
  try {
    merge_result_shards(reference, shards);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "";
}

TEST(Shards, MergeInTheReferencesOrderKeepingEachImagesOrder) {
  Dataset reference;
  reference.images = {image(5), image(2), image(9)};
  const ResultShard a{"a", {image(9), image(5)}, {detection(9, 0.1f), detection(5, 0.7f), detection(5, 0.9f)}};
  const ResultShard b{"b", {image(2)}, {}};  // an image without results still counts as covered
  const std::vector<Detection> merged = merge_result_shards(reference, {b, a});
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged[0].image_id, 5);
  EXPECT_EQ(merged[0].score, 0.7f);
  EXPECT_EQ(merged[1].score, 0.9f);
  EXPECT_EQ(merged[2].image_id, 9);
}

TEST(Shards, CoverageErrorsNameTheImageAndTheShards) {
  Dataset reference;
  reference.images = {image(1), image(2)};
  EXPECT_NE(error_of(reference, {{"a", {image(1)}, {}}}).find("image 2 (2.png) is in no shard"), std::string::npos);
  EXPECT_NE(error_of(reference, {{"a", {image(1), image(2)}, {}}, {"b", {image(2)}, {}}})
                .find("image 2 (2.png) is in two shards: a and b"),
            std::string::npos);
  EXPECT_NE(error_of(reference, {{"a", {image(1), image(2), image(3)}, {}}})
                .find("shard a covered image 3 (3.png), which the reference does not list"),
            std::string::npos);
  EXPECT_NE(error_of(reference, {{"a", {image(1)}, {detection(2, 0.5f)}}, {"b", {image(2)}, {}}})
                .find("shard a has a result on image 2, which it did not cover"),
            std::string::npos);
}

}  // namespace
}  // namespace wise::data
