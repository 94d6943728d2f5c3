// Drawing (data/draw.h): the pixels Cairo produces for masks, contours, boxes and
// labels, against values computed by hand from the blending formula
// (out = alpha * colour + (1 - alpha) * image, within Cairo's rounding of 1) and from
// the geometry (a stroke of width w centred on a pixel edge covers w / 2 pixels each
// side).
#include "data/draw.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "data/image_io.h"
#include "data/rle.h"
#include "data/voc.h"

namespace wise::data {
namespace {

namespace fs = std::filesystem;

Image uniform_image(int64_t height, int64_t width, uint8_t value, int64_t channels = 3) {
  Image image;
  image.height = height;
  image.width = width;
  image.channels = channels;
  image.pixels.assign(static_cast<size_t>(height * width * channels), value);
  return image;
}

std::array<int, 3> rgb_at(const Image& image, int64_t y, int64_t x) {
  const uint8_t* p = image.row(y) + x * image.channels;
  return {p[0], p[1], p[2]};
}

void expect_rgb_near(const Image& image, int64_t y, int64_t x, std::array<int, 3> expected,
                     int tolerance = 1) {
  const auto found = rgb_at(image, y, x);
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(found[c], expected[c], tolerance)
        << "pixel (y " << y << ", x " << x << ") channel " << c;
  }
}

// A 40 x 40 mask holding the square rows 10..29, columns 10..29.
std::vector<uint8_t> square_mask() {
  std::vector<uint8_t> mask(40 * 40, 0);
  for (int y = 10; y < 30; ++y)
    for (int x = 10; x < 30; ++x) mask[y * 40 + x] = 1;
  return mask;
}

TEST(DrawColors, FixedDistinctAndCycling) {
  std::set<std::array<int, 3>> seen;
  for (int64_t i = 0; i < instance_color_count(); ++i) {
    const Color c = instance_color(i);
    seen.insert({c.red, c.green, c.blue});
  }
  EXPECT_EQ(static_cast<int64_t>(seen.size()), instance_color_count());
  EXPECT_GE(instance_color_count(), 10);
  const Color first = instance_color(0), again = instance_color(instance_color_count());
  EXPECT_EQ(std::make_tuple(first.red, first.green, first.blue),
            std::make_tuple(again.red, again.green, again.blue));
  EXPECT_EQ(label_text("cat", 0.934f), "cat 0.93");
  EXPECT_EQ(label_text("person", 1.0f), "person 1.00");
  EXPECT_EQ(label_text("dog"), "dog");
}

TEST(DrawCanvas, ImageRoundTripsExactly) {
  Image image = uniform_image(5, 6, 0);
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>(i * 7);
  const Canvas canvas(image);
  EXPECT_EQ(canvas.height(), 5);
  EXPECT_EQ(canvas.width(), 6);
  EXPECT_EQ(canvas.to_image().pixels, image.pixels);
  // Gray is replicated into RGB; an opaque RGBA keeps its colours.
  Image gray = uniform_image(2, 2, 0, 1);
  gray.pixels = {0, 90, 180, 255};
  const Image from_gray = Canvas(gray).to_image();
  EXPECT_EQ(from_gray.channels, 3);
  EXPECT_EQ(rgb_at(from_gray, 1, 0), (std::array<int, 3>{180, 180, 180}));
  Image rgba = uniform_image(1, 1, 0, 4);
  rgba.pixels = {10, 20, 30, 255};
  EXPECT_EQ(rgb_at(Canvas(rgba).to_image(), 0, 0), (std::array<int, 3>{10, 20, 30}));
  // A blank canvas is its background.
  EXPECT_EQ(rgb_at(Canvas(3, 4, Color{1, 2, 3}).to_image(), 2, 3), (std::array<int, 3>{1, 2, 3}));
}

// draw_canvas: every tile pixel becomes a scale x scale block at (x, y), exactly; the
// rest of the canvas is untouched and what falls outside is clipped.
TEST(DrawCanvas, TileIsScaledPixelExactly) {
  Image small{2, 3, 3, {}};
  for (int i = 0; i < 18; ++i) small.pixels.push_back(static_cast<uint8_t>(10 * i + 5));
  const Canvas tile(small);
  Canvas canvas(10, 9, {1, 2, 3});
  canvas.draw_canvas(tile, 2, 1, 3);
  const Image out = canvas.to_image();
  for (int64_t y = 0; y < 10; ++y) {
    for (int64_t x = 0; x < 9; ++x) {
      const bool inside = y >= 1 && y < 7 && x >= 2 && x < 11;
      for (int c = 0; c < 3; ++c) {
        const uint8_t expected = inside ? small.pixels[static_cast<size_t>((((y - 1) / 3) * 3 + (x - 2) / 3) * 3 + c)]
                                        : static_cast<uint8_t>(c + 1);
        ASSERT_EQ(out.row(y)[x * 3 + c], expected) << "pixel (" << x << ", " << y << ") channel " << c;
      }
    }
  }
  EXPECT_THROW(canvas.draw_canvas(tile, 0, 0, 0), std::invalid_argument);
}

TEST(DrawMask, FillBlendsAndContourIsOpaque) {
  Canvas canvas(uniform_image(40, 40, 100));
  const Color orange{200, 50, 0};
  const auto mask = square_mask();
  canvas.draw_mask(mask.data(), 40, 40, orange, 0.5, 2);
  const Image out = canvas.to_image();
  // Inside, away from the outline: 0.5 * colour + 0.5 * 100.
  expect_rgb_near(out, 20, 20, {150, 75, 50});
  expect_rgb_near(out, 12, 27, {150, 75, 50});
  // Outside, away from the outline: untouched.
  EXPECT_EQ(rgb_at(out, 2, 2), (std::array<int, 3>{100, 100, 100}));
  EXPECT_EQ(rgb_at(out, 35, 20), (std::array<int, 3>{100, 100, 100}));
  // The 2-pixel contour is centred on the square's edges: on the top edge (y = 10) it
  // covers rows 9 and 10 fully, opaque; row 8 and row 11 are not touched by it.
  expect_rgb_near(out, 10, 20, {200, 50, 0});
  expect_rgb_near(out, 9, 20, {200, 50, 0});
  EXPECT_EQ(rgb_at(out, 8, 20), (std::array<int, 3>{100, 100, 100}));
  expect_rgb_near(out, 11, 20, {150, 75, 50});
  // Right edge (x = 30): columns 29 and 30; and the corner is closed (square caps).
  expect_rgb_near(out, 20, 30, {200, 50, 0});
  expect_rgb_near(out, 20, 29, {200, 50, 0});
  expect_rgb_near(out, 9, 9, {200, 50, 0});
  expect_rgb_near(out, 30, 30, {200, 50, 0});
}

TEST(DrawMask, RleAndDenseDrawTheSame) {
  const auto mask = square_mask();
  Canvas dense(uniform_image(40, 40, 30));
  Canvas from_rle(uniform_image(40, 40, 30));
  dense.draw_mask(mask.data(), 40, 40, instance_color(3), 0.4, 1.5);
  from_rle.draw_mask(rle_encode(mask, 40, 40), instance_color(3), 0.4, 1.5);
  EXPECT_EQ(dense.to_image().pixels, from_rle.to_image().pixels);
}

TEST(DrawMask, NoContourLeavesTheEdgeBlended) {
  Canvas canvas(uniform_image(40, 40, 0));
  const auto mask = square_mask();
  canvas.draw_mask(mask.data(), 40, 40, Color{255, 255, 255}, 0.25, 0);
  const Image out = canvas.to_image();
  expect_rgb_near(out, 10, 10, {64, 64, 64});  // 0.25 * 255
  EXPECT_EQ(rgb_at(out, 9, 10), (std::array<int, 3>{0, 0, 0}));
}

TEST(DrawBox, StrokeIsCentredOnTheBoxEdges) {
  Canvas canvas(30, 40);  // white
  canvas.draw_box({5, 5, 20, 10}, Color{0, 0, 255}, 2);
  const Image out = canvas.to_image();
  expect_rgb_near(out, 4, 15, {0, 0, 255});   // top edge y = 5: rows 4 and 5
  expect_rgb_near(out, 5, 15, {0, 0, 255});
  expect_rgb_near(out, 14, 15, {0, 0, 255});  // bottom edge y = 15: rows 14 and 15
  expect_rgb_near(out, 10, 24, {0, 0, 255});  // right edge x = 25: columns 24 and 25
  EXPECT_EQ(rgb_at(out, 10, 15), (std::array<int, 3>{255, 255, 255}));  // inside
  EXPECT_EQ(rgb_at(out, 2, 15), (std::array<int, 3>{255, 255, 255}));   // outside
}

TEST(DrawText, RendersAntialiasedGlyphsInsideTheTag) {
  Canvas canvas(60, 120, Color{0, 0, 0});
  const TextStyle style;  // white, bold, 12 px
  const auto short_size = canvas.text_size("cat 0.93", style);
  const auto long_size = canvas.text_size("person 0.93", style);
  EXPECT_GT(short_size[0], 20);           // a real font's advance, several pixels a glyph
  EXPECT_GT(long_size[0], short_size[0]);
  EXPECT_DOUBLE_EQ(long_size[1], short_size[1]);  // one height per style
  EXPECT_GT(short_size[1], 10);
  EXPECT_LT(short_size[1], 20);

  const Color tag{214, 39, 40};
  canvas.draw_label(10, 40, "cat 0.93", tag, style);
  const Image out = canvas.to_image();
  // The tag sits above (10, 40); count its pixels: background, white ink, and the
  // antialiased blends in between that only a real rasterized font produces.
  int background = 0, ink = 0, blended = 0, outside_changed = 0;
  for (int64_t y = 0; y < 60; ++y) {
    for (int64_t x = 0; x < 120; ++x) {
      const auto p = rgb_at(out, y, x);
      const bool in_tag = y >= 40 - short_size[1] - 6 && y < 40 && x >= 10 &&
                          x < 10 + short_size[0] + 6;
      if (!in_tag) {
        outside_changed += p != std::array<int, 3>{0, 0, 0};
        continue;
      }
      if (p == std::array<int, 3>{tag.red, tag.green, tag.blue}) ++background;
      else if (p == std::array<int, 3>{255, 255, 255}) ++ink;
      else if (p[1] > tag.green && p[1] < 255) ++blended;
    }
  }
  EXPECT_GT(background, 50);
  EXPECT_GT(ink, 5);
  EXPECT_GT(blended, 10);
  EXPECT_EQ(outside_changed, 0);
}

TEST(DrawText, LabelAtTheTopEdgeMovesInside) {
  Canvas canvas(40, 40, Color{0, 0, 0});
  canvas.draw_label(35, 0, "dog", Color{0, 255, 0});
  const Image out = canvas.to_image();
  // Below y = 0 and pulled left so it ends at the right edge: the top-right pixel is tag.
  EXPECT_EQ(rgb_at(out, 0, 39), (std::array<int, 3>{0, 255, 0}));
  EXPECT_EQ(rgb_at(out, 39, 0), (std::array<int, 3>{0, 0, 0}));
}

TEST(DrawPlot, PolylineAndRectangle) {
  Canvas canvas(20, 20);
  canvas.fill_rectangle({2, 2, 4, 4}, Color{10, 20, 30});
  canvas.draw_polyline({{0, 15}, {20, 15}}, Color{0, 0, 0}, 2);
  const Image out = canvas.to_image();
  EXPECT_EQ(rgb_at(out, 3, 3), (std::array<int, 3>{10, 20, 30}));
  EXPECT_EQ(rgb_at(out, 6, 6), (std::array<int, 3>{255, 255, 255}));
  expect_rgb_near(out, 14, 10, {0, 0, 0});
  expect_rgb_near(out, 15, 10, {0, 0, 0});
  EXPECT_EQ(rgb_at(out, 12, 10), (std::array<int, 3>{255, 255, 255}));
}

TEST(DrawPng, SavedFileLoadsBackAsTheCanvas) {
  const fs::path path = fs::temp_directory_path() /
                        ("wise_draw_" + std::to_string(::getpid()) + ".png");
  Canvas canvas(uniform_image(24, 32, 80));
  canvas.draw_box({3, 3, 10, 10}, instance_color(0));
  canvas.draw_label(3, 3, label_text("cat", 0.5f), instance_color(0));
  canvas.save_png(path.string());
  const Image back = load_image(path.string());
  fs::remove(path);
  EXPECT_EQ(back.pixels, canvas.to_image().pixels);
}

TEST(DrawDataset, AnnotationsOfOneVocImage) {
  const VocDataset voc = read_voc(std::string(WISE_TEST_DATA_DIR) + "/voc_tiny", "train");
  const ImageInfo& info = voc.dataset.images[0];  // two cats and a person
  Canvas canvas(uniform_image(info.height, info.width, 0));
  DrawOptions options;
  options.labels = false;
  options.boxes = false;
  options.contour_width = 0;
  draw_annotations(canvas, voc.dataset, info.id, options);
  const Image out = canvas.to_image();
  // Each instance gets its own colour at half strength; background stays black.
  for (size_t i = 0; i < 3; ++i) {
    const Annotation& annotation = voc.dataset.annotations[i];
    const auto mask = rle_decode(annotation.segmentation);
    const Color c = instance_color(static_cast<int64_t>(i));
    for (int64_t p = 0; p < info.height * info.width; ++p) {
      if (mask[p]) {
        expect_rgb_near(out, p / info.width, p % info.width,
                        {(c.red + 1) / 2, (c.green + 1) / 2, (c.blue + 1) / 2});
        break;  // one pixel per instance is enough here
      }
    }
  }
  EXPECT_EQ(rgb_at(out, 0, 0), (std::array<int, 3>{0, 0, 0}));

  // Detections: below min_score nothing is drawn; a zero box falls back to the mask's.
  Canvas detections_canvas(uniform_image(info.height, info.width, 0));
  std::vector<Detection> detections(2);
  detections[0] = {info.id, 8, 0.9f, voc.dataset.annotations[0].segmentation, {}};
  detections[1] = {info.id, 15, 0.1f, voc.dataset.annotations[2].segmentation, {}};
  DrawOptions detection_options;
  detection_options.min_score = 0.5f;
  detection_options.labels = false;  // a tag would cover the pixels checked below
  draw_detections(detections_canvas, detections, voc.dataset.categories, info.id,
                  detection_options);
  const Image drawn = detections_canvas.to_image();
  EXPECT_NE(rgb_at(drawn, 10, 10), (std::array<int, 3>{0, 0, 0}));  // inside the first cat
  EXPECT_EQ(rgb_at(drawn, 20, 35), (std::array<int, 3>{0, 0, 0}));  // the person, dropped
}

TEST(DrawBadInput, SizesAreChecked) {
  EXPECT_THROW(Canvas(Image{}), std::invalid_argument);
  Image short_image = uniform_image(2, 2, 0);
  short_image.pixels.pop_back();
  try {
    Canvas canvas(short_image);
    ADD_FAILURE() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("11 pixel bytes"), std::string::npos) << error.what();
  }
  EXPECT_THROW(Canvas(0, 5), std::invalid_argument);
  Canvas canvas(10, 10);
  try {
    canvas.draw_mask(rle_empty(10, 12), instance_color(0));
    ADD_FAILURE() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("mask is 10 x 12, expected the canvas size 10 x 10"),
              std::string::npos)
        << error.what();
  }
  Rle broken = rle_empty(10, 10);
  broken.counts = {5};
  EXPECT_THROW(canvas.draw_mask(broken, instance_color(0)), std::invalid_argument);
  EXPECT_THROW(canvas.save_png("/nonexistent-folder/x.png"), ImageError);
}

}  // namespace
}  // namespace wise::data
