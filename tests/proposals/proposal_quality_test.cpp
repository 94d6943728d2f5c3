// ABO and recall (proposal_quality.h) on hand-made masks whose IoUs are known, including
// the top-N cut (the proposals' order matters) and images with no proposals.
#include <gtest/gtest.h>

#include "proposals/proposal_quality.h"

namespace wise::testing {
namespace {

using namespace wise::proposals;

// A 1 x 10 mask with pixels [begin, end) set.
data::Rle span(uint32_t begin, uint32_t end) { return data::Rle{1, 10, {begin, end - begin, 10 - end}}; }

TEST(ProposalQuality, BestIouPerTopAndTheTable) {
  // Ground truth [0, 4) and [5, 10). Proposal 0 = [0, 4) exact; 1..100 = [0, 2) (IoU 0.5 with
  // the first); the one at index 101 = [5, 9) (IoU 0.8 with the second): outside the top 100.
  std::vector<Proposal> proposals{{span(0, 4), 1.0f, {}}};
  for (int i = 0; i < 100; ++i) proposals.push_back({span(0, 2), 0.5f, {}});
  proposals.push_back({span(5, 9), 0.1f, {}});
  const auto best = best_ious({span(0, 4), span(5, 10)}, proposals);
  ASSERT_EQ(best.size(), 2u);
  EXPECT_FLOAT_EQ(best[0][0], 1.0f);
  EXPECT_FLOAT_EQ(best[1][0], 0.0f);  // top 100 holds none of it
  EXPECT_FLOAT_EQ(best[1][1], 0.8f);  // top 500 and all do
  EXPECT_FLOAT_EQ(best[1][2], 0.8f);

  ProposalQuality quality;
  quality.add_image(best, static_cast<int64_t>(proposals.size()));
  quality.add_image(best_ious({span(2, 3)}, {}), 0);  // an image with no proposals: IoU 0
  quality.finish();
  EXPECT_EQ(quality.instances, 3);
  EXPECT_NEAR(quality.abo[0], (1.0 + 0.0 + 0.0) / 3, 1e-9);
  EXPECT_NEAR(quality.abo[2], (1.0 + 0.8 + 0.0) / 3, 1e-6);
  EXPECT_NEAR(quality.recall_70[0], 1.0 / 3, 1e-9);
  EXPECT_NEAR(quality.recall_70[2], 2.0 / 3, 1e-9);
  EXPECT_NEAR(quality.recall_50[1], 2.0 / 3, 1e-9);
  const std::string table = format_quality_table(quality, "title");
  EXPECT_NE(table.find("| top 100 | 0.333 | 0.333 | 0.333 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| all | 0.600 | 0.667 | 0.667 |"), std::string::npos) << table;
  EXPECT_NE(table.find("51.0 proposals per image"), std::string::npos) << table;
}

}  // namespace
}  // namespace wise::testing
