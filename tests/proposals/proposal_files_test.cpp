// Proposal files (precomputed_proposals.h): a written list reads back equal; a file's
// duplicates are kept once and its entries sorted; every bad input is a ProposalFileError
// naming the file, the JSON path and what was expected. And proposal lists' dedup/sort.
#include <gtest/gtest.h>

#include <filesystem>

#include "data/atomic_file.h"
#include "proposals/precomputed_proposals.h"
#include "tests/proposals/synthetic_image.h"

namespace wise::testing {
namespace {

using namespace wise::proposals;
namespace fs = std::filesystem;

Proposal proposal_of(const data::Rle& mask, float objectness) {
  return Proposal{mask, objectness, data::rle_to_bbox(mask)};
}

TEST(ProposalList, DeduplicatesKeepingTheBestScoreAndSortsStably) {
  const SyntheticScene scene = synthetic_scene();
  const auto& m = scene.objects;
  const auto list = deduplicate_and_sort(
      {proposal_of(m[0], 0.2f), proposal_of(m[1], 0.5f), proposal_of(m[0], 0.7f), proposal_of(m[2], 0.5f)});
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].mask.counts, m[0].counts);
  EXPECT_FLOAT_EQ(list[0].objectness, 0.7f);
  EXPECT_EQ(list[1].mask.counts, m[1].counts);  // 0.5 tie: first seen first
  EXPECT_EQ(list[2].mask.counts, m[2].counts);
}

TEST(ProposalFiles, WrittenListReadsBackEqual) {
  const SyntheticScene scene = synthetic_scene();
  std::vector<Proposal> proposals;
  for (size_t i = 0; i < scene.objects.size(); ++i) proposals.push_back(proposal_of(scene.objects[i], 0.9f - 0.1f * i));
  const fs::path dir = fs::temp_directory_path() / ("wise_proposal_files_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = proposal_file_path(dir.string(), 17);
  EXPECT_EQ(path, (dir / "17.json").string());
  write_proposal_file(path, proposals);
  const auto read = read_proposal_file(path, 96, 96);
  ASSERT_EQ(read.size(), proposals.size());
  for (size_t i = 0; i < read.size(); ++i) {
    EXPECT_EQ(read[i].mask.counts, proposals[i].mask.counts);
    EXPECT_EQ(read[i].objectness, proposals[i].objectness);  // floats round-trip exactly
    EXPECT_EQ(read[i].box, proposals[i].box);
  }
  fs::remove_all(dir);
}

TEST(ProposalFiles, UncompressedRunsAndUnsortedEntriesAreAccepted) {
  // 2 x 2 image: runs [1, 2, 1] = pixels 1 and 2 (column-major) set.
  const auto read = read_proposals_from_string(
      R"([{"segmentation": {"size": [2, 2], "counts": [1, 2, 1]}, "score": 0.25, "bbox": [0, 0, 1, 1]},
          {"segmentation": {"size": [2, 2], "counts": [0, 4]}, "score": 1}])",
      "mem.json", 2, 2);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_FLOAT_EQ(read[0].objectness, 1.0f);
  EXPECT_EQ(read[1].mask.counts, (std::vector<uint32_t>{1, 2, 1}));
  EXPECT_EQ(read[1].box, (std::array<double, 4>{0, 0, 2, 2}));  // recomputed, not the file's
}

// The error text of reading `json` as proposals of a 2 x 2 image.
std::string error_of(const std::string& json) {
  try {
    read_proposals_from_string(json, "p.json", 2, 2);
  } catch (const ProposalFileError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(ProposalFiles, BadInputsAreNamedErrors) {
  const std::string good_segmentation = R"({"size": [2, 2], "counts": [0, 4]})";
  const struct {
    std::string json, expected;
  } cases[] = {
      {"{", "p.json: not valid JSON"},
      {std::string(100000, '[') + std::string(100000, ']'), "p.json: not valid JSON: JSON nested deeper than 128 levels"},
      {R"({"a": 1})", "p.json: found object {\"a\":1}, expected an array of {segmentation, score}"},
      {"[3]", "p.json: [0]: found number 3, expected an object"},
      {R"([{"score": 0.5}])", "p.json: [0].segmentation: missing, expected an RLE"},
      {R"([{"segmentation": )" + good_segmentation + "}]", "p.json: [0].score: missing, expected a number in (0, 1]"},
      {R"([{"segmentation": )" + good_segmentation + R"(, "score": 1.5}])",
       "p.json: [0].score: found number 1.5, expected a number in (0, 1]"},
      {R"([{"segmentation": )" + good_segmentation + R"(, "score": 0}])",
       "p.json: [0].score: found number 0, expected a number in (0, 1]"},
      {R"([{"segmentation": )" + good_segmentation + R"(, "score": "high"}])",
       "p.json: [0].score: found string \"high\", expected a number in (0, 1]"},
      {R"([{"segmentation": {"size": [3, 2], "counts": [0, 6]}, "score": 0.5}])",
       "p.json: [0].segmentation.size: found [3, 2], expected [2, 2] (the image's size)"},
      {R"([{"segmentation": {"size": [2, 2], "counts": [1, 2]}, "score": 0.5}])", "p.json: [0].segmentation.counts"},
      {R"([{"segmentation": {"size": [2, 2], "counts": [1, -2, 5]}, "score": 0.5}])",
       "p.json: [0].segmentation.counts[1]: found -2, expected a run length in [0, 2^32)"},
      {R"([{"segmentation": [[0, 0, 1, 0, 1, 1]], "score": 0.5}])",
       "p.json: [0].segmentation: found polygons, expected an RLE"},
  };
  for (const auto& c : cases) {
    const std::string error = error_of(c.json);
    EXPECT_EQ(error.rfind(c.expected, 0), 0u) << "input " << c.json << "\n  error: " << error;
  }
}

TEST(ProposalFiles, MissingFileIsNamed) {
  try {
    read_proposal_file("/nonexistent/7.json", 2, 2);
    FAIL() << "no error";
  } catch (const ProposalFileError& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent/7.json"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace wise::testing
