// The drawing half of the synthetic shapes dataset (data/shapes/shapes.h composes scenes from
// it): a seeded random stream, the shape geometry (which pixels a shape owns), and
// painting on a float RGB canvas (textured background, clutter, antialiased shapes,
// pixel noise).
//
// Pixel convention: pixel (x, y) covers [x, x + 1) x [y, y + 1) and its centre is
// (x + 0.5, y + 0.5). A shape's mask is the set of pixels whose centre it contains
// (shape_contains), exactly; antialiasing changes colours, never masks: paint_shape
// blends a pixel by its coverage, clamped to >= 1/2 inside the mask and < 1/2 outside,
// so the mask is exactly the pixels that are mostly the object's colour.
//
// Everything is a pure function of its inputs and the random stream, with no threads
// inside: an image is reproducible from (seed, index) at any thread count. The shapes
// sources are compiled with -ffp-contract=off so that FMA contraction under -march=native
// cannot move a pixel between machines.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/image.h"
#include "data/shapes/shapes_config.h"

namespace wise::data {

// SplitMix64 (Steele, Lea & Flood 2014): one 64-bit state, full period, passes BigCrush,
// and its output does not depend on the standard library (std:: distributions differ
// between implementations, which would make the dataset depend on the compiler).
class ShapesRng {
 public:
  // A stream for image `index` of the split seeded `seed`; streams of different
  // (seed, index) pairs are independent for practical purposes.
  ShapesRng(uint64_t seed, int64_t index);

  uint64_t next();
  double uniform();                                    // [0, 1), 53 bits
  double uniform(double low, double high);             // [low, high)
  double log_uniform(double low, double high);         // log-uniform in [low, high)
  int64_t integer(int64_t low, int64_t high);          // uniform in [low, high], inclusive
  bool chance(double probability);
  // Approximately standard normal (Irwin-Hall sum of four 16-bit uniforms, rescaled):
  // one draw per call and no transcendental functions, so the noise of a 192 x 192 image
  // costs ~0.1 ms.
  double normal();

 private:
  uint64_t state_;
};

enum class ShapeKind { circle, square, triangle, star, cross, ring };

// Names in ShapeKind order: "circle", "square", "triangle", "star", "cross", "ring".
const std::vector<std::string>& shape_kind_names();
bool is_shape_kind_name(const std::string& name);
ShapeKind shape_kind_from_name(const std::string& name);  // throws std::invalid_argument

// A shape placed in the image. The shape is defined in local coordinates (u, v) on the
// square [-1, 1]^2 (a circle is u^2 + v^2 <= 1), then stretched (u by `stretch`, v by
// 1 / stretch), scaled by size / 2, rotated by `angle` and moved to the centre. Build it
// with make_shape_geometry, which fills the derived fields; moving the centre afterwards
// is fine.
struct ShapeGeometry {
  ShapeKind kind = ShapeKind::circle;
  double center_x = 0;
  double center_y = 0;
  double size = 0;     // pixels
  double angle = 0;    // radians
  double stretch = 1;  // aspect: width / height = stretch^2
  // Kind-specific: star inner/outer radius ratio, ring inner/outer radius ratio, cross
  // arm half width (all in local units); unused otherwise.
  double detail = 0;

  // Derived by make_shape_geometry.
  double cos_angle = 1, sin_angle = 0;
  double inverse_scale_u = 1, inverse_scale_v = 1;  // pixels -> local units
  double bounding_radius = 0;                       // pixels, from the centre
  int vertex_count = 0;                             // triangle 3, star 10
  std::array<double, 20> vertices{};                // local (u, v) pairs
};

ShapeGeometry make_shape_geometry(ShapeKind kind, double center_x, double center_y, double size,
                                  double angle, double stretch, double detail);
// Draws angle, stretch (log-uniform in [1/sqrt(max_aspect_ratio), sqrt(...)]) and the
// kind's detail; the centre is left at 0 for the caller to place.
ShapeGeometry random_shape_geometry(ShapeKind kind, double size, double max_aspect_ratio,
                                    ShapesRng& rng);

// Whether the point (x, y), in pixel coordinates, is inside the shape.
bool shape_contains(const ShapeGeometry& shape, double x, double y);

// Half-open pixel rectangle [x0, x1) x [y0, y1).
struct PixelBox {
  int64_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool empty() const { return x1 <= x0 || y1 <= y0; }
};
// Every pixel whose centre the shape may contain, unclipped, and clipped to an image.
PixelBox shape_pixel_box(const ShapeGeometry& shape);
PixelBox shape_pixel_box(const ShapeGeometry& shape, int64_t height, int64_t width);
// Number of pixel centres inside the shape on the unbounded pixel grid: the area the
// shape would have if nothing hid it and the image did not clip it.
int64_t shape_area(const ShapeGeometry& shape);

// A float RGB image (values on the 0..255 scale, not yet clamped), row-major, interleaved.
struct ShapesCanvas {
  int64_t height = 0;
  int64_t width = 0;
  std::vector<float> rgb;  // height * width * 3

  ShapesCanvas(int64_t h, int64_t w) : height(h), width(w), rgb(static_cast<size_t>(h * w * 3), 0.f) {}
  float* at(int64_t x, int64_t y) { return rgb.data() + (y * width + x) * 3; }
  const float* at(int64_t x, int64_t y) const { return rgb.data() + (y * width + x) * 3; }
};

using ShapesRgb = std::array<float, 3>;

// A random saturated-enough colour (HSV: any hue, saturation 0.25..1, value 0.3..1).
ShapesRgb random_colour(ShapesRng& rng);
float colour_distance(const ShapesRgb& a, const ShapesRgb& b);  // Euclidean, RGB

// Fills the canvas with one texture (gradient, stripes, checker or smooth blotches).
void paint_background(ShapesCanvas& canvas, const ShapesBackground& background, ShapesRng& rng);
// Paints clutter.count strokes and blobs (never instances) over the background.
void paint_clutter(ShapesCanvas& canvas, const ShapesClutter& clutter, ShapesRng& rng);

// How a shape is filled: its colour, shaded linearly by `shading` (+- at the bounding
// radius) along the unit direction (shading_x, shading_y).
struct ShapePaint {
  ShapesRgb colour{};
  float shading = 0;
  float shading_x = 1;
  float shading_y = 0;
};
// Blends the shape over the canvas; edge pixels are supersampled on a
// samples x samples grid (see the top of this file for the clamp that keeps masks exact).
void paint_shape(ShapesCanvas& canvas, const ShapeGeometry& shape, const ShapePaint& paint,
                 int64_t samples);
// Mean canvas colour under the shape's mask (clipped to the canvas); {0,0,0} if empty.
ShapesRgb mean_colour_under(const ShapesCanvas& canvas, const ShapeGeometry& shape);

// Adds sigma * normal() to every channel of every pixel.
void add_pixel_noise(ShapesCanvas& canvas, double sigma, ShapesRng& rng);
// Rounds and clamps to an 8-bit RGB image.
Image canvas_to_image(const ShapesCanvas& canvas);

}  // namespace wise::data
