// COCO JSON reading and writing (data/coco.h): round trips of datasets and results
// files in every segmentation form, hand-computed polygon and RLE cases, and one test per
// kind of bad input, each checking that the error names the file and the JSON path.
// Parity with pycocotools' own outputs is in coco_rle_parity_test.cpp.
#include "data/coco.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>

#include "data/atomic_file.h"
#include "data/rle_polygon.h"

namespace wise::data {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            ("wise_coco_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  size_t entries() const {
    return static_cast<size_t>(
        std::distance(fs::directory_iterator(path_), fs::directory_iterator()));
  }

 private:
  fs::path path_;
};

Rle random_mask(std::mt19937& rng, int64_t height, int64_t width) {
  std::vector<uint8_t> mask(static_cast<size_t>(height * width));
  for (auto& value : mask) value = rng() % 3 == 0 ? 1 : 0;
  return rle_encode(mask, height, width);
}

// Two images (one with a void region), three categories, four annotations (one crowd).
Dataset sample_dataset() {
  std::mt19937 rng(11);
  Dataset dataset;
  dataset.categories = {{1, "person"}, {7, "bicycle"}, {20, "tv monitor"}};
  dataset.images = {{3, "a.jpg", 12, 9, std::nullopt}, {8, "dir/b.png", 5, 14, std::nullopt}};
  dataset.images[1].void_mask = random_mask(rng, 5, 14);
  const int64_t image_ids[] = {3, 3, 8, 8};
  const int64_t category_ids[] = {7, 1, 20, 7};
  for (int i = 0; i < 4; ++i) {
    Annotation annotation;
    annotation.id = 100 + i;
    annotation.image_id = image_ids[i];
    annotation.category_id = category_ids[i];
    const ImageInfo& image = dataset.images[image_ids[i] == 3 ? 0 : 1];
    annotation.segmentation = random_mask(rng, image.height, image.width);
    annotation.bbox = rle_to_bbox(annotation.segmentation);
    annotation.area = 0.25 + i;  // not the pixel count: the file's value must survive
    annotation.iscrowd = i == 2;
    dataset.annotations.push_back(annotation);
  }
  return dataset;
}

void expect_same_dataset(const Dataset& a, const Dataset& b) {
  ASSERT_EQ(a.categories.size(), b.categories.size());
  for (size_t i = 0; i < a.categories.size(); ++i) {
    EXPECT_EQ(a.categories[i].id, b.categories[i].id);
    EXPECT_EQ(a.categories[i].name, b.categories[i].name);
  }
  ASSERT_EQ(a.images.size(), b.images.size());
  for (size_t i = 0; i < a.images.size(); ++i) {
    EXPECT_EQ(a.images[i].id, b.images[i].id);
    EXPECT_EQ(a.images[i].file_name, b.images[i].file_name);
    EXPECT_EQ(a.images[i].height, b.images[i].height);
    EXPECT_EQ(a.images[i].width, b.images[i].width);
    ASSERT_EQ(a.images[i].void_mask.has_value(), b.images[i].void_mask.has_value());
    if (a.images[i].void_mask) {
      EXPECT_EQ(a.images[i].void_mask->counts, b.images[i].void_mask->counts);
    }
  }
  ASSERT_EQ(a.annotations.size(), b.annotations.size());
  for (size_t i = 0; i < a.annotations.size(); ++i) {
    const Annotation &x = a.annotations[i], &y = b.annotations[i];
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.image_id, y.image_id);
    EXPECT_EQ(x.category_id, y.category_id);
    EXPECT_EQ(x.segmentation.height, y.segmentation.height);
    EXPECT_EQ(x.segmentation.width, y.segmentation.width);
    EXPECT_EQ(x.segmentation.counts, y.segmentation.counts);
    EXPECT_EQ(x.bbox, y.bbox);
    EXPECT_EQ(x.area, y.area);
    EXPECT_EQ(x.iscrowd, y.iscrowd);
  }
}

TEST(Coco, DatasetRoundTripsThroughCompressedAndUncompressedRle) {
  const TempDir dir;
  const Dataset dataset = sample_dataset();
  for (const bool compressed : {true, false}) {
    SCOPED_TRACE(compressed ? "compressed" : "uncompressed");
    CocoWriteOptions options;
    options.compressed_rle = compressed;
    options.indent = compressed ? -1 : 2;
    const std::string path = dir.file(compressed ? "c.json" : "u.json");
    write_coco_dataset(dataset, path, options);
    const Json json = Json::parse(read_whole_file(path));
    EXPECT_EQ(json["annotations"][0]["segmentation"]["counts"].is_string(), compressed);
    EXPECT_EQ(json["annotations"][2]["iscrowd"], 1);
    EXPECT_EQ(json["images"][1]["wise_void"]["size"], Json::array({5, 14}));
    expect_same_dataset(dataset, read_coco_dataset(path));
  }
  EXPECT_EQ(dir.entries(), 2u) << "a temporary file was left behind";
}

TEST(Coco, PolygonIsRasterizedAtPixelCentres) {
  // A 6 x 5 rectangle with corners on pixel centres (2,2)-(8,7): pycocotools covers
  // columns 2..7 and rows 2..6 (the pixels whose centres lie in [2, 8) x [2, 7)).
  const std::string text =
      R"({"images": [{"id": 1, "file_name": "x.jpg", "height": 10, "width": 12}],
    "categories": [{"id": 2, "name": "box"}],
    "annotations": [{"id": 5, "image_id": 1, "category_id": 2,
                     "segmentation": [[2, 2, 8, 2, 8, 7, 2, 7]]}]})";
  const Dataset dataset = read_coco_dataset_from_string(text, "rect.json");
  ASSERT_EQ(dataset.annotations.size(), 1u);
  const std::vector<uint8_t> mask = rle_decode(dataset.annotations[0].segmentation);
  for (int64_t y = 0; y < 10; ++y) {
    for (int64_t x = 0; x < 12; ++x) {
      EXPECT_EQ(mask[y * 12 + x], (x >= 2 && x <= 7 && y >= 2 && y <= 6) ? 1 : 0) << x << "," << y;
    }
  }
  // Absent bbox and area come from the mask; iscrowd defaults to 0.
  EXPECT_EQ(dataset.annotations[0].bbox, (std::array<double, 4>{2, 2, 6, 5}));
  EXPECT_EQ(dataset.annotations[0].area, 30);
  EXPECT_FALSE(dataset.annotations[0].iscrowd);
}

TEST(Coco, PolygonPartsAreUnitedAndTooShortPartsSkipped) {
  // Two disjoint unit-pixel squares plus a 2-point "polygon" (skipped, as detectron2 does).
  const std::string text = R"({"images": [{"id": 1, "file_name": "x.jpg", "height": 4, "width": 4}],
    "categories": [{"id": 2, "name": "box"}],
    "annotations": [{"id": 5, "image_id": 1, "category_id": 2, "iscrowd": false,
                     "segmentation": [[0, 0, 1, 0, 1, 1, 0, 1], [2, 2, 3, 2, 3, 3, 2, 3], [0, 3, 3, 0]]}]})";
  const Dataset dataset = read_coco_dataset_from_string(text, "parts.json");
  // Pixels (0,0) and (2,2), column-major positions 0 and 2 * 4 + 2 = 10.
  EXPECT_EQ(dataset.annotations[0].segmentation.counts, (std::vector<uint32_t>{0, 1, 9, 1, 5}));
}

TEST(Coco, UncompressedAndCompressedRleAreReadAsGiven) {
  // 3 x 2 image; runs column-major: 1 zero, 2 ones, 3 zeros -> pixels (0,1), (0,2).
  const std::string text = R"({"images": [{"id": 1, "file_name": "x.jpg", "height": 3, "width": 2}],
    "categories": [{"id": 2, "name": "a"}],
    "annotations": [
      {"id": 5, "image_id": 1, "category_id": 2, "iscrowd": 1, "segmentation": {"size": [3, 2], "counts": [1, 2, 3]}},
      {"id": 6, "image_id": 1, "category_id": 2, "segmentation": {"size": [3, 2], "counts": "123"},
       "bbox": [0.5, 1, 2, 2], "area": 7.5}]})";
  const Dataset dataset = read_coco_dataset_from_string(text, "rle.json");
  ASSERT_EQ(dataset.annotations.size(), 2u);
  EXPECT_EQ(dataset.annotations[0].segmentation.counts, (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(rle_decode(dataset.annotations[0].segmentation),
            (std::vector<uint8_t>{0, 0, 1, 0, 1, 0}));
  EXPECT_TRUE(dataset.annotations[0].iscrowd);
  EXPECT_EQ(dataset.annotations[0].bbox, (std::array<double, 4>{0, 1, 1, 2}));
  EXPECT_EQ(dataset.annotations[0].area, 2);
  // "123": characters '1', '2', '3' are single groups 1, 2, 3.
  EXPECT_EQ(dataset.annotations[1].segmentation.counts, (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(dataset.annotations[1].bbox, (std::array<double, 4>{0.5, 1, 2, 2}));
  EXPECT_EQ(dataset.annotations[1].area, 7.5);
}

TEST(Coco, ImageInfoFileWithoutAnnotationsAndImageLabels) {
  const std::string text = R"({"images": [{"id": 1, "file_name": "x.jpg", "height": 3, "width": 2}],
    "categories": []})";
  EXPECT_TRUE(read_coco_dataset_from_string(text, "info.json").annotations.empty());

  const Dataset dataset = sample_dataset();  // image 3: categories 7, 1; image 8: 20, 7
  EXPECT_EQ(image_labels(dataset), (std::vector<std::vector<int64_t>>{{1, 7}, {7, 20}}));
}

TEST(Coco, ResultsRoundTripWithShortScoresAndBoxesFromMasks) {
  const TempDir dir;
  const Dataset dataset = sample_dataset();
  std::vector<Detection> detections;
  for (const Annotation& annotation : dataset.annotations) {
    detections.push_back({annotation.image_id,
                          annotation.category_id,
                          0.9f,
                          annotation.segmentation,
                          {1.5, 2, 3, 4}});
  }
  detections[1].score = 1e-7f;
  const std::string path = dir.file("results.json");
  write_coco_results(detections, path);
  const std::string text = read_whole_file(path);
  EXPECT_NE(text.find("\"score\":0.9,"), std::string::npos) << text.substr(0, 200);
  const std::vector<Detection> back = read_coco_results(path, dataset);
  ASSERT_EQ(back.size(), detections.size());
  for (size_t i = 0; i < back.size(); ++i) {
    EXPECT_EQ(back[i].image_id, detections[i].image_id);
    EXPECT_EQ(back[i].category_id, detections[i].category_id);
    EXPECT_EQ(back[i].score, detections[i].score);
    EXPECT_EQ(back[i].segmentation.counts, detections[i].segmentation.counts);
    EXPECT_EQ(back[i].bbox, detections[i].bbox);
  }
  // Without "bbox" the box comes from the mask (pycocotools' loadRes does the same).
  const std::string no_box = R"([{"image_id": 3, "category_id": 1, "score": 0.5,
    "segmentation": {"size": [12, 9], "counts": [13, 2, 93]}}])";
  const std::vector<Detection> read =
      read_coco_results_from_string(no_box, dataset, "r.json");
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].bbox, (std::array<double, 4>{1, 1, 1, 2}));  // pixels (1,1), (1,2)
  EXPECT_TRUE(read_coco_results_from_string("[]", dataset, "empty.json").empty());
}

TEST(RlePolygon, MergeOfHandMadeMasksAndBadArguments) {
  // 2 x 2 masks, column-major: a = pixels 0, 1 (first column); b = pixels 1, 2.
  const Rle a{2, 2, {0, 2, 2}}, b{2, 2, {1, 2, 1}};
  EXPECT_EQ(rle_merge({a, b}, false).counts, (std::vector<uint32_t>{0, 3, 1}));
  EXPECT_EQ(rle_merge({a, b}, true).counts, (std::vector<uint32_t>{1, 1, 2}));
  EXPECT_EQ(rle_merge({b}, true).counts, b.counts);
  EXPECT_THROW(rle_merge({}, false), std::invalid_argument);
  EXPECT_THROW(rle_merge({a, rle_empty(2, 3)}, false), std::invalid_argument);
  EXPECT_THROW(rle_merge({a, Rle{2, 2, {1, 2}}}, false), std::invalid_argument);  // sums to 3

  EXPECT_EQ(rle_from_polygon({}, 3, 4).counts, (std::vector<uint32_t>{12}));
  EXPECT_THROW(rle_from_polygon({1, 2, 3}, 3, 4), std::invalid_argument);
  EXPECT_THROW(rle_from_polygon({0, 0, 1, 0, 1, std::nan("")}, 3, 4), std::invalid_argument);
  EXPECT_THROW(rle_from_polygon({0, 0, 1, 0, 1, 1}, -1, 4), std::invalid_argument);
}

// ---- bad input -----------------------------------------------------------------------

// A valid dataset file as JSON, for the bad-input cases to spoil one field at a time.
Json valid_dataset_json() {
  return Json::parse(R"({"images": [{"id": 1, "file_name": "a.jpg", "height": 4, "width": 5},
                                    {"id": 2, "file_name": "b.jpg", "height": 3, "width": 3}],
    "categories": [{"id": 1, "name": "a"}, {"id": 3, "name": "b"}],
    "annotations": [
      {"id": 10, "image_id": 1, "category_id": 1, "segmentation": [[0, 0, 3, 0, 3, 3]]},
      {"id": 11, "image_id": 2, "category_id": 3, "segmentation": {"size": [3, 3], "counts": [4, 2, 3]}}]})");
}

// Expects reading to throw a CocoError whose message contains every one of `parts`.
void expect_error(const std::function<void()>& read, const std::vector<std::string>& parts) {
  try {
    read();
    ADD_FAILURE() << "no error; expected one mentioning " << parts.front();
  } catch (const CocoError& error) {
    const std::string message = error.what();
    for (const std::string& part : parts) {
      EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
    }
  }
}

struct BadDatasetCase {
  const char* name;
  std::function<void(Json&)> spoil;
  std::vector<std::string> message;  // besides the file name
};

TEST(Coco, EveryBadDatasetFieldIsANamedError) {
  ASSERT_NO_THROW(read_coco_dataset_from_string(valid_dataset_json().dump(), "bad.json"));
  const std::vector<BadDatasetCase> cases = {
      {"root not an object", [](Json& j) { j = Json::array(); }, {"expected a COCO object"}},
      {"no images", [](Json& j) { j.erase("images"); }, {"images: missing"}},
      {"images not a list",
       [](Json& j) { j["images"] = 3; },
       {"images: found number 3", "list of images"}},
      {"image without id", [](Json& j) { j["images"][1].erase("id"); }, {"images[1].id: missing"}},
      {"image id a string",
       [](Json& j) { j["images"][0]["id"] = "1"; },
       {"images[0].id", "expected an integer"}},
      {"fractional height",
       [](Json& j) { j["images"][0]["height"] = 4.5; },
       {"images[0].height", "integer"}},
      {"zero width",
       [](Json& j) { j["images"][1]["width"] = 0; },
       {"images[1]: size [3, 0]", "positive"}},
      {"no file_name",
       [](Json& j) { j["images"][0].erase("file_name"); },
       {"images[0].file_name: missing"}},
      {"duplicate image id",
       [](Json& j) { j["images"][1]["id"] = 1; },
       {"images[1].id: duplicate id 1 (also images[0].id)"}},
      {"no categories", [](Json& j) { j.erase("categories"); }, {"categories: missing"}},
      {"category without name",
       [](Json& j) { j["categories"][1].erase("name"); },
       {"categories[1].name: missing"}},
      {"duplicate category id",
       [](Json& j) { j["categories"][1]["id"] = 1; },
       {"categories[1].id: duplicate id 1"}},
      {"annotations not a list",
       [](Json& j) { j["annotations"] = Json::object(); },
       {"annotations: found object"}},
      {"duplicate annotation id",
       [](Json& j) { j["annotations"][1]["id"] = 10; },
       {"annotations[1].id: duplicate id 10 (also annotations[0].id)"}},
      {"unknown image id",
       [](Json& j) { j["annotations"][1]["image_id"] = 7; },
       {"annotations[1].image_id: unknown image id 7"}},
      {"unknown category id",
       [](Json& j) { j["annotations"][0]["category_id"] = 2; },
       {"annotations[0].category_id: unknown category id 2"}},
      {"no segmentation",
       [](Json& j) { j["annotations"][0].erase("segmentation"); },
       {"annotations[0].segmentation: missing"}},
      {"segmentation a string",
       [](Json& j) { j["annotations"][0]["segmentation"] = "abc"; },
       {"annotations[0].segmentation: found string", "polygons or an RLE"}},
      {"RLE size differs from the image's",
       [](Json& j) {
         j["annotations"][1]["segmentation"]["size"] = {3, 4};
       },
       {"annotations[1].segmentation.size: found [3, 4], expected [3, 3] (the size of image 2)"}},
      {"RLE size of one number",
       [](Json& j) { j["annotations"][1]["segmentation"]["size"] = {3}; },
       {"annotations[1].segmentation.size", "expected 2"}},
      {"RLE without counts",
       [](Json& j) { j["annotations"][1]["segmentation"].erase("counts"); },
       {"annotations[1].segmentation.counts: missing"}},
      {"uncompressed runs sum wrong",
       [](Json& j) {
         j["annotations"][1]["segmentation"]["counts"] = {4, 2, 4};
       },
       {"annotations[1].segmentation.counts", "sum to 10", "expected height * width"}},
      {"negative run",
       [](Json& j) {
         j["annotations"][1]["segmentation"]["counts"] = {4, -2, 7};
       },
       {"annotations[1].segmentation.counts[1]: found -2"}},
      {"compressed string with a bad character",
       [](Json& j) { j["annotations"][1]["segmentation"]["counts"] = "4 3"; },
       {"annotations[1].segmentation.counts", "invalid character"}},
      {"compressed runs sum wrong",
       [](Json& j) { j["annotations"][1]["segmentation"]["counts"] = "42"; },
       {"annotations[1].segmentation.counts", "expected height * width"}},
      {"polygon with odd count",
       [](Json& j) { j["annotations"][0]["segmentation"][0].push_back(1); },
       {"annotations[0].segmentation[0]: has 7 coordinates, expected an even count"}},
      {"polygon coordinate a string",
       [](Json& j) { j["annotations"][0]["segmentation"][0][3] = "x"; },
       {"annotations[0].segmentation[0][3]", "expected a number"}},
      {"polygon not a list",
       [](Json& j) { j["annotations"][0]["segmentation"][0] = 5; },
       {"annotations[0].segmentation[0]", "expected a polygon"}},
      {"polygon far outside",
       [](Json& j) { j["annotations"][0]["segmentation"][0][2] = 5e7; },
       {"annotations[0].segmentation[0]", "within +-1e6"}},
      {"polygon coordinate huge",  // printed compactly, not as 301 digits
       [](Json& j) { j["annotations"][0]["segmentation"][0][2] = 1e300; },
       {"annotations[0].segmentation[0]: rle_from_polygon: coordinate 2 is 1e+300, expected"}},
      {"bbox width huge and negative",
       [](Json& j) {
         j["annotations"][0]["bbox"] = {1, 2, -1e300, 1};
       },
       {"annotations[0].bbox: has a negative width or height ([1,2,-1e+300,1])"}},
      {"bbox of 3 numbers",
       [](Json& j) {
         j["annotations"][0]["bbox"] = {1, 2, 3};
       },
       {"annotations[0].bbox: has 3 numbers, expected 4"}},
      {"bbox negative width",
       [](Json& j) {
         j["annotations"][0]["bbox"] = {1, 2, -3, 1};
       },
       {"annotations[0].bbox", "negative"}},
      {"area a string",
       [](Json& j) { j["annotations"][0]["area"] = "big"; },
       {"annotations[0].area", "expected a number"}},
      {"negative area",
       [](Json& j) { j["annotations"][0]["area"] = -1; },
       {"annotations[0].area", ">= 0"}},
      {"iscrowd 2",
       [](Json& j) { j["annotations"][0]["iscrowd"] = 2; },
       {"annotations[0].iscrowd", "0 or 1"}},
      {"void mask of the wrong size",
       [](Json& j) {
         j["images"][1]["wise_void"] = {{"size", {4, 5}}, {"counts", {20}}};
       },
       {"images[1].wise_void.size: found [4, 5], expected [3, 3]"}},
  };
  for (const BadDatasetCase& c : cases) {
    SCOPED_TRACE(c.name);
    Json json = valid_dataset_json();
    c.spoil(json);
    std::vector<std::string> message = c.message;
    message.insert(message.begin(), "bad.json: ");
    expect_error([&] { read_coco_dataset_from_string(json.dump(), "bad.json"); }, message);
  }
}

// Valid JSON 100,000 levels deep used to overflow the stack while its error message was
// built (issue 22): now a named error at the depth bound, for datasets and results alike.
TEST(Coco, DeeplyNestedJsonIsANamedErrorNotACrash) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  expect_error([&] { read_coco_dataset_from_string(deep, "deep.json"); },
               {"deep.json: ", "nested deeper than 128 levels"});
  const std::string deep_field = "{\"images\": " + deep + "}";
  expect_error([&] { read_coco_dataset_from_string(deep_field, "field.json"); },
               {"field.json: ", "nested deeper than 128 levels"});
  expect_error([&] { read_coco_results_from_string(deep, sample_dataset(), "results.json"); },
               {"results.json: ", "nested deeper than 128 levels"});
  // Just inside the bound it parses, and fails on its shape with a short quote.
  const std::string nested = std::string(100, '[') + std::string(100, ']');
  try {
    read_coco_dataset_from_string(nested, "nested.json");
    ADD_FAILURE() << "a nested array read as a dataset";
  } catch (const std::exception& error) {
    EXPECT_LT(std::string(error.what()).size(), 200u) << error.what();
    EXPECT_NE(std::string(error.what()).find("nested.json"), std::string::npos) << error.what();
  }
}

TEST(Coco, MalformedAndMissingFilesAreNamedErrors) {
  const TempDir dir;
  expect_error([] { read_coco_dataset_from_string("{\"images\": [", "cut.json"); },
               {"cut.json: malformed JSON", "parse error"});
  expect_error([] { read_coco_dataset_from_string("", "empty.json"); },
               {"empty.json: malformed JSON"});
  // A number beyond a double is nlohmann's out_of_range, not a parse_error (the fuzzer's).
  expect_error([] { read_coco_dataset_from_string("4444444E44444", "huge.json"); },
               {"huge.json: malformed JSON", "number overflow"});
  const std::string missing = dir.file("missing.json");
  expect_error([&] { read_coco_dataset(missing); }, {missing, "cannot open"});
  expect_error([&] { read_coco_results(missing, {}); }, {missing, "cannot open"});
  const std::string no_folder = dir.file("no/such/folder/out.json");
  expect_error([&] { write_coco_dataset(sample_dataset(), no_folder); },
               {no_folder, "temporary file"});
}

TEST(Coco, EveryBadResultsFieldIsANamedError) {
  Dataset ground_truth;
  ground_truth.images = {{1, "a.jpg", 3, 3, std::nullopt}};
  ground_truth.categories = {{4, "cat"}};
  const Json valid = Json::parse(R"([{"image_id": 1, "category_id": 4, "score": 0.5,
                                      "segmentation": {"size": [3, 3], "counts": "9"}}])");
  ASSERT_EQ(read_coco_results_from_string(valid.dump(), ground_truth, "r.json").size(), 1u);
  const std::vector<BadDatasetCase> cases = {
      {"not a list", [](Json& j) { j = Json::object(); }, {"expected a results list"}},
      {"entry not an object",
       [](Json& j) { j[0] = 1; },
       {"[0]: found number 1, expected an object"}},
      {"unknown image",
       [](Json& j) { j[0]["image_id"] = 2; },
       {"[0].image_id: unknown image id 2"}},
      {"no category", [](Json& j) { j[0].erase("category_id"); }, {"[0].category_id: missing"}},
      {"unknown category",
       [](Json& j) { j[0]["category_id"] = 5; },
       {"[0].category_id: unknown category id 5, expected the id of one of the 1 categories"}},
      {"no score", [](Json& j) { j[0].erase("score"); }, {"[0].score: missing"}},
      {"score a string",
       [](Json& j) { j[0]["score"] = "high"; },
       {"[0].score", "expected a number"}},
      {"score beyond float", [](Json& j) { j[0]["score"] = 1e300; }, {"[0].score", "finite float"}},
      {"box-only result",
       [](Json& j) { j[0].erase("segmentation"); },
       {"[0].segmentation: missing"}},
      {"size differs",
       [](Json& j) {
         j[0]["segmentation"]["size"] = {9, 1};
       },
       {"[0].segmentation.size: found [9, 1], expected [3, 3]"}},
  };
  for (const BadDatasetCase& c : cases) {
    SCOPED_TRACE(c.name);
    Json json = valid;
    c.spoil(json);
    std::vector<std::string> message = c.message;
    message.insert(message.begin(), "r.json: ");
    expect_error([&] { read_coco_results_from_string(json.dump(), ground_truth, "r.json"); },
                 message);
  }
  // The ground truth's images themselves must not repeat ids.
  Dataset twice = ground_truth;
  twice.images.push_back(twice.images[0]);
  expect_error([&] { read_coco_results_from_string(valid.dump(), twice, "r.json"); },
               {"duplicate id 1"});
}

TEST(Coco, WritingAnInconsistentDatasetFailsBeforeTouchingTheDisk) {
  const TempDir dir;
  const std::string path = dir.file("out.json");
  Dataset unknown_image = sample_dataset();
  unknown_image.annotations[2].image_id = 99;
  expect_error([&] { write_coco_dataset(unknown_image, path); },
               {path, "annotations[2].image_id: unknown image id 99"});
  Dataset wrong_size = sample_dataset();
  wrong_size.annotations[0].segmentation = rle_empty(12, 10);
  expect_error([&] { write_coco_dataset(wrong_size, path); },
               {"annotations[0].segmentation.size: found [12, 10], expected [12, 9]"});
  Dataset duplicate = sample_dataset();
  duplicate.categories[2].id = 1;
  expect_error([&] { write_coco_dataset(duplicate, path); }, {"categories[2].id: duplicate id 1"});
  Dataset bad_runs = sample_dataset();
  bad_runs.annotations[1].segmentation.counts.push_back(3);
  expect_error([&] { write_coco_dataset(bad_runs, path); }, {"annotations[1].segmentation.counts"});
  Dataset nan_area = sample_dataset();
  nan_area.annotations[3].area = std::nan("");
  expect_error([&] { write_coco_dataset(nan_area, path); }, {"annotations[3].area", ">= 0"});
  Dataset huge_area = sample_dataset();
  huge_area.annotations[2].area = -1e300;
  expect_error([&] { write_coco_dataset(huge_area, path); }, {"annotations[2].area: is -1e+300,"});
  Dataset infinite_box = sample_dataset();
  infinite_box.annotations[0].bbox[2] = INFINITY;
  expect_error([&] { write_coco_dataset(infinite_box, path); }, {"annotations[0].bbox"});
  std::vector<Detection> nan_score = {{3, 1, std::nanf(""), rle_empty(12, 9), {}}};
  expect_error([&] { write_coco_results(nan_score, path); }, {path, "[0].score"});
  EXPECT_EQ(dir.entries(), 0u);
}

}  // namespace
}  // namespace wise::data
