// train/rank_shards.h, the per-image stages under mpirun: the ranks' shards partition the
// images of the user's --shard (each image in exactly one rank's), a failure on any rank
// reaches every rank after the one collective (none waits for another), and the ranks'
// file names.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "train/rank_shards.h"

namespace wise::testing {
namespace {

// Rank `rank` of a job whose other ranks report `others_failed` failures in the one
// all-reduce of run_rank_shard; counts the reductions.
class OtherRanks final : public distributed::Communicator {
 public:
  OtherRanks(int world, int rank, double others_failed) : world_(world), rank_(rank), others_failed_(others_failed) {}
  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  std::string engine() const override { return "other ranks"; }
  void all_reduce_sum(float*, int64_t, kernels::Device) override { throw std::logic_error("not used"); }
  void all_reduce_sum(double* values, int64_t count) override {
    ASSERT_EQ(count, 1);
    values[0] += others_failed_;
    ++reductions;
  }
  void broadcast(float*, int64_t, kernels::Device, int) override { throw std::logic_error("not used"); }
  void barrier() override {}
  int reductions = 0;

 private:
  int world_, rank_;
  double others_failed_;
};

TEST(RankShards, PartitionTheImagesOfTheRequestedShard) {
  for (const int64_t count : {1, 3}) {
    for (int64_t index = 0; index < count; ++index) {
      for (const int world : {1, 2, 4}) {
        for (int64_t position = 0; position < 60; ++position) {
          int owners = 0;
          for (int rank = 0; rank < world; ++rank)
            owners += rank_shard({index, count}, rank, world).contains(position) ? 1 : 0;
          EXPECT_EQ(owners, position % count == index ? 1 : 0)
              << "position " << position << " of shard " << index << "/" << count << " over " << world << " ranks";
        }
      }
    }
  }
  OtherRanks job(2, 1, 0);
  const proposals::Shard mine = rank_shard({1, 3}, &job);
  EXPECT_EQ(mine.index, 4);
  EXPECT_EQ(mine.count, 6);
  const proposals::Shard alone = rank_shard({1, 3}, nullptr);
  EXPECT_EQ(alone.index, 1);
  EXPECT_EQ(alone.count, 3);
}

TEST(RankShards, AFailureOnAnyRankReachesEveryRankAfterOneCollective) {
  OtherRanks fine(2, 0, 0);
  int ran = 0;
  EXPECT_NO_THROW(run_rank_shard(&fine, "segment", [&] { ++ran; }));
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(fine.reductions, 1);

  OtherRanks other_failed(3, 0, 2);
  try {
    run_rank_shard(&other_failed, "segment", [] {});
    FAIL() << "two other ranks failed, and this one went on";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "2 of 3 ranks failed in segment; their errors are on their stderr");
  }
  EXPECT_EQ(other_failed.reductions, 1);

  // This rank's own error comes back as it was, after the collective the others wait in.
  OtherRanks this_failed(2, 1, 0);
  try {
    run_rank_shard(&this_failed, "segment", [] { throw std::invalid_argument("image 7: cannot open"); });
    FAIL() << "the shard's error was lost";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "image 7: cannot open");
  }
  EXPECT_EQ(this_failed.reductions, 1);

  // No job: the work alone, its error as it was.
  EXPECT_THROW(run_rank_shard(nullptr, "segment", [] { throw std::invalid_argument("x"); }), std::invalid_argument);
}

TEST(RankShards, EachRankWritesBesideTheFinalFile) {
  EXPECT_EQ(rank_shard_path("runs/prm/pseudo_masks-best.json", 1, 2), "runs/prm/pseudo_masks-best.rank-1-of-2.json");
  EXPECT_EQ(rank_shard_path("seg/segment", 0, 4), "seg/segment.rank-0-of-4");
}

}  // namespace
}  // namespace wise::testing
