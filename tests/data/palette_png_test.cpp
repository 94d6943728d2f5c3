// Palette PNGs (data/palette_png.h): label maps written by PIL (make_voc_fixture.py)
// read back index for index, our own files read back by libpng and by stb (an
// independent decoder, which expands indices to the palette's colours), and bad files.
#include "data/palette_png.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>

#include "data/image_io.h"
#include "tests/support/oversized_png.h"

namespace wise::data {
namespace {

namespace fs = std::filesystem;

std::string image_file(const std::string& name) {
  return std::string(WISE_TEST_DATA_DIR) + "/images/" + name;
}

nlohmann::json expected_images() {
  std::ifstream stream(image_file("expected.json"));
  if (!stream) throw std::runtime_error("missing " + image_file("expected.json"));
  return nlohmann::json::parse(stream);
}

struct ScratchFolder {
  fs::path path;
  explicit ScratchFolder(const std::string& name)
      : path(fs::temp_directory_path() /
             ("wise_palette_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchFolder() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

void expect_image_error(const std::function<void()>& action,
                        const std::vector<std::string>& parts) {
  try {
    action();
    ADD_FAILURE() << "expected ImageError mentioning \"" << parts.front() << "\", got none";
  } catch (const ImageError& error) {
    const std::string message = error.what();
    for (const auto& part : parts) {
      EXPECT_NE(message.find(part), std::string::npos)
          << "message \"" << message << "\" lacks \"" << part << "\"";
    }
  }
}

TEST(PaletteVoc, MatchesTheDevkitColours) {
  const auto palette = voc_palette();
  ASSERT_EQ(palette.size(), 256u);
  // Values from the devkit's VOClabelcolormap / the VOC colour legend.
  using Rgb = std::array<uint8_t, 3>;
  EXPECT_EQ(palette[0], (Rgb{0, 0, 0}));
  EXPECT_EQ(palette[1], (Rgb{128, 0, 0}));        // aeroplane
  EXPECT_EQ(palette[2], (Rgb{0, 128, 0}));        // bicycle
  EXPECT_EQ(palette[8], (Rgb{64, 0, 0}));         // cat
  EXPECT_EQ(palette[15], (Rgb{192, 128, 128}));   // person
  EXPECT_EQ(palette[20], (Rgb{0, 64, 128}));      // tvmonitor
  EXPECT_EQ(palette[255], (Rgb{224, 224, 192}));  // void
  // And all 256 against the palette PIL stored from the generator's own implementation.
  EXPECT_EQ(read_palette_png(image_file("labels_voc.png")).palette, palette);
}

TEST(PaletteRead, EightBitVocLabelMap) {
  const auto expected = expected_images();
  const IndexedImage labels = read_palette_png(image_file("labels_voc.png"));
  EXPECT_EQ(labels.height, 6);
  EXPECT_EQ(labels.width, 7);
  EXPECT_EQ(labels.indices, expected["labels_voc"].get<std::vector<uint8_t>>());
}

TEST(PaletteRead, FourBitIndicesAreUnpacked) {
  const auto expected = expected_images();
  const IndexedImage labels = read_palette_png(image_file("labels_4bit.png"));
  EXPECT_EQ(labels.indices, expected["labels_4bit"].get<std::vector<uint8_t>>());
  ASSERT_EQ(labels.palette.size(), 16u);
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(labels.palette[i], (std::array<uint8_t, 3>{uint8_t(16 * i), uint8_t(255 - 16 * i),
                                                         uint8_t(7 * i)}));
  }
}

TEST(PaletteRead, EightBitGrayIsReadAsIndices) {
  const auto expected = expected_images();
  const IndexedImage labels = read_palette_png(image_file("labels_gray.png"));
  EXPECT_EQ(labels.indices, expected["labels_voc"].get<std::vector<uint8_t>>());
  EXPECT_TRUE(labels.palette.empty());
}

TEST(PaletteWrite, RoundTripsAndStbSeesThePaletteColours) {
  ScratchFolder folder("round_trip");
  IndexedImage labels;
  labels.height = 13;
  labels.width = 17;
  std::mt19937 rng(255);
  for (int64_t i = 0; i < 13 * 17; ++i) labels.indices.push_back(static_cast<uint8_t>(rng()));
  labels.indices[0] = 255;  // void
  write_palette_png(labels, folder.file("labels.png"));  // empty palette: VOC's

  const IndexedImage back = read_palette_png(folder.file("labels.png"));
  EXPECT_EQ(back.height, 13);
  EXPECT_EQ(back.width, 17);
  EXPECT_EQ(back.indices, labels.indices);
  EXPECT_EQ(back.palette, voc_palette());

  // stb expands a palette PNG to its colours: an independent check of the file.
  const Image colours = load_image(folder.file("labels.png"), 3);
  const auto palette = voc_palette();
  for (size_t i = 0; i < labels.indices.size(); ++i) {
    for (int c = 0; c < 3; ++c) {
      ASSERT_EQ(colours.pixels[3 * i + c], palette[labels.indices[i]][c]) << "pixel " << i;
    }
  }
}

TEST(PaletteWrite, CustomPaletteIsKept) {
  ScratchFolder folder("custom");
  IndexedImage labels;
  labels.height = 2;
  labels.width = 3;
  labels.indices = {0, 1, 2, 2, 1, 0};
  labels.palette = {{{10, 20, 30}}, {{40, 50, 60}}, {{70, 80, 90}}};
  write_palette_png(labels, folder.file("custom.png"));
  const IndexedImage back = read_palette_png(folder.file("custom.png"));
  EXPECT_EQ(back.indices, labels.indices);
  EXPECT_EQ(back.palette, labels.palette);
}

TEST(PaletteBadInput, UnreadableFilesNameTheFile) {
  expect_image_error([] { read_palette_png(image_file("missing_labels.png")); },
                     {"missing_labels.png", "No such file or directory"});
  expect_image_error([] { read_palette_png(image_file("truncated_labels.png")); },
                     {"truncated_labels.png", "truncated"});
  expect_image_error([] { read_palette_png(image_file("not_an_image.jpg")); },
                     {"not_an_image.jpg", "not a PNG"});
  expect_image_error([] { read_palette_png(image_file("empty.png")); }, {"empty.png", "not a PNG"});
  expect_image_error([] { read_palette_png(image_file("rgb.png")); },
                     {"rgb.png", "expected a palette PNG", "colour type 2"});
}

// A few dozen bytes claiming 16,384 x 12,288 indices: a named error from the header,
// not a 200 MB allocation; decode_palette_png reads from memory as read_palette_png does.
TEST(PaletteBadInput, AHeaderClaimingTooManyPixelsIsRefusedBeforeDecoding) {
  const std::string png = testing::png_claiming(16384, 12288, 3);
  expect_image_error(
      [&] { decode_palette_png(reinterpret_cast<const uint8_t*>(png.data()), png.size(), "huge_labels.png"); },
      {"huge_labels.png", "16384 x 12288 pixels", "more than wise decodes"});
  // Within the limit the same construction reaches libpng's data check instead.
  const std::string small = testing::png_claiming(4, 3, 3);
  expect_image_error(
      [&] { decode_palette_png(reinterpret_cast<const uint8_t*>(small.data()), small.size(), "small_labels.png"); },
      {"small_labels.png", "cannot read palette PNG"});
}

TEST(PaletteBadInput, WritingChecksTheLabelMap) {
  ScratchFolder folder("bad_write");
  IndexedImage labels;
  labels.height = 2;
  labels.width = 2;
  labels.indices = {0, 1, 2};
  expect_image_error([&] { write_palette_png(labels, folder.file("a.png")); },
                     {"a.png", "3 indices", "= 4"});
  labels.indices = {0, 1, 2, 3};
  labels.palette = {{{0, 0, 0}}, {{1, 1, 1}}};
  expect_image_error([&] { write_palette_png(labels, folder.file("b.png")); },
                     {"b.png", "index 3", "2-entry palette"});
  labels.palette.assign(257, {{0, 0, 0}});
  expect_image_error([&] { write_palette_png(labels, folder.file("c.png")); },
                     {"c.png", "at most 256", "257"});
  labels.height = 0;
  expect_image_error([&] { write_palette_png(labels, folder.file("d.png")); }, {"d.png", "0 x 2"});
  EXPECT_FALSE(fs::exists(folder.file("b.png")));
}

}  // namespace
}  // namespace wise::data
