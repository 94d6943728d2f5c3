// Cairo canvas over a data::Image (see draw.h).
//
// Cairo's ARGB32 pixels are native-endian 32-bit words, alpha in the top byte and
// colours premultiplied by alpha; conversions to and from data::Image happen only in
// the constructor and to_image().
#include "data/draw.h"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "data/image_io.h"
#include "data/rle.h"

namespace wise::data {
namespace {

// Tableau 10 without its gray, then lighter partners from Tableau 20: distinct on
// photos, and the first few (what most images use) the most distinct.
constexpr std::array<Color, 15> kInstanceColors = {{
    {31, 119, 180},  {255, 127, 14},  {44, 160, 44},   {214, 39, 40},   {148, 103, 189},
    {140, 86, 75},   {227, 119, 194}, {188, 189, 34},  {23, 190, 207},  {174, 199, 232},
    {255, 187, 120}, {152, 223, 138}, {255, 152, 150}, {197, 176, 213}, {219, 219, 141},
}};

void set_source(cairo_t* cr, Color color, double alpha = 1) {
  cairo_set_source_rgba(cr, color.red / 255.0, color.green / 255.0, color.blue / 255.0, alpha);
}

void select_font(cairo_t* cr, const TextStyle& style) {
  cairo_select_font_face(cr, style.family.c_str(), CAIRO_FONT_SLANT_NORMAL,
                         style.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, style.font_size);
}

void check_size(int64_t height, int64_t width, const std::string& what) {
  // Cairo image surfaces are limited to 32767 pixels a side.
  if (height <= 0 || width <= 0 || height > 32767 || width > 32767) {
    throw std::invalid_argument(what + ": cannot draw on a " + std::to_string(height) + " x " +
                                std::to_string(width) +
                                " canvas (height x width must be 1..32767 each)");
  }
}

}  // namespace

struct Canvas::State {
  cairo_surface_t* surface = nullptr;
  cairo_t* cr = nullptr;
  int64_t height = 0;
  int64_t width = 0;

  State(int64_t h, int64_t w) : height(h), width(w) {
    surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, static_cast<int>(w),
                                         static_cast<int>(h));
    cr = cairo_create(surface);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
      const std::string reason = cairo_status_to_string(cairo_status(cr));
      cairo_destroy(cr);
      cairo_surface_destroy(surface);
      throw std::runtime_error("Canvas: cannot create a " + std::to_string(h) + " x " +
                               std::to_string(w) + " Cairo surface: " + reason);
    }
  }
  ~State() {
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  uint32_t* row(int64_t y) {
    return reinterpret_cast<uint32_t*>(cairo_image_surface_get_data(surface) +
                                       y * cairo_image_surface_get_stride(surface));
  }
};

Color instance_color(int64_t index) {
  const int64_t count = instance_color_count();
  return kInstanceColors[static_cast<size_t>(((index % count) + count) % count)];
}

int64_t instance_color_count() { return static_cast<int64_t>(kInstanceColors.size()); }

std::string label_text(const std::string& name, std::optional<float> score) {
  if (!score) return name;
  char number[32];
  std::snprintf(number, sizeof(number), "%.2f", static_cast<double>(*score));
  return name + " " + number;
}

Canvas::Canvas(const Image& image) {
  check_size(image.height, image.width, "Canvas");
  if (image.channels != 1 && image.channels != 3 && image.channels != 4) {
    throw std::invalid_argument("Canvas: image has " + std::to_string(image.channels) +
                                " channels, expected 1 (gray), 3 (RGB) or 4 (RGBA)");
  }
  const size_t expected = static_cast<size_t>(image.height * image.width * image.channels);
  if (image.pixels.size() != expected) {
    throw std::invalid_argument("Canvas: image has " + std::to_string(image.pixels.size()) +
                                " pixel bytes, expected height * width * channels = " +
                                std::to_string(expected));
  }
  state_ = std::make_unique<State>(image.height, image.width);
  cairo_surface_flush(state_->surface);
  for (int64_t y = 0; y < image.height; ++y) {
    const uint8_t* source = image.row(y);
    uint32_t* target = state_->row(y);
    for (int64_t x = 0; x < image.width; ++x, source += image.channels) {
      uint32_t red = source[0], green = source[0], blue = source[0], alpha = 255;
      if (image.channels >= 3) {
        green = source[1];
        blue = source[2];
      }
      if (image.channels == 4) {
        // Premultiply, rounding to nearest (as pixman does).
        alpha = source[3];
        red = (red * alpha + 127) / 255;
        green = (green * alpha + 127) / 255;
        blue = (blue * alpha + 127) / 255;
      }
      target[x] = (alpha << 24) | (red << 16) | (green << 8) | blue;
    }
  }
  cairo_surface_mark_dirty(state_->surface);
}

Canvas::Canvas(int64_t height, int64_t width, Color background) {
  check_size(height, width, "Canvas");
  state_ = std::make_unique<State>(height, width);
  set_source(state_->cr, background);
  cairo_paint(state_->cr);
}

Canvas::~Canvas() = default;
Canvas::Canvas(Canvas&& other) noexcept = default;
Canvas& Canvas::operator=(Canvas&& other) noexcept = default;

int64_t Canvas::height() const { return state_->height; }
int64_t Canvas::width() const { return state_->width; }

void Canvas::draw_mask(const Rle& mask, Color color, double alpha, double contour_width) {
  rle_check(mask, "draw_mask");
  const std::vector<uint8_t> dense = rle_decode(mask);
  draw_mask(dense.data(), mask.height, mask.width, color, alpha, contour_width);
}

void Canvas::draw_mask(const uint8_t* mask, int64_t mask_height, int64_t mask_width,
                       Color color, double alpha, double contour_width) {
  const int64_t H = state_->height, W = state_->width;
  if (mask_height != H || mask_width != W) {
    throw std::invalid_argument("draw_mask: mask is " + std::to_string(mask_height) + " x " +
                                std::to_string(mask_width) + ", expected the canvas size " +
                                std::to_string(H) + " x " + std::to_string(W));
  }
  cairo_t* cr = state_->cr;
  cairo_save(cr);

  // Fill: the mask as an A8 surface is Cairo's coverage, so each mask pixel receives
  // exactly `alpha` of the colour and every other pixel nothing.
  cairo_surface_t* coverage =
      cairo_image_surface_create(CAIRO_FORMAT_A8, static_cast<int>(W), static_cast<int>(H));
  const int stride = cairo_image_surface_get_stride(coverage);
  unsigned char* data = cairo_image_surface_get_data(coverage);
  for (int64_t y = 0; y < H; ++y) {
    for (int64_t x = 0; x < W; ++x) data[y * stride + x] = mask[y * W + x] != 0 ? 255 : 0;
  }
  cairo_surface_mark_dirty(coverage);
  set_source(cr, color, alpha);
  cairo_mask_surface(cr, coverage, 0, 0);
  cairo_surface_destroy(coverage);

  // Contour: every pixel edge between a mask pixel and a non-mask one (the canvas
  // border counts as outside), merged into maximal straight runs and stroked as one
  // path, so corners are painted once. Square caps close the corners of the outline.
  if (contour_width > 0) {
    const auto inside = [&](int64_t y, int64_t x) {
      return y >= 0 && y < H && x >= 0 && x < W && mask[y * W + x] != 0;
    };
    cairo_new_path(cr);
    for (int64_t y = 0; y <= H; ++y) {  // horizontal edges on the line between rows y-1, y
      for (int64_t x = 0; x < W;) {
        if (inside(y - 1, x) == inside(y, x)) { ++x; continue; }
        const int64_t start = x;
        while (x < W && inside(y - 1, x) != inside(y, x)) ++x;
        cairo_move_to(cr, static_cast<double>(start), static_cast<double>(y));
        cairo_line_to(cr, static_cast<double>(x), static_cast<double>(y));
      }
    }
    for (int64_t x = 0; x <= W; ++x) {  // vertical edges on the line between columns x-1, x
      for (int64_t y = 0; y < H;) {
        if (inside(y, x - 1) == inside(y, x)) { ++y; continue; }
        const int64_t start = y;
        while (y < H && inside(y, x - 1) != inside(y, x)) ++y;
        cairo_move_to(cr, static_cast<double>(x), static_cast<double>(start));
        cairo_line_to(cr, static_cast<double>(x), static_cast<double>(y));
      }
    }
    set_source(cr, color);
    cairo_set_line_width(cr, contour_width);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_SQUARE);
    cairo_stroke(cr);
  }
  cairo_restore(cr);
}

void Canvas::draw_box(const std::array<double, 4>& box, Color color, double line_width) {
  cairo_t* cr = state_->cr;
  cairo_save(cr);
  cairo_new_path(cr);
  cairo_rectangle(cr, box[0], box[1], box[2], box[3]);
  set_source(cr, color);
  cairo_set_line_width(cr, line_width);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
  cairo_stroke(cr);
  cairo_restore(cr);
}

void Canvas::fill_rectangle(const std::array<double, 4>& rectangle, Color color, double alpha) {
  cairo_t* cr = state_->cr;
  cairo_save(cr);
  cairo_new_path(cr);
  cairo_rectangle(cr, rectangle[0], rectangle[1], rectangle[2], rectangle[3]);
  set_source(cr, color, alpha);
  cairo_fill(cr);
  cairo_restore(cr);
}

void Canvas::draw_canvas(const Canvas& tile, int64_t x, int64_t y, int scale) {
  if (scale < 1) throw std::invalid_argument("Canvas::draw_canvas: scale must be >= 1, got " + std::to_string(scale));
  cairo_t* cr = state_->cr;
  cairo_surface_flush(tile.state_->surface);
  cairo_save(cr);
  cairo_translate(cr, static_cast<double>(x), static_cast<double>(y));
  cairo_scale(cr, scale, scale);
  cairo_set_source_surface(cr, tile.state_->surface, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_rectangle(cr, 0, 0, static_cast<double>(tile.width()), static_cast<double>(tile.height()));
  cairo_fill(cr);
  cairo_restore(cr);
}

void Canvas::draw_polyline(const std::vector<std::array<double, 2>>& points, Color color,
                           double line_width) {
  if (points.size() < 2) return;
  cairo_t* cr = state_->cr;
  cairo_save(cr);
  cairo_new_path(cr);
  cairo_move_to(cr, points[0][0], points[0][1]);
  for (size_t i = 1; i < points.size(); ++i) cairo_line_to(cr, points[i][0], points[i][1]);
  set_source(cr, color);
  cairo_set_line_width(cr, line_width);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  cairo_stroke(cr);
  cairo_restore(cr);
}

std::array<double, 2> Canvas::text_size(const std::string& text, const TextStyle& style) const {
  cairo_t* cr = state_->cr;
  cairo_save(cr);
  select_font(cr, style);
  cairo_text_extents_t text_extents;
  cairo_font_extents_t font_extents;
  cairo_text_extents(cr, text.c_str(), &text_extents);
  cairo_font_extents(cr, &font_extents);
  cairo_restore(cr);
  // Advance width (not the ink's), so trailing spaces and letter spacing count.
  return {text_extents.x_advance, font_extents.ascent + font_extents.descent};
}

void Canvas::draw_text(double x, double y, const std::string& text, const TextStyle& style,
                       double align_x, double align_y) {
  const std::array<double, 2> size = text_size(text, style);
  cairo_t* cr = state_->cr;
  cairo_save(cr);
  select_font(cr, style);
  cairo_font_extents_t font_extents;
  cairo_font_extents(cr, &font_extents);
  const double left = x - align_x * size[0];
  const double top = y - align_y * size[1];
  cairo_move_to(cr, left, top + font_extents.ascent);  // Cairo places text by its baseline
  set_source(cr, style.color);
  cairo_show_text(cr, text.c_str());
  cairo_restore(cr);
}

void Canvas::draw_label(double x, double y, const std::string& text, Color background,
                        const TextStyle& style) {
  const std::array<double, 2> size = text_size(text, style);
  const double margin = std::max(1.0, std::round(style.font_size * 0.15));
  const double tag_width = size[0] + 2 * margin;
  const double tag_height = size[1] + 2 * margin;
  double left = x;
  double top = y - tag_height;
  if (top < 0) top = y;  // no room above: just below the point instead
  left = std::min(left, static_cast<double>(state_->width) - tag_width);
  left = std::max(left, 0.0);
  top = std::min(top, static_cast<double>(state_->height) - tag_height);
  top = std::max(top, 0.0);
  fill_rectangle({left, top, tag_width, tag_height}, background);
  draw_text(left + margin, top + margin, text, style);
}

Image Canvas::to_image() const {
  cairo_surface_flush(state_->surface);
  Image image;
  image.height = state_->height;
  image.width = state_->width;
  image.channels = 3;
  image.pixels.resize(static_cast<size_t>(image.height * image.width * 3));
  for (int64_t y = 0; y < image.height; ++y) {
    const uint32_t* source = state_->row(y);
    uint8_t* target = image.row(y);
    for (int64_t x = 0; x < image.width; ++x) {
      const uint32_t pixel = source[x];
      const uint32_t alpha = pixel >> 24;
      uint32_t channel[3] = {(pixel >> 16) & 255, (pixel >> 8) & 255, pixel & 255};
      for (int c = 0; c < 3; ++c) {
        // Undo the premultiplication (exact when opaque, the common case).
        if (alpha != 255) channel[c] = alpha == 0 ? 0 : (channel[c] * 255 + alpha / 2) / alpha;
        target[3 * x + c] = static_cast<uint8_t>(std::min<uint32_t>(channel[c], 255));
      }
    }
  }
  return image;
}

void Canvas::save_png(const std::string& path) const { data::save_png(to_image(), path); }

void draw_annotations(Canvas& canvas, const Dataset& dataset, int64_t image_id,
                      const DrawOptions& options) {
  std::map<int64_t, std::string> names;
  for (const Category& category : dataset.categories) names[category.id] = category.name;
  std::vector<const Annotation*> annotations;
  for (const Annotation& annotation : dataset.annotations) {
    if (annotation.image_id == image_id) annotations.push_back(&annotation);
  }
  // Masks first, then boxes and labels, so no mask covers another instance's label.
  for (size_t i = 0; i < annotations.size(); ++i) {
    const Annotation& annotation = *annotations[i];
    const Color color = instance_color(
        options.color_by_category ? annotation.category_id - 1 : static_cast<int64_t>(i));
    if (options.masks) {
      canvas.draw_mask(annotation.segmentation, color, options.mask_alpha, options.contour_width);
    }
  }
  for (size_t i = 0; i < annotations.size(); ++i) {
    const Annotation& annotation = *annotations[i];
    const Color color = instance_color(
        options.color_by_category ? annotation.category_id - 1 : static_cast<int64_t>(i));
    if (options.boxes) canvas.draw_box(annotation.bbox, color, options.box_width);
    if (options.labels) {
      const auto name = names.find(annotation.category_id);
      canvas.draw_label(annotation.bbox[0], annotation.bbox[1],
                        name != names.end() ? name->second
                                            : "class " + std::to_string(annotation.category_id),
                        color);
    }
  }
}

void draw_detections(Canvas& canvas, const std::vector<Detection>& detections,
                     const std::vector<Category>& categories, int64_t image_id,
                     const DrawOptions& options) {
  std::map<int64_t, std::string> names;
  for (const Category& category : categories) names[category.id] = category.name;
  std::vector<const Detection*> kept;
  for (const Detection& detection : detections) {
    if (detection.image_id == image_id && detection.score >= options.min_score) {
      kept.push_back(&detection);
    }
  }
  // Best first gets the first colour; drawn in reverse so the best ends on top.
  std::stable_sort(kept.begin(), kept.end(),
                   [](const Detection* a, const Detection* b) { return a->score > b->score; });
  const auto color_of = [&](size_t rank) {
    return instance_color(options.color_by_category ? kept[rank]->category_id - 1
                                                    : static_cast<int64_t>(rank));
  };
  for (size_t rank = kept.size(); rank-- > 0;) {
    if (options.masks) {
      canvas.draw_mask(kept[rank]->segmentation, color_of(rank), options.mask_alpha,
                       options.contour_width);
    }
  }
  for (size_t rank = kept.size(); rank-- > 0;) {
    const Detection& detection = *kept[rank];
    // A results file may omit the box (all zeros): take the mask's.
    const bool has_box = detection.bbox[2] > 0 || detection.bbox[3] > 0;
    const std::array<double, 4> box =
        has_box ? detection.bbox : rle_to_bbox(detection.segmentation);
    if (options.boxes) canvas.draw_box(box, color_of(rank), options.box_width);
    if (options.labels) {
      const auto name = names.find(detection.category_id);
      canvas.draw_label(box[0], box[1],
                        label_text(name != names.end()
                                       ? name->second
                                       : "class " + std::to_string(detection.category_id),
                                   detection.score),
                        color_of(rank));
    }
  }
}

}  // namespace wise::data
