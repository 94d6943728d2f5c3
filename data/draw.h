// Drawing on images with Cairo: translucent instance masks with a contour, boxes, text
// labels in a real font ("cat 0.93"), lines for plots, and PNG out. This is what the
// README's dataset picture, `segment`'s visualisations and later plots draw with.
//
// A Canvas holds a Cairo image surface (ARGB32) copied from a data::Image, or a blank
// one for plots. Coordinates are pixels with (0, 0) at the top-left corner of the
// top-left pixel, so pixel (x, y) covers [x, x+1] x [y, y+1]; a COCO box [x, y, w, h]
// spans exactly its pixels. Shapes and text are antialiased (Cairo's defaults); mask
// fills are pixel-exact (the mask is Cairo's alpha mask at identity transform).
// Text uses fontconfig's match for TextStyle::family (DejaVu Sans on Debian).
//
// Cairo stays inside draw.cpp: this header exposes no Cairo type.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/image.h"

namespace wise::data {

struct Color {
  uint8_t red = 0;
  uint8_t green = 0;
  uint8_t blue = 0;
};

// A fixed, distinct colour per index (Tableau's palette, then lighter partners),
// cycling after instance_color_count(); the same index always gives the same colour,
// so a picture is reproducible and one instance keeps its colour across pictures.
Color instance_color(int64_t index);
int64_t instance_color_count();

struct TextStyle {
  double font_size = 12;  // pixels (Cairo user units at identity transform)
  Color color{255, 255, 255};
  bool bold = true;
  std::string family = "DejaVu Sans";
};

// The label detectron2 and torchvision draw: "cat 0.93" (two decimals), or the
// name alone without a score.
std::string label_text(const std::string& name, std::optional<float> score = std::nullopt);

class Canvas {
 public:
  // A copy of `image` (gray, RGB or RGBA); throws std::invalid_argument naming the
  // size or channel count if the image is empty or its pixel buffer has the wrong size.
  explicit Canvas(const Image& image);
  // A blank canvas (plots): opaque `background`.
  Canvas(int64_t height, int64_t width, Color background = {255, 255, 255});
  ~Canvas();
  Canvas(Canvas&& other) noexcept;
  Canvas& operator=(Canvas&& other) noexcept;
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;

  int64_t height() const;
  int64_t width() const;

  // Blends `color` at `alpha` over the mask's pixels, then strokes its outline (the
  // pixel edges between mask and background) `contour_width` pixels wide, opaque,
  // centred on the edge; 0 draws no contour. The mask must have the canvas's size.
  void draw_mask(const Rle& mask, Color color, double alpha = 0.5, double contour_width = 2);
  // mask: height * width bytes, row-major, non-zero = foreground.
  void draw_mask(const uint8_t* mask, int64_t mask_height, int64_t mask_width, Color color,
                 double alpha = 0.5, double contour_width = 2);

  // A rectangle outline along box = [x, y, w, h] (COCO's bbox), centred on its edges.
  void draw_box(const std::array<double, 4>& box, Color color, double line_width = 2);
  // A filled rectangle [x, y, w, h] at `alpha` (legends, plot backgrounds, bars).
  void fill_rectangle(const std::array<double, 4>& rectangle, Color color, double alpha = 1);
  // Straight segments through `points` ({x, y} each): curves, axes, ticks.
  void draw_polyline(const std::vector<std::array<double, 2>>& points, Color color,
                     double line_width = 1.5);

  // {width, height} of the text's ink box at this style; height spans the font's
  // ascent + descent, so every label of a style has the same height.
  std::array<double, 2> text_size(const std::string& text, const TextStyle& style = {}) const;
  // Text whose box is placed at (x, y) by `align_x` (0 left edge at x, 0.5 centred,
  // 1 right edge) and `align_y` (0 top at y, 0.5 centred, 1 bottom).
  void draw_text(double x, double y, const std::string& text, const TextStyle& style = {},
                 double align_x = 0, double align_y = 0);
  // A tag: `text` on a filled `background` rectangle with a small margin, its
  // bottom-left corner at (x, y), i.e. just above a box's top-left corner; moved
  // inside the canvas where it would stick out (below y at the top edge).
  void draw_label(double x, double y, const std::string& text, Color background,
                  const TextStyle& style = {});

  // Paints `tile` with its top-left corner at pixel (x, y), each of its pixels a
  // scale x scale block (nearest neighbour: pixel-exact, for panels of maps and masks);
  // what falls outside the canvas is clipped. scale >= 1.
  void draw_canvas(const Canvas& tile, int64_t x, int64_t y, int scale = 1);
  // The canvas as RGB (alpha, if the source had any, is dropped, like stb's 4 -> 3).
  Image to_image() const;
  // PNG through data::save_png (atomic write; errors are ImageError naming the file).
  void save_png(const std::string& path) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

struct DrawOptions {
  bool masks = true;
  bool boxes = true;
  bool labels = true;
  double mask_alpha = 0.5;
  double contour_width = 2;
  double box_width = 2;
  float min_score = 0;           // detections below are not drawn
  bool color_by_category = false;  // default: one colour per instance (two cats differ)
};

// Every annotation of `image_id` in `dataset`: mask, box and a "name" label, coloured by
// the instance's position in the image (or its category).
void draw_annotations(Canvas& canvas, const Dataset& dataset, int64_t image_id,
                      const DrawOptions& options = {});
// Every detection of `image_id` with score >= min_score, highest score drawn last (on
// top); labels read "name 0.93", names from `categories` ("class <id>" if absent).
void draw_detections(Canvas& canvas, const std::vector<Detection>& detections,
                     const std::vector<Category>& categories, int64_t image_id,
                     const DrawOptions& options = {});

}  // namespace wise::data
