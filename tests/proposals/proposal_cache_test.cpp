// The per-image cache (proposal_cache.h) through proposals_for_image: a second run reads
// exactly the proposals the first computed; a changed option or pixel is another key, a
// miss; a foreign file under a key's name is recomputed. And shards partition the images.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <set>

#include "data/atomic_file.h"
#include "data/image_io.h"
#include "proposals/proposal_cache.h"
#include "proposals/proposal_run.h"
#include "tests/proposals/synthetic_image.h"

namespace wise::testing {
namespace {

using namespace wise::proposals;
namespace fs = std::filesystem;

class ProposalCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wise_proposal_cache_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "images");
    scene_ = synthetic_scene(48, 48);
    data::save_png(scene_.image, (dir_ / "images" / "a.png").string());
    info_ = data::ImageInfo{7, "a.png", 48, 48, std::nullopt};
    options_.images = (dir_ / "images").string();
    options_.cache = (dir_ / "cache").string();
    fs::create_directories(options_.cache);
  }
  void TearDown() override { fs::remove_all(dir_); }

  size_t cache_files() const {
    size_t count = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(options_.cache)) ++count;
    return count;
  }

  fs::path dir_;
  SyntheticScene scene_;
  data::ImageInfo info_;
  ProposalRunOptions options_;
};

void expect_same(const std::vector<Proposal>& a, const std::vector<Proposal>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].mask.counts, b[i].mask.counts) << i;
    EXPECT_EQ(a[i].objectness, b[i].objectness) << i;
    EXPECT_EQ(a[i].box, b[i].box) << i;
  }
}

TEST_F(ProposalCacheTest, HitReturnsIdenticalProposals) {
  const ImageProposals first = proposals_for_image(info_, options_);
  EXPECT_TRUE(first.computed);
  EXPECT_EQ(cache_files(), 1u);
  const ImageProposals second = proposals_for_image(info_, options_);
  EXPECT_FALSE(second.computed) << "expected a cache hit";
  expect_same(first.proposals, second.proposals);
}

TEST_F(ProposalCacheTest, ChangedParameterMisses) {
  proposals_for_image(info_, options_);
  options_.selective_search.min_size = 21;
  EXPECT_TRUE(proposals_for_image(info_, options_).computed) << "a changed min_size must not hit";
  options_.selective_search.objectness = ObjectnessMethod::contrast;
  EXPECT_TRUE(proposals_for_image(info_, options_).computed) << "a changed objectness must not hit";
  EXPECT_EQ(cache_files(), 3u);
  options_.selective_search.min_size = 20;
  options_.selective_search.objectness = ObjectnessMethod::combined;
  EXPECT_FALSE(proposals_for_image(info_, options_).computed) << "the first configuration is still cached";
}

TEST_F(ProposalCacheTest, KeyCoversPixelsAndOptions) {
  const std::string method = describe_options(SelectiveSearchOptions{});
  const std::string key = proposal_cache_key(method, scene_.image);
  EXPECT_EQ(key.size(), 32u);
  EXPECT_EQ(key, proposal_cache_key(method, scene_.image));
  data::Image changed = scene_.image;
  changed.pixels[1000] ^= 1;
  EXPECT_NE(key, proposal_cache_key(method, changed));
  SelectiveSearchOptions other;
  other.ks = {50.0f, 100.5f};
  EXPECT_NE(method, describe_options(other));
  EXPECT_NE(key, proposal_cache_key(describe_options(other), scene_.image));
  EXPECT_EQ(std::string(proposals_source_hash()).size(), 64u);
}

TEST_F(ProposalCacheTest, ForeignFileUnderTheKeyIsRecomputed) {
  const ImageProposals first = proposals_for_image(info_, options_);
  const auto entry = *fs::directory_iterator(options_.cache);
  data::write_file_atomically(entry.path().string(), "not proposals");
  const ImageProposals again = proposals_for_image(info_, options_);
  EXPECT_TRUE(again.computed);
  expect_same(first.proposals, again.proposals);
  EXPECT_FALSE(proposals_for_image(info_, options_).computed) << "the rewritten file must hit";
}

TEST(Shard, ParsesAndRejects) {
  const Shard shard = parse_shard("2/5");
  EXPECT_EQ(shard.index, 2);
  EXPECT_EQ(shard.count, 5);
  for (const char* bad : {"5/5", "1", "a/2", "-1/2", "1/0", "/3", "1/"}) {
    EXPECT_THROW(parse_shard(bad), std::invalid_argument) << bad;
  }
}

TEST(Shard, ShardsPartitionTheImages) {
  data::Dataset dataset;
  for (int64_t i = 0; i < 23; ++i) dataset.images.push_back({i + 1, std::to_string(i) + ".png", 4, 4, std::nullopt});
  for (int64_t n : {1, 2, 3, 7, 30}) {
    std::multiset<size_t> seen;
    for (int64_t i = 0; i < n; ++i) {
      for (size_t image : selected_images(dataset, Shard{i, n}, 0)) seen.insert(image);
    }
    EXPECT_EQ(seen.size(), dataset.images.size()) << n << " shards";
    for (size_t image = 0; image < dataset.images.size(); ++image) EXPECT_EQ(seen.count(image), 1u) << image;
  }
  // --limit keeps the shard's first images.
  EXPECT_EQ(selected_images(dataset, Shard{1, 3}, 2), (std::vector<size_t>{1, 4}));
}

}  // namespace
}  // namespace wise::testing
