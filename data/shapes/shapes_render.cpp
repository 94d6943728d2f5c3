// Shape geometry and painting for the synthetic shapes dataset (see shapes_render.h).
#include "data/shapes/shapes_render.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace wise::data {
namespace {

constexpr double kPi = 3.14159265358979323846;

// SplitMix64's output function: a bijective 64-bit mixer.
uint64_t mix64(uint64_t value) {
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

// How far each kind reaches from its centre, in local units (the bounding radius).
double local_reach(ShapeKind kind) {
  switch (kind) {
    case ShapeKind::circle:
    case ShapeKind::ring: return 1.0;
    case ShapeKind::square:
    case ShapeKind::cross: return std::sqrt(2.0);
    case ShapeKind::triangle: return 1.2;  // circumradius, so its area is close to a circle's
    case ShapeKind::star: return 1.15;
  }
  return std::sqrt(2.0);
}

// Even-odd crossing test of (u, v) against a closed polygon of `count` vertices.
bool polygon_contains(const std::array<double, 20>& vertices, int count, double u, double v) {
  bool inside = false;
  for (int i = 0, j = count - 1; i < count; j = i++) {
    const double ui = vertices[2 * i], vi = vertices[2 * i + 1];
    const double uj = vertices[2 * j], vj = vertices[2 * j + 1];
    if ((vi > v) != (vj > v) && u < (uj - ui) * (v - vi) / (vj - vi) + ui) inside = !inside;
  }
  return inside;
}

float clamp01(double value) { return static_cast<float>(std::min(1.0, std::max(0.0, value))); }

double smoothstep(double t) { return t * t * (3 - 2 * t); }

// Distance from (x, y) to the segment a-b.
double segment_distance(double x, double y, double ax, double ay, double bx, double by) {
  const double ex = bx - ax, ey = by - ay;
  const double length2 = ex * ex + ey * ey;
  double t = length2 > 0 ? ((x - ax) * ex + (y - ay) * ey) / length2 : 0;
  t = std::min(1.0, std::max(0.0, t));
  const double dx = x - (ax + t * ex), dy = y - (ay + t * ey);
  return std::sqrt(dx * dx + dy * dy);
}

void blend(float* pixel, const ShapesRgb& colour, float alpha) {
  for (int c = 0; c < 3; ++c) pixel[c] += (colour[c] - pixel[c]) * alpha;
}

// A thick polyline of 2..4 points; its edges are antialiased analytically (coverage =
// half width - distance + 1/2, clamped), which is exact enough for clutter.
void paint_stroke(ShapesCanvas& canvas, ShapesRng& rng) {
  const int points = static_cast<int>(rng.integer(2, 4));
  std::array<double, 8> xy{};
  xy[0] = rng.uniform(0, static_cast<double>(canvas.width));
  xy[1] = rng.uniform(0, static_cast<double>(canvas.height));
  double heading = rng.uniform(0, 2 * kPi);
  for (int i = 1; i < points; ++i) {
    heading += rng.uniform(-1.2, 1.2);
    const double length = rng.uniform(12, 60);
    xy[2 * i] = xy[2 * i - 2] + length * std::cos(heading);
    xy[2 * i + 1] = xy[2 * i - 1] + length * std::sin(heading);
  }
  const double half_width = rng.uniform(0.75, 2.0);
  const ShapesRgb colour = random_colour(rng);
  const float alpha = static_cast<float>(rng.uniform(0.5, 1.0));
  double min_x = xy[0], max_x = xy[0], min_y = xy[1], max_y = xy[1];
  for (int i = 1; i < points; ++i) {
    min_x = std::min(min_x, xy[2 * i]), max_x = std::max(max_x, xy[2 * i]);
    min_y = std::min(min_y, xy[2 * i + 1]), max_y = std::max(max_y, xy[2 * i + 1]);
  }
  const int64_t x0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(min_x - half_width - 1)));
  const int64_t y0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(min_y - half_width - 1)));
  const int64_t x1 = std::min<int64_t>(canvas.width, static_cast<int64_t>(std::ceil(max_x + half_width + 1)));
  const int64_t y1 = std::min<int64_t>(canvas.height, static_cast<int64_t>(std::ceil(max_y + half_width + 1)));
  for (int64_t y = y0; y < y1; ++y) {
    for (int64_t x = x0; x < x1; ++x) {
      double distance = 1e30;
      for (int i = 1; i < points; ++i) {
        distance = std::min(distance, segment_distance(x + 0.5, y + 0.5, xy[2 * i - 2],
                                                       xy[2 * i - 1], xy[2 * i], xy[2 * i + 1]));
      }
      const float coverage = clamp01(half_width - distance + 0.5);
      if (coverage > 0) blend(canvas.at(x, y), colour, alpha * coverage);
    }
  }
}

// An irregular, translucent blob: radius R * (1 + a2 sin(2 theta + p2) + a3 sin(3 theta + p3)),
// lumpy enough not to read as a circle and too smooth to read as a star.
void paint_blob(ShapesCanvas& canvas, ShapesRng& rng) {
  const double center_x = rng.uniform(0, static_cast<double>(canvas.width));
  const double center_y = rng.uniform(0, static_cast<double>(canvas.height));
  const double radius = rng.uniform(4, 18);
  const double a2 = rng.uniform(0.1, 0.3), p2 = rng.uniform(0, 2 * kPi);
  const double a3 = rng.uniform(0.05, 0.2), p3 = rng.uniform(0, 2 * kPi);
  const ShapesRgb colour = random_colour(rng);
  const float alpha = static_cast<float>(rng.uniform(0.35, 0.85));
  const double reach = radius * (1 + a2 + a3) + 1;
  const int64_t x0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(center_x - reach)));
  const int64_t y0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(center_y - reach)));
  const int64_t x1 = std::min<int64_t>(canvas.width, static_cast<int64_t>(std::ceil(center_x + reach)));
  const int64_t y1 = std::min<int64_t>(canvas.height, static_cast<int64_t>(std::ceil(center_y + reach)));
  for (int64_t y = y0; y < y1; ++y) {
    for (int64_t x = x0; x < x1; ++x) {
      const double dx = x + 0.5 - center_x, dy = y + 0.5 - center_y;
      const double theta = std::atan2(dy, dx);
      const double edge = radius * (1 + a2 * std::sin(2 * theta + p2) + a3 * std::sin(3 * theta + p3));
      const float coverage = clamp01(edge - std::sqrt(dx * dx + dy * dy) + 0.5);
      if (coverage > 0) blend(canvas.at(x, y), colour, alpha * coverage);
    }
  }
}

}  // namespace

ShapesRng::ShapesRng(uint64_t seed, int64_t index)
    : state_(mix64(mix64(seed) ^ (static_cast<uint64_t>(index) * 0x9e3779b97f4a7c15ULL))) {}

uint64_t ShapesRng::next() {
  state_ += 0x9e3779b97f4a7c15ULL;
  return mix64(state_);
}

double ShapesRng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double ShapesRng::uniform(double low, double high) { return low + (high - low) * uniform(); }

double ShapesRng::log_uniform(double low, double high) {
  return std::exp(uniform(std::log(low), std::log(high)));
}

int64_t ShapesRng::integer(int64_t low, int64_t high) {
  // 53 random bits scaled to the range: the bias (range / 2^53) is far below anything
  // observable for the small ranges used here.
  const double range = static_cast<double>(high - low) + 1;
  return std::min(high, low + static_cast<int64_t>(uniform() * range));
}

bool ShapesRng::chance(double probability) { return uniform() < probability; }

double ShapesRng::normal() {
  const uint64_t bits = next();
  const double sum = static_cast<double>((bits & 0xffff) + ((bits >> 16) & 0xffff) +
                                         ((bits >> 32) & 0xffff) + (bits >> 48));
  // Four uniforms on 0..65535: mean 4 * 32767.5, variance 4 * (65536^2 - 1) / 12.
  return (sum - 131070.0) / 37837.23;
}

const std::vector<std::string>& shape_kind_names() {
  static const std::vector<std::string> names = {"circle", "square", "triangle",
                                                 "star",   "cross",  "ring"};
  return names;
}

bool is_shape_kind_name(const std::string& name) {
  const auto& names = shape_kind_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

ShapeKind shape_kind_from_name(const std::string& name) {
  const auto& names = shape_kind_names();
  const auto found = std::find(names.begin(), names.end(), name);
  if (found == names.end()) {
    throw std::invalid_argument("unknown shape \"" + name +
                                "\" (expected circle, square, triangle, star, cross or ring)");
  }
  return static_cast<ShapeKind>(found - names.begin());
}

ShapeGeometry make_shape_geometry(ShapeKind kind, double center_x, double center_y, double size,
                                  double angle, double stretch, double detail) {
  ShapeGeometry shape;
  shape.kind = kind;
  shape.center_x = center_x;
  shape.center_y = center_y;
  shape.size = size;
  shape.angle = angle;
  shape.stretch = stretch;
  shape.detail = detail;
  shape.cos_angle = std::cos(angle);
  shape.sin_angle = std::sin(angle);
  const double half = size / 2;
  shape.inverse_scale_u = 1 / (half * stretch);
  shape.inverse_scale_v = stretch / half;
  // 1e-6 of slack keeps rounding from dropping a boundary pixel from the box.
  shape.bounding_radius = local_reach(kind) * half * std::max(stretch, 1 / stretch) * (1 + 1e-6);
  if (kind == ShapeKind::triangle) {
    shape.vertex_count = 3;
    for (int i = 0; i < 3; ++i) {
      const double theta = -kPi / 2 + i * 2 * kPi / 3;
      shape.vertices[2 * i] = 1.2 * std::cos(theta);
      shape.vertices[2 * i + 1] = 1.2 * std::sin(theta);
    }
  } else if (kind == ShapeKind::star) {
    shape.vertex_count = 10;
    for (int i = 0; i < 10; ++i) {
      const double theta = -kPi / 2 + i * kPi / 5;
      const double radius = (i % 2 == 0) ? 1.15 : 1.15 * detail;
      shape.vertices[2 * i] = radius * std::cos(theta);
      shape.vertices[2 * i + 1] = radius * std::sin(theta);
    }
  }
  return shape;
}

ShapeGeometry random_shape_geometry(ShapeKind kind, double size, double max_aspect_ratio,
                                    ShapesRng& rng) {
  const double angle = rng.uniform(0, 2 * kPi);
  const double root = std::sqrt(max_aspect_ratio);
  const double stretch = rng.log_uniform(1 / root, root);
  double detail = 0;
  if (kind == ShapeKind::star) detail = rng.uniform(0.4, 0.55);
  if (kind == ShapeKind::ring) detail = rng.uniform(0.45, 0.65);
  if (kind == ShapeKind::cross) detail = rng.uniform(0.28, 0.4);
  return make_shape_geometry(kind, 0, 0, size, angle, stretch, detail);
}

bool shape_contains(const ShapeGeometry& shape, double x, double y) {
  const double dx = x - shape.center_x, dy = y - shape.center_y;
  if (dx * dx + dy * dy > shape.bounding_radius * shape.bounding_radius) return false;
  const double u = (dx * shape.cos_angle + dy * shape.sin_angle) * shape.inverse_scale_u;
  const double v = (dy * shape.cos_angle - dx * shape.sin_angle) * shape.inverse_scale_v;
  switch (shape.kind) {
    case ShapeKind::circle: return u * u + v * v <= 1;
    case ShapeKind::ring: {
      const double r2 = u * u + v * v;
      return r2 <= 1 && r2 >= shape.detail * shape.detail;
    }
    case ShapeKind::square: return std::abs(u) <= 1 && std::abs(v) <= 1;
    case ShapeKind::cross: {
      const double au = std::abs(u), av = std::abs(v);
      return (au <= 1 && av <= shape.detail) || (au <= shape.detail && av <= 1);
    }
    case ShapeKind::triangle:
    case ShapeKind::star: return polygon_contains(shape.vertices, shape.vertex_count, u, v);
  }
  return false;
}

PixelBox shape_pixel_box(const ShapeGeometry& shape) {
  // Pixel x's centre x + 0.5 lies in [center - R, center + R].
  const double r = shape.bounding_radius;
  PixelBox box;
  box.x0 = static_cast<int64_t>(std::floor(shape.center_x - r - 0.5));
  box.y0 = static_cast<int64_t>(std::floor(shape.center_y - r - 0.5));
  box.x1 = static_cast<int64_t>(std::floor(shape.center_x + r - 0.5)) + 1;
  box.y1 = static_cast<int64_t>(std::floor(shape.center_y + r - 0.5)) + 1;
  return box;
}

PixelBox shape_pixel_box(const ShapeGeometry& shape, int64_t height, int64_t width) {
  PixelBox box = shape_pixel_box(shape);
  box.x0 = std::max<int64_t>(box.x0, 0);
  box.y0 = std::max<int64_t>(box.y0, 0);
  box.x1 = std::min<int64_t>(box.x1, width);
  box.y1 = std::min<int64_t>(box.y1, height);
  return box;
}

int64_t shape_area(const ShapeGeometry& shape) {
  const PixelBox box = shape_pixel_box(shape);
  int64_t area = 0;
  for (int64_t y = box.y0; y < box.y1; ++y) {
    for (int64_t x = box.x0; x < box.x1; ++x) area += shape_contains(shape, x + 0.5, y + 0.5);
  }
  return area;
}

ShapesRgb random_colour(ShapesRng& rng) {
  const double hue = rng.uniform() * 6, saturation = rng.uniform(0.25, 1), value = rng.uniform(0.3, 1);
  const int sector = std::min(5, static_cast<int>(hue));
  const double f = hue - sector;
  const double p = value * (1 - saturation), q = value * (1 - saturation * f),
               t = value * (1 - saturation * (1 - f));
  double r = 0, g = 0, b = 0;
  switch (sector) {
    case 0: r = value, g = t, b = p; break;
    case 1: r = q, g = value, b = p; break;
    case 2: r = p, g = value, b = t; break;
    case 3: r = p, g = q, b = value; break;
    case 4: r = t, g = p, b = value; break;
    default: r = value, g = p, b = q; break;
  }
  return {static_cast<float>(255 * r), static_cast<float>(255 * g), static_cast<float>(255 * b)};
}

float colour_distance(const ShapesRgb& a, const ShapesRgb& b) {
  const float dr = a[0] - b[0], dg = a[1] - b[1], db = a[2] - b[2];
  return std::sqrt(dr * dr + dg * dg + db * db);
}

void paint_background(ShapesCanvas& canvas, const ShapesBackground& background, ShapesRng& rng) {
  // Two colours `contrast` apart along a random direction of RGB space.
  ShapesRgb first{}, second{};
  double direction[3], norm = 0;
  for (int c = 0; c < 3; ++c) {
    first[c] = static_cast<float>(rng.uniform(25, 230));
    direction[c] = rng.normal();
    norm += direction[c] * direction[c];
  }
  norm = std::sqrt(std::max(norm, 1e-12));
  const double contrast = rng.uniform(background.texture_contrast.min, background.texture_contrast.max);
  for (int c = 0; c < 3; ++c) second[c] = static_cast<float>(first[c] + contrast * direction[c] / norm);

  const int texture = static_cast<int>(rng.integer(0, 3));  // gradient, stripes, checker, blotches
  const double angle = rng.uniform(0, kPi);
  const double cos_a = std::cos(angle), sin_a = std::sin(angle);
  const double period = texture == 1 ? rng.uniform(6, 24) : rng.uniform(8, 32);
  const double hardness = rng.uniform(1, 4);
  const int64_t grid = rng.integer(3, 8);
  std::vector<double> knots(static_cast<size_t>((grid + 1) * (grid + 1)));
  for (auto& knot : knots) knot = rng.uniform();
  const double H = static_cast<double>(canvas.height), W = static_cast<double>(canvas.width);

  for (int64_t y = 0; y < canvas.height; ++y) {
    for (int64_t x = 0; x < canvas.width; ++x) {
      const double px = x + 0.5 - W / 2, py = y + 0.5 - H / 2;
      const double along = px * cos_a + py * sin_a, across = py * cos_a - px * sin_a;
      double t = 0;
      if (texture == 0) {
        t = along / std::max(H, W) + 0.5;
      } else if (texture == 1) {
        t = 0.5 + 0.5 * hardness * std::sin(2 * kPi * along / period);
      } else if (texture == 2) {
        const auto cell = static_cast<int64_t>(std::floor(along / period)) +
                          static_cast<int64_t>(std::floor(across / period));
        t = (cell & 1) ? 1 : 0;
      } else {
        // Bilinear (smoothstepped) interpolation of a coarse grid of random levels.
        const double gx = (x + 0.5) / W * static_cast<double>(grid);
        const double gy = (y + 0.5) / H * static_cast<double>(grid);
        const int64_t ix = std::min<int64_t>(grid - 1, static_cast<int64_t>(gx));
        const int64_t iy = std::min<int64_t>(grid - 1, static_cast<int64_t>(gy));
        const double fx = smoothstep(gx - ix), fy = smoothstep(gy - iy);
        const auto knot = [&](int64_t i, int64_t j) { return knots[j * (grid + 1) + i]; };
        t = (1 - fy) * ((1 - fx) * knot(ix, iy) + fx * knot(ix + 1, iy)) +
            fy * ((1 - fx) * knot(ix, iy + 1) + fx * knot(ix + 1, iy + 1));
      }
      const float weight = clamp01(t);
      float* pixel = canvas.at(x, y);
      for (int c = 0; c < 3; ++c) pixel[c] = first[c] + (second[c] - first[c]) * weight;
    }
  }
}

void paint_clutter(ShapesCanvas& canvas, const ShapesClutter& clutter, ShapesRng& rng) {
  const int64_t count = rng.integer(clutter.count.min, clutter.count.max);
  for (int64_t i = 0; i < count; ++i) {
    if (rng.chance(clutter.stroke_probability)) {
      paint_stroke(canvas, rng);
    } else {
      paint_blob(canvas, rng);
    }
  }
}

void paint_shape(ShapesCanvas& canvas, const ShapeGeometry& shape, const ShapePaint& paint,
                 int64_t samples) {
  const PixelBox box = shape_pixel_box(shape, canvas.height, canvas.width);
  if (box.empty()) return;
  const int64_t box_width = box.x1 - box.x0, box_height = box.y1 - box.y0;
  // Which pixel corners are inside: a pixel whose centre and four corners agree is
  // taken as fully in or out; the others are supersampled.
  std::vector<uint8_t> corners(static_cast<size_t>((box_width + 1) * (box_height + 1)));
  for (int64_t j = 0; j <= box_height; ++j) {
    for (int64_t i = 0; i <= box_width; ++i) {
      corners[j * (box_width + 1) + i] =
          shape_contains(shape, static_cast<double>(box.x0 + i), static_cast<double>(box.y0 + j));
    }
  }
  const float inverse_reach = static_cast<float>(1 / std::max(shape.bounding_radius, 1e-6));
  const float sample_weight = 1.f / static_cast<float>(samples * samples);
  for (int64_t y = box.y0; y < box.y1; ++y) {
    for (int64_t x = box.x0; x < box.x1; ++x) {
      const bool in_mask = shape_contains(shape, x + 0.5, y + 0.5);
      const size_t corner = static_cast<size_t>((y - box.y0) * (box_width + 1) + (x - box.x0));
      const int corners_inside = corners[corner] + corners[corner + 1] +
                                 corners[corner + box_width + 1] + corners[corner + box_width + 2];
      float coverage = 0;
      if (corners_inside == 4 * in_mask) {
        coverage = in_mask ? 1.f : 0.f;
      } else {
        int inside = 0;
        for (int64_t sy = 0; sy < samples; ++sy) {
          for (int64_t sx = 0; sx < samples; ++sx) {
            inside += shape_contains(shape, x + (sx + 0.5) / static_cast<double>(samples),
                                     y + (sy + 0.5) / static_cast<double>(samples));
          }
        }
        coverage = static_cast<float>(inside) * sample_weight;
      }
      // The clamp that keeps masks exact: mask pixels are mostly the object's colour,
      // other pixels mostly what lies beneath.
      coverage = in_mask ? std::max(coverage, 0.5f) : std::min(coverage, 0.49f);
      if (coverage <= 0) continue;
      const float offset = static_cast<float>((x + 0.5 - shape.center_x) * paint.shading_x +
                                              (y + 0.5 - shape.center_y) * paint.shading_y) *
                           inverse_reach;
      ShapesRgb colour = paint.colour;
      for (auto& channel : colour) channel += paint.shading * offset;
      blend(canvas.at(x, y), colour, coverage);
    }
  }
}

ShapesRgb mean_colour_under(const ShapesCanvas& canvas, const ShapeGeometry& shape) {
  const PixelBox box = shape_pixel_box(shape, canvas.height, canvas.width);
  double sum[3] = {0, 0, 0};
  int64_t count = 0;
  for (int64_t y = box.y0; y < box.y1; ++y) {
    for (int64_t x = box.x0; x < box.x1; ++x) {
      if (!shape_contains(shape, x + 0.5, y + 0.5)) continue;
      const float* pixel = canvas.at(x, y);
      for (int c = 0; c < 3; ++c) sum[c] += pixel[c];
      ++count;
    }
  }
  if (count == 0) return {0, 0, 0};
  return {static_cast<float>(sum[0] / count), static_cast<float>(sum[1] / count),
          static_cast<float>(sum[2] / count)};
}

void add_pixel_noise(ShapesCanvas& canvas, double sigma, ShapesRng& rng) {
  if (sigma <= 0) return;
  for (auto& value : canvas.rgb) value += static_cast<float>(sigma * rng.normal());
}

Image canvas_to_image(const ShapesCanvas& canvas) {
  Image image;
  image.height = canvas.height;
  image.width = canvas.width;
  image.channels = 3;
  image.pixels.resize(canvas.rgb.size());
  for (size_t i = 0; i < canvas.rgb.size(); ++i) {
    const float value = std::min(255.f, std::max(0.f, canvas.rgb[i]));
    image.pixels[i] = static_cast<uint8_t>(std::floor(value + 0.5f));
  }
  return image;
}

}  // namespace wise::data
