// Selective search on a synthetic image with known objects: every object is some
// proposal's mask at IoU >= 0.8 (issue 21's test); the list is deduplicated, sorted by an
// objectness in (0, 1], and the same on every run. Also the pieces: FH on a two-colour
// image, packed masks against data/rle.h, similarity-set names, option errors.
#include <gtest/gtest.h>

#include <set>

#include "proposals/graph_segmentation.h"
#include "proposals/packed_mask.h"
#include "proposals/proposal_quality.h"
#include "proposals/selective_search.h"
#include "tests/proposals/synthetic_image.h"

namespace wise::testing {
namespace {

using namespace wise::proposals;

TEST(SelectiveSearch, RecoversEveryObjectOfASyntheticImage) {
  const SyntheticScene scene = synthetic_scene();
  const std::vector<Proposal> proposals = selective_search(scene.image, SelectiveSearchOptions{});
  ASSERT_FALSE(proposals.empty());
  const auto best = best_ious(scene.objects, proposals);
  for (size_t i = 0; i < best.size(); ++i) {
    EXPECT_GE(best[i][2], 0.8f) << "object " << i << " (disc, rectangle, triangle, ring) not recovered";
  }
}

TEST(SelectiveSearch, ObjectnessInUnitIntervalSortedAndMasksDistinct) {
  const SyntheticScene scene = synthetic_scene();
  for (ObjectnessMethod method :
       {ObjectnessMethod::combined, ObjectnessMethod::contrast, ObjectnessMethod::uijlings_rank}) {
    SelectiveSearchOptions options;
    options.objectness = method;
    const std::vector<Proposal> proposals = selective_search(scene.image, options);
    std::set<std::vector<uint32_t>> masks;
    for (size_t i = 0; i < proposals.size(); ++i) {
      const Proposal& proposal = proposals[i];
      EXPECT_GT(proposal.objectness, 0.0f) << objectness_method_name(method) << " proposal " << i;
      EXPECT_LE(proposal.objectness, 1.0f) << objectness_method_name(method) << " proposal " << i;
      if (i > 0) {
        EXPECT_GE(proposals[i - 1].objectness, proposal.objectness) << "not sorted at " << i;
      }
      EXPECT_TRUE(masks.insert(proposal.mask.counts).second) << "duplicate mask at " << i;
      EXPECT_EQ(proposal.box, data::rle_to_bbox(proposal.mask)) << "box of proposal " << i;
      EXPECT_GT(data::rle_area(proposal.mask), 0u);
    }
  }
}

TEST(SelectiveSearch, CombinedObjectnessRanksObjectsHigh) {
  // The four objects' best matches should sit among the first proposals: on this image
  // they are the most contrasted, compact and stable regions there are.
  const SyntheticScene scene = synthetic_scene();
  const std::vector<Proposal> proposals = selective_search(scene.image, SelectiveSearchOptions{});
  const auto best = best_ious(scene.objects, proposals);  // [t = 0]: the top 100
  for (size_t i = 0; i < best.size(); ++i) EXPECT_GE(best[i][0], 0.8f) << "object " << i << " not in the top 100";
}

TEST(SelectiveSearch, Deterministic) {
  const SyntheticScene scene = synthetic_scene();
  const auto a = selective_search(scene.image, SelectiveSearchOptions{});
  const auto b = selective_search(scene.image, SelectiveSearchOptions{});
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].mask.counts, b[i].mask.counts) << i;
    EXPECT_EQ(a[i].objectness, b[i].objectness) << i;
  }
}

TEST(SelectiveSearch, OptionErrorsNameTheField) {
  const SyntheticScene scene = synthetic_scene(16, 16);
  SelectiveSearchOptions options;
  options.ks.clear();
  EXPECT_THROW(
      {
        try {
          selective_search(scene.image, options);
        } catch (const std::invalid_argument& error) {
          EXPECT_NE(std::string(error.what()).find("ks is empty"), std::string::npos) << error.what();
          throw;
        }
      },
      std::invalid_argument);
  EXPECT_THROW(parse_similarity_set("C+X"), std::invalid_argument);
  EXPECT_THROW(parse_colour_space("yuv"), std::invalid_argument);
  EXPECT_EQ(parse_similarity_set("T+S+F"), unsigned{kTexture | kSize | kFill});
  EXPECT_EQ(similarity_set_name(kColour | kTexture | kSize | kFill), "C+T+S+F");
}

TEST(GraphSegmentation, TwoFlatHalvesGiveTwoRegions) {
  // Left half black, right half white: one edge weight of 255 * sqrt(3) between them,
  // zeros elsewhere; FH keeps the halves apart at any k below that jump times the size.
  const int64_t H = 8, W = 10;
  std::vector<float> image(static_cast<size_t>(H * W * 3), 0.0f);
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = W / 2; x < W; ++x)
      for (int c = 0; c < 3; ++c) image[static_cast<size_t>((y * W + x) * 3 + c)] = 1.0f;
  const GridGraph graph = build_grid_graph(image.data(), H, W, 3, /*sigma=*/0.0f);
  const Segmentation segmentation = segment_graph(graph, /*k=*/100.0f, /*min_size=*/1);
  ASSERT_EQ(segmentation.count, 2);
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) EXPECT_EQ(segmentation.labels[static_cast<size_t>(y * W + x)], x < W / 2 ? 0 : 1);
  // min_size larger than a half merges the two.
  EXPECT_EQ(segment_graph(graph, 100.0f, H * W / 2 + 1).count, 1);
}

TEST(PackedMask, RoundTripsThroughRle) {
  const SyntheticScene scene = synthetic_scene(37, 29);  // H W not a multiple of 64
  for (const data::Rle& rle : scene.objects) {
    const PackedMask packed = packed_from_rle(rle);
    EXPECT_EQ(packed_area(packed), static_cast<int64_t>(data::rle_area(rle)));
    EXPECT_EQ(packed_to_rle(packed).counts, rle.counts);
  }
  // A mask whose first pixel is set starts with a 0-length run; a full mask is [0, H W].
  std::vector<uint8_t> full(37 * 29, 1);
  const data::Rle full_rle = data::rle_encode(full, 37, 29);
  EXPECT_EQ(packed_to_rle(packed_from_rle(full_rle)).counts, full_rle.counts);
  EXPECT_EQ(packed_to_rle(packed_empty(37, 29)).counts, data::rle_empty(37, 29).counts);
}

}  // namespace
}  // namespace wise::testing
