// Parity with pycocotools: our RLE strings, polygon rasterization, merges and COCO
// reading against pycocotools' own outputs, committed as JSON under
// tests/data/files/coco/ by tests/data/make_coco_fixtures.py (which documents them).
// Masks in the fixtures are stored as hex bit rows, independently of any RLE.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "data/coco.h"
#include "data/rle.h"
#include "data/rle_polygon.h"

namespace wise::data {
namespace {

using Json = nlohmann::json;

constexpr int kCocoFixtureVersion = 1;
constexpr const char* kRegenerate =
    "re-run: .venv-fixtures/bin/python tests/data/make_coco_fixtures.py";

std::string fixture_path(const std::string& name) {
  return std::string(WISE_TEST_DATA_DIR) + "/coco/" + name;
}

Json load_fixture(const std::string& name) {
  std::ifstream stream(fixture_path(name));
  if (!stream) throw std::runtime_error(fixture_path(name) + ": missing; " + kRegenerate);
  std::stringstream text;
  text << stream.rdbuf();
  Json json = Json::parse(text.str());
  if (json.value("version", 0) != kCocoFixtureVersion) {
    throw std::runtime_error(fixture_path(name) + ": fixture version " +
                             json.value("version", Json()).dump() + ", expected " +
                             std::to_string(kCocoFixtureVersion) + "; " + kRegenerate);
  }
  return json;
}

// Hex rows (4 pixels per digit, most significant bit first) to a row-major 0/1 mask.
std::vector<uint8_t> decode_rows(const Json& rows, int64_t height, int64_t width) {
  std::vector<uint8_t> mask(static_cast<size_t>(height * width));
  for (int64_t y = 0; y < height; ++y) {
    const std::string row = rows.at(static_cast<size_t>(y)).get<std::string>();
    for (int64_t x = 0; x < width; ++x) {
      const char digit = row.at(static_cast<size_t>(x / 4));
      const int nibble = digit <= '9' ? digit - '0' : digit - 'a' + 10;
      mask[static_cast<size_t>(y * width + x)] = (nibble >> (3 - x % 4)) & 1;
    }
  }
  return mask;
}

std::array<double, 4> box_of(const Json& json) {
  return {json[0].get<double>(), json[1].get<double>(), json[2].get<double>(),
          json[3].get<double>()};
}

TEST(RleParity, EncodeMatchesPycocotoolsStringsAreasAndBoxes) {
  const Json fixture = load_fixture("masks.json");
  ASSERT_GE(fixture["cases"].size(), 20u);
  for (const Json& c : fixture["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const int64_t height = c["height"], width = c["width"];
    const std::vector<uint8_t> mask = decode_rows(c["rows"], height, width);
    const Rle rle = rle_encode(mask, height, width);
    EXPECT_EQ(rle_to_string(rle), c["counts"].get<std::string>());
    EXPECT_EQ(rle_area(rle), c["area"].get<uint64_t>());
    EXPECT_EQ(rle_to_bbox(rle), box_of(c["bbox"]));
    // pycocotools' string decodes back to the same pixels.
    const Rle parsed = rle_from_string(c["counts"].get<std::string>(), height, width);
    EXPECT_EQ(parsed.counts, rle.counts);
    EXPECT_EQ(rle_decode(parsed), mask);
  }
}

TEST(RleParity, PolygonsMatchFrPyObjectsAndMerge) {
  const Json fixture = load_fixture("polygons.json");
  ASSERT_GE(fixture["cases"].size(), 50u);
  for (const Json& c : fixture["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const int64_t height = c["height"], width = c["width"];
    std::vector<Rle> parts;
    for (size_t i = 0; i < c["polygons"].size(); ++i) {
      const std::vector<double> xy = c["polygons"][i].get<std::vector<double>>();
      parts.push_back(rle_from_polygon(xy, height, width));
      EXPECT_EQ(rle_to_string(parts.back()), c["counts"][i].get<std::string>()) << "polygon " << i;
    }
    const Rle merged = rle_merge(parts, /*intersect=*/false);
    EXPECT_EQ(rle_to_string(merged), c["merged"]["counts"].get<std::string>());
    EXPECT_EQ(rle_area(merged), c["merged"]["area"].get<uint64_t>());
    EXPECT_EQ(rle_to_bbox(merged), box_of(c["merged"]["bbox"]));
    EXPECT_EQ(rle_decode(merged), decode_rows(c["mask_rows"], height, width));
  }
}

TEST(RleParity, MergeMatchesPycocotoolsUnionAndIntersection) {
  const Json fixture = load_fixture("merge.json");
  for (const Json& c : fixture["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const int64_t height = c["height"], width = c["width"];
    std::vector<Rle> inputs;
    for (const Json& counts : c["inputs"]) inputs.push_back(rle_from_string(counts, height, width));
    EXPECT_EQ(rle_to_string(rle_merge(inputs, false)), c["union"].get<std::string>());
    EXPECT_EQ(rle_to_string(rle_merge(inputs, true)), c["intersection"].get<std::string>());
  }
}

TEST(CocoParity, InstancesFileReadsAsPycocotoolsAnnToRle) {
  const Json expected = load_fixture("instances_expected.json");
  const Dataset dataset = read_coco_dataset(fixture_path("instances.json"));
  ASSERT_EQ(dataset.images.size(), 3u);
  ASSERT_EQ(dataset.categories.size(), 3u);
  EXPECT_EQ(dataset.categories[1].id, 5);
  EXPECT_EQ(dataset.categories[1].name, "aeroplane");
  EXPECT_EQ(dataset.images[1].file_name, "sub/b.png");
  EXPECT_FALSE(dataset.images[0].void_mask.has_value());
  ASSERT_TRUE(dataset.images[1].void_mask.has_value());
  EXPECT_EQ(rle_area(*dataset.images[1].void_mask), expected["void_area"].get<uint64_t>());

  ASSERT_EQ(dataset.annotations.size(), expected["annotations"].size());
  for (size_t i = 0; i < dataset.annotations.size(); ++i) {
    const Annotation& annotation = dataset.annotations[i];
    const Json& want = expected["annotations"][i];
    SCOPED_TRACE("annotation " + std::to_string(annotation.id));
    EXPECT_EQ(annotation.id, want["id"].get<int64_t>());
    EXPECT_EQ(rle_to_string(annotation.segmentation), want["counts"].get<std::string>());
    // The file's area and bbox when it has them, else the mask's.
    const double area =
        want["file_area"].is_null() ? want["area"].get<double>() : want["file_area"].get<double>();
    EXPECT_EQ(annotation.area, area);
    EXPECT_EQ(annotation.bbox,
              box_of(want["file_bbox"].is_null() ? want["bbox"] : want["file_bbox"]));
    EXPECT_EQ(rle_area(annotation.segmentation), want["area"].get<uint64_t>());
    EXPECT_EQ(annotation.iscrowd, want["iscrowd"].get<int>() == 1);
  }

  const std::vector<std::vector<int64_t>> labels = image_labels(dataset);
  ASSERT_EQ(labels.size(), dataset.images.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    EXPECT_EQ(
        labels[i],
        expected["image_labels"][std::to_string(dataset.images[i].id)].get<std::vector<int64_t>>());
  }
}

TEST(CocoParity, WrittenStringsAreTheOnesPycocotoolsWrites) {
  // Reading the fixture and writing it back gives pycocotools' compressed strings, so
  // pycocotools and detectron2 decode our files to the same masks.
  const Dataset dataset = read_coco_dataset(fixture_path("instances.json"));
  const Json written = Json::parse(coco_dataset_to_string(dataset));
  const Json expected = load_fixture("instances_expected.json");
  for (size_t i = 0; i < written["annotations"].size(); ++i) {
    EXPECT_EQ(written["annotations"][i]["segmentation"]["counts"],
              expected["annotations"][i]["counts"]);
  }
}

}  // namespace
}  // namespace wise::data
