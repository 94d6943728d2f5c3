// PASCAL VOC reader (data/voc.h) on tests/data/files/voc_tiny, a VOC-layout tree made
// by make_voc_fixture.py. The expected labels, instance classes, areas, boxes, masks
// (as pycocotools' RLE strings) and void pixels in voc_tiny/expected.json were computed
// there with numpy and pycocotools, independently of our code.
#include "data/voc.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "data/image_io.h"
#include "data/rle.h"

namespace wise::data {
namespace {

namespace fs = std::filesystem;

const std::string kRoot = std::string(WISE_TEST_DATA_DIR) + "/voc_tiny";

nlohmann::json expected_voc() {
  std::ifstream stream(kRoot + "/expected.json");
  if (!stream) throw std::runtime_error("missing " + kRoot + "/expected.json");
  return nlohmann::json::parse(stream);
}

struct ScratchFolder {
  fs::path path;
  explicit ScratchFolder(const std::string& name)
      : path(fs::temp_directory_path() / ("wise_voc_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchFolder() { fs::remove_all(path); }
};

template <typename Error>
void expect_error(const std::function<void()>& action, const std::vector<std::string>& parts) {
  try {
    action();
    ADD_FAILURE() << "expected an error mentioning \"" << parts.front() << "\", got none";
  } catch (const Error& error) {
    const std::string message = error.what();
    for (const auto& part : parts) {
      EXPECT_NE(message.find(part), std::string::npos)
          << "message \"" << message << "\" lacks \"" << part << "\"";
    }
  }
}

// Checks one split against expected.json: images, labels, void, every instance.
void expect_split_matches(const VocDataset& voc, const std::string& split) {
  const auto expected = expected_voc();
  const auto ids = expected["splits"][split].get<std::vector<std::string>>();
  ASSERT_EQ(voc.dataset.images.size(), ids.size());
  ASSERT_EQ(voc.voc_ids, ids);
  ASSERT_EQ(voc.image_labels.size(), ids.size());
  EXPECT_TRUE(voc.skipped.empty());
  size_t annotation = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    SCOPED_TRACE(ids[i]);
    const auto& reference = expected["images"][ids[i]];
    const ImageInfo& image = voc.dataset.images[i];
    // "2007_000032" -> 2007000032
    EXPECT_EQ(image.id, std::stoll(ids[i].substr(0, 4)) * 1000000 + std::stoll(ids[i].substr(5)));
    EXPECT_EQ(image.file_name, reference["file_name"].get<std::string>());
    EXPECT_EQ(image.height, reference["height"].get<int64_t>());
    EXPECT_EQ(image.width, reference["width"].get<int64_t>());
    EXPECT_EQ(voc.image_labels[i], reference["labels"].get<std::vector<int64_t>>());
    const int64_t void_pixels = reference["void_pixels"].get<int64_t>();
    ASSERT_EQ(image.void_mask.has_value(), void_pixels > 0);
    if (image.void_mask) {
      EXPECT_EQ(static_cast<int64_t>(rle_area(*image.void_mask)), void_pixels);
      EXPECT_EQ(rle_to_string(*image.void_mask), reference["void_rle"].get<std::string>());
    }
    for (const auto& instance : reference["instances"]) {
      ASSERT_LT(annotation, voc.dataset.annotations.size());
      const Annotation& found = voc.dataset.annotations[annotation++];
      SCOPED_TRACE("instance index " + std::to_string(instance["object_index"].get<int>()));
      EXPECT_EQ(found.id, static_cast<int64_t>(annotation));  // 1, 2, ... over the split
      EXPECT_EQ(found.image_id, image.id);
      EXPECT_EQ(found.category_id, instance["category_id"].get<int64_t>());
      EXPECT_EQ(found.area, instance["area"].get<double>());
      EXPECT_EQ(found.bbox, (instance["bbox"].get<std::array<double, 4>>()));
      EXPECT_EQ(found.segmentation.height, image.height);
      EXPECT_EQ(found.segmentation.width, image.width);
      EXPECT_EQ(rle_to_string(found.segmentation), instance["rle"].get<std::string>());
      EXPECT_FALSE(found.iscrowd);
    }
  }
  EXPECT_EQ(annotation, voc.dataset.annotations.size());
}

TEST(VocReader, CategoriesAreTheTwentyDevkitClasses) {
  const auto categories = voc_categories();
  ASSERT_EQ(categories.size(), 20u);
  EXPECT_EQ(categories.front().id, 1);
  EXPECT_EQ(categories.front().name, "aeroplane");
  EXPECT_EQ(categories[7].id, 8);
  EXPECT_EQ(categories[7].name, "cat");
  EXPECT_EQ(categories[14].name, "person");
  EXPECT_EQ(categories.back().id, 20);
  EXPECT_EQ(categories.back().name, "tvmonitor");
}

TEST(VocReader, TrainSplitMatchesTheNumpyReference) {
  const VocDataset voc = read_voc(kRoot, "train");
  EXPECT_EQ(voc.split, "train");
  EXPECT_EQ(voc.dataset.categories.size(), 20u);
  expect_split_matches(voc, "train");
  EXPECT_EQ(voc.dataset.annotations.size(), 5u);
}

TEST(VocReader, ValSplitMatchesTheNumpyReference) {
  expect_split_matches(read_voc(kRoot, "val"), "val");
}

TEST(VocReader, TwoInstancesOfOneClassStayApart) {
  const VocDataset voc = read_voc(kRoot, "train");
  // 2007_000032: instance 1 and 2 are both cats, instance 3 a person.
  ASSERT_GE(voc.dataset.annotations.size(), 3u);
  const auto& first = voc.dataset.annotations[0];
  const auto& second = voc.dataset.annotations[1];
  EXPECT_EQ(first.category_id, 8);
  EXPECT_EQ(second.category_id, 8);
  EXPECT_EQ(first.area, 120);  // the 10 x 12 rectangle
  EXPECT_EQ(first.bbox, (std::array<double, 4>{4, 5, 12, 10}));
  EXPECT_EQ(voc.image_labels[0], (std::vector<int64_t>{8, 15}));
}

TEST(VocReader, MajorityClassDecidesWhenClassPixelsDisagree) {
  const VocDataset voc = read_voc(kRoot, "train");
  // 2007_000039: the dog's 24 x 22 pixels are class 12 except a 4 x 4 corner of 8 (cat).
  const Annotation& dog = voc.dataset.annotations[3];
  EXPECT_EQ(dog.image_id, 2007000039);
  EXPECT_EQ(dog.category_id, 12);
  EXPECT_EQ(dog.area, 24 * 22);
  // The image-level labels come from SegmentationClass: the stray cat pixels count.
  EXPECT_EQ(voc.image_labels[1], (std::vector<int64_t>{5, 8, 12}));
}

TEST(VocReader, ImageWithoutObjectsHasNoLabelsButItsVoid) {
  const VocDataset voc = read_voc(kRoot, "train");
  EXPECT_EQ(voc.voc_ids[2], "2008_000002");
  EXPECT_TRUE(voc.image_labels[2].empty());
  ASSERT_TRUE(voc.dataset.images[2].void_mask.has_value());
  EXPECT_EQ(rle_area(*voc.dataset.images[2].void_mask), 32u);  // one void column of 32
}

TEST(VocReader, LabelsOnlyReadsLabelsAndSizes) {
  const VocDataset full = read_voc(kRoot, "train");
  VocReadOptions options;
  options.labels_only = true;
  const VocDataset labels = read_voc(kRoot, "train", options);
  EXPECT_TRUE(labels.labels_only);
  EXPECT_EQ(labels.image_labels, full.image_labels);
  EXPECT_EQ(labels.voc_ids, full.voc_ids);
  EXPECT_TRUE(labels.dataset.annotations.empty());
  ASSERT_EQ(labels.dataset.images.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(labels.dataset.images[i].height, full.dataset.images[i].height);
    EXPECT_EQ(labels.dataset.images[i].width, full.dataset.images[i].width);
    EXPECT_FALSE(labels.dataset.images[i].void_mask.has_value());
  }
  EXPECT_EQ(voc_summary(labels),
            "VOC2012 train: 3 images, 5 image-level labels (skipped 0; the official VOC2012 "
            "train list has 1464 images)");
}

TEST(VocReader, SummaryCountsImagesAndInstances) {
  EXPECT_EQ(voc_summary(read_voc(kRoot, "train")),
            "VOC2012 train: 3 images, 5 instances (skipped 0; the official VOC2012 train list "
            "has 1464 images)");
  // A split name without an official size gets no note.
  VocDataset custom;
  custom.split = "mine";
  custom.dataset.images.resize(2);
  custom.dataset.annotations.resize(7);
  custom.skipped = {"a.png: bad"};
  EXPECT_EQ(voc_summary(custom), "VOC2012 mine: 2 images, 7 instances (skipped 1)");
  custom.split = "val";
  custom.dataset.images.resize(1448);
  EXPECT_EQ(voc_summary(custom), "VOC2012 val: 1448 images, 7 instances (skipped 1)");
}

TEST(VocBadInput, FirstBadImageThrowsByDefault) {
  // bad.txt: 2007_000032 (fine), then 2009_000001 whose SegmentationObject is truncated.
  expect_error<ImageError>([] { read_voc(kRoot, "bad"); },
                           {"SegmentationObject/2009_000001.png", "truncated"});
}

TEST(VocBadInput, SkipBadFilesWarnsAndKeepsGoing) {
  VocReadOptions options;
  options.skip_bad_files = true;
  ::testing::internal::CaptureStderr();
  const VocDataset voc = read_voc(kRoot, "bad", options);
  const std::string warnings = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(voc.voc_ids, (std::vector<std::string>{"2007_000032"}));
  EXPECT_EQ(voc.dataset.annotations.size(), 3u);
  ASSERT_EQ(voc.skipped.size(), 5u);
  const std::vector<std::vector<std::string>> reasons = {
      {"SegmentationObject/2009_000001.png", "truncated"},
      {"JPEGImages/2009_000002.jpg", "No such file or directory"},
      {"JPEGImages/2009_000003.jpg", "not of any known type"},
      {"SegmentationClass/2009_000004.png", "class index 40", "expected 0 (background), 1..20"},
      {"SegmentationClass/2009_000005.png", "20 x 24", "expected the size of",
       "JPEGImages/2009_000005.jpg", "10 x 10"},
  };
  for (size_t i = 0; i < reasons.size(); ++i) {
    for (const auto& part : reasons[i]) {
      EXPECT_NE(voc.skipped[i].find(part), std::string::npos)
          << "skipped[" << i << "] = \"" << voc.skipped[i] << "\" lacks \"" << part << "\"";
      EXPECT_NE(warnings.find(part), std::string::npos) << "stderr lacks \"" << part << "\"";
    }
  }
  EXPECT_NE(warnings.find("skipping image 2009_000003"), std::string::npos) << warnings;
  EXPECT_EQ(voc_summary(voc), "VOC2012 bad: 1 images, 3 instances (skipped 5)");
}

TEST(VocBadInput, MissingLayoutIsNamed) {
  expect_error<VocError>([] { read_voc(kRoot + "/nowhere", "train"); },
                         {"voc_tiny/nowhere", "folder not found", "VOC2012 layout"});
  expect_error<VocError>([] { read_voc(kRoot, "test"); },
                         {"ImageSets/Segmentation/test.txt", "split list not found",
                          "splits found there: bad, train, val"});
  ScratchFolder folder("layout");
  fs::create_directories(folder.path / "ImageSets" / "Segmentation");
  std::ofstream(folder.path / "ImageSets" / "Segmentation" / "train.txt") << "2007_000032\n";
  expect_error<VocError>([&] { read_voc(folder.path.string(), "train"); },
                         {"JPEGImages", "folder not found"});
}

TEST(VocBadInput, SplitListProblemsAreNamedWithTheLine) {
  ScratchFolder folder("lists");
  const fs::path lists = folder.path / "ImageSets" / "Segmentation";
  fs::create_directories(lists);
  std::ofstream(lists / "twice.txt") << "2007_000032\n\n2007_000032\n";
  std::ofstream(lists / "spaces.txt") << "2007_000032 -1\n";
  expect_error<VocError>([&] { read_voc(folder.path.string(), "twice"); },
                         {"twice.txt:3", "listed twice"});
  expect_error<VocError>([&] { read_voc(folder.path.string(), "spaces"); },
                         {"spaces.txt:1", "one image id per line"});
}

TEST(VocReader, OtherIdFormsAreNumberedByLine) {
  ScratchFolder folder("ids");
  for (const char* sub : {"JPEGImages", "SegmentationObject", "SegmentationClass",
                          "ImageSets/Segmentation"}) {
    fs::create_directories(folder.path / sub);
  }
  for (const std::string name : {"first", "second"}) {
    fs::copy_file(kRoot + "/JPEGImages/2008_000008.jpg",
                  folder.path / "JPEGImages" / (name + ".jpg"));
    for (const char* sub : {"SegmentationObject", "SegmentationClass"}) {
      fs::copy_file(kRoot + "/" + sub + "/2008_000008.png", folder.path / sub / (name + ".png"));
    }
  }
  // Windows line endings and blank lines are tolerated.
  std::ofstream(folder.path / "ImageSets/Segmentation/mine.txt") << "second\r\n\r\nfirst\r\n";
  const VocDataset voc = read_voc(folder.path.string(), "mine");
  ASSERT_EQ(voc.voc_ids, (std::vector<std::string>{"second", "first"}));
  EXPECT_EQ(voc.dataset.images[0].id, 1);
  EXPECT_EQ(voc.dataset.images[1].id, 2);
  EXPECT_EQ(voc.dataset.images[1].file_name, "JPEGImages/first.jpg");
  ASSERT_EQ(voc.dataset.annotations.size(), 6u);
  EXPECT_EQ(voc.dataset.annotations[3].image_id, 2);
}

}  // namespace
}  // namespace wise::data
