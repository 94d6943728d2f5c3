// Composing one synthetic shapes image: planning, placing and painting its instances
// (see shapes.h for the steps and the rules they keep).
#include "data/shapes/shapes.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace wise::data {
namespace {

constexpr double kPi = 3.14159265358979323846;
// Bisection steps for the touching distance: the reach of two objects (< 2 image sides)
// over 2^12 is below a tenth of a pixel at any size we use.
constexpr int kTouchSearchSteps = 12;
constexpr int kColourTries = 16;

enum class Placement { free, touch, occlude };

struct PlacedObject {
  ShapeGeometry shape;
  int64_t class_index = 0;
  ShapesRgb colour{};
  int64_t full_area = 0;
  int64_t visible_area = 0;
  bool touching = false;
  bool occluding = false;
};

// The scene under construction: the canvas, which object owns each pixel (-1: none),
// and the objects so far, bottom to top.
struct Scene {
  ShapesCanvas canvas;
  std::vector<int16_t> owner;
  std::vector<PlacedObject> objects;

  Scene(int64_t height, int64_t width)
      : canvas(height, width), owner(static_cast<size_t>(height * width), -1) {}
};

// Whether `shape` contains a pixel currently owned by object `target`.
bool overlaps_object(const Scene& scene, const ShapeGeometry& shape, int64_t target) {
  const PixelBox box = shape_pixel_box(shape, scene.canvas.height, scene.canvas.width);
  for (int64_t y = box.y0; y < box.y1; ++y) {
    const int16_t* row = scene.owner.data() + y * scene.canvas.width;
    for (int64_t x = box.x0; x < box.x1; ++x) {
      if (row[x] == target && shape_contains(shape, x + 0.5, y + 0.5)) return true;
    }
  }
  return false;
}

// The smallest distance from `anchor`'s centre along `direction` at which `shape` no
// longer overlaps `anchor`'s visible pixels (bisection; the overlap is monotone in the
// distance for convex shapes and close enough to it for the others, and whatever the
// search returns is checked afterwards).
double touching_distance(const Scene& scene, ShapeGeometry shape, int64_t anchor, double direction) {
  const ShapeGeometry& target = scene.objects[anchor].shape;
  double low = 0, high = target.bounding_radius + shape.bounding_radius + 1;
  const double dx = std::cos(direction), dy = std::sin(direction);
  for (int step = 0; step < kTouchSearchSteps; ++step) {
    const double middle = (low + high) / 2;
    shape.center_x = target.center_x + middle * dx;
    shape.center_y = target.center_y + middle * dy;
    if (overlaps_object(scene, shape, anchor)) {
      low = middle;
    } else {
      high = middle;
    }
  }
  return high;
}

// What a candidate placement would do to the scene.
struct Footprint {
  int64_t image_area = 0;               // pixels of the shape inside the image
  std::vector<int64_t> covered;         // pixels it would take from each earlier object
  bool adjacent_to_anchor = false;      // some pixel 8-adjacent to the anchor's pixels
};

Footprint measure_footprint(const Scene& scene, const ShapeGeometry& shape, int64_t anchor) {
  const int64_t height = scene.canvas.height, width = scene.canvas.width;
  Footprint footprint;
  footprint.covered.assign(scene.objects.size(), 0);
  const PixelBox box = shape_pixel_box(shape, height, width);
  for (int64_t y = box.y0; y < box.y1; ++y) {
    for (int64_t x = box.x0; x < box.x1; ++x) {
      if (!shape_contains(shape, x + 0.5, y + 0.5)) continue;
      ++footprint.image_area;
      const int16_t owner = scene.owner[y * width + x];
      if (owner >= 0) ++footprint.covered[owner];
      if (anchor < 0 || footprint.adjacent_to_anchor) continue;
      for (int64_t ny = std::max<int64_t>(0, y - 1); ny <= std::min(height - 1, y + 1); ++ny) {
        for (int64_t nx = std::max<int64_t>(0, x - 1); nx <= std::min(width - 1, x + 1); ++nx) {
          if (scene.owner[ny * width + nx] == anchor) footprint.adjacent_to_anchor = true;
        }
      }
    }
  }
  return footprint;
}

int64_t visible_floor(const ShapesPlacement& placement, int64_t full_area) {
  const auto fraction = static_cast<int64_t>(
      std::ceil(placement.min_visible_fraction * static_cast<double>(full_area)));
  return std::max(fraction, placement.min_visible_pixels);
}

// A colour far enough from what lies under the shape and from the object it leans on;
// the best of kColourTries draws when none is far enough.
ShapesRgb pick_colour(const Scene& scene, const ShapeGeometry& shape, int64_t anchor,
                   double min_contrast, ShapesRng& rng) {
  const ShapesRgb under = mean_colour_under(scene.canvas, shape);
  ShapesRgb best{};
  float best_contrast = -1;
  for (int attempt = 0; attempt < kColourTries; ++attempt) {
    const ShapesRgb colour = random_colour(rng);
    float contrast = colour_distance(colour, under);
    if (anchor >= 0) contrast = std::min(contrast, colour_distance(colour, scene.objects[anchor].colour));
    if (contrast > best_contrast) best = colour, best_contrast = contrast;
    if (contrast >= min_contrast) break;
  }
  return best;
}

// Tries to add one instance of `kind`; returns whether it was placed.
bool place_instance(Scene& scene, const ShapesConfig& config, int64_t class_index, double size_cap,
                    ShapesRng& rng) {
  const ShapesPlacement& placement = config.placement;
  const ShapeKind kind = shape_kind_from_name(config.classes[class_index]);
  const double height = static_cast<double>(scene.canvas.height);
  const double width = static_cast<double>(scene.canvas.width);
  for (int64_t attempt = 0; attempt < placement.max_attempts; ++attempt) {
    const double size = size_cap > config.object_size.min
                            ? rng.log_uniform(config.object_size.min, size_cap)
                            : config.object_size.min;
    ShapeGeometry shape = random_shape_geometry(kind, size, config.max_aspect_ratio, rng);
    Placement mode = Placement::free;
    if (!scene.objects.empty()) {
      const double draw = rng.uniform();
      if (draw < placement.touch_probability) {
        mode = Placement::touch;
      } else if (draw < placement.touch_probability + placement.occlude_probability) {
        mode = Placement::occlude;
      }
    }
    // Centres keep most of the shape inside the image (the visibility check has the last
    // word); without this, chains of touching objects pile up against the border.
    const double margin_x = std::min(0.6 * shape.bounding_radius, width / 2);
    const double margin_y = std::min(0.6 * shape.bounding_radius, height / 2);
    int64_t anchor = -1;
    if (mode == Placement::free) {
      shape.center_x = rng.uniform(margin_x, width - margin_x);
      shape.center_y = rng.uniform(margin_y, height - margin_y);
    } else {
      anchor = rng.integer(0, static_cast<int64_t>(scene.objects.size()) - 1);
      const double direction = rng.uniform(0, 2 * kPi);
      double distance = touching_distance(scene, shape, anchor, direction);
      if (mode == Placement::occlude) {
        distance *= 1 - rng.uniform(placement.occlusion_depth.min, placement.occlusion_depth.max);
      }
      const ShapeGeometry& target = scene.objects[anchor].shape;
      shape.center_x = target.center_x + distance * std::cos(direction);
      shape.center_y = target.center_y + distance * std::sin(direction);
      if (shape.center_x < margin_x || shape.center_x > width - margin_x ||
          shape.center_y < margin_y || shape.center_y > height - margin_y) {
        continue;
      }
    }

    const Footprint footprint = measure_footprint(scene, shape, anchor);
    const int64_t full_area = shape_area(shape);
    if (full_area == 0 || footprint.image_area < visible_floor(placement, full_area)) continue;
    bool covers_any = false, acceptable = true;
    for (size_t i = 0; i < footprint.covered.size() && acceptable; ++i) {
      if (footprint.covered[i] == 0) continue;
      covers_any = true;
      const PlacedObject& below = scene.objects[i];
      acceptable = mode == Placement::occlude &&
                   below.visible_area - footprint.covered[i] >= visible_floor(placement, below.full_area);
    }
    if (!acceptable) continue;
    if (mode == Placement::touch && !footprint.adjacent_to_anchor) continue;

    PlacedObject object;
    object.shape = shape;
    object.class_index = class_index;
    object.full_area = full_area;
    object.visible_area = footprint.image_area;
    object.touching = mode == Placement::touch;
    object.occluding = mode == Placement::occlude && covers_any;
    object.colour = pick_colour(scene, shape, anchor, config.colour.min_contrast, rng);
    ShapePaint paint;
    paint.colour = object.colour;
    paint.shading = static_cast<float>(rng.uniform(0, config.colour.shading));
    const double shading_angle = rng.uniform(0, 2 * kPi);
    paint.shading_x = static_cast<float>(std::cos(shading_angle));
    paint.shading_y = static_cast<float>(std::sin(shading_angle));
    paint_shape(scene.canvas, shape, paint, config.antialias_samples);

    // Take ownership of the pixels: earlier objects lose what the new one covers.
    const auto self = static_cast<int16_t>(scene.objects.size());
    for (size_t i = 0; i < footprint.covered.size(); ++i) {
      scene.objects[i].visible_area -= footprint.covered[i];
    }
    const PixelBox box = shape_pixel_box(shape, scene.canvas.height, scene.canvas.width);
    for (int64_t y = box.y0; y < box.y1; ++y) {
      for (int64_t x = box.x0; x < box.x1; ++x) {
        if (shape_contains(shape, x + 0.5, y + 0.5)) scene.owner[y * scene.canvas.width + x] = self;
      }
    }
    scene.objects.push_back(object);
    return true;
  }
  return false;
}

void check_config(const ShapesConfig& config) {
  const auto fail = [&](const std::string& what) {
    throw std::invalid_argument("shapes configuration \"" + config.name + "\": " + what);
  };
  if (config.image_height < 1 || config.image_width < 1) fail("image size must be positive");
  if (config.classes.empty()) fail("no classes");
  if (config.instances.min < 1 || config.instances.min > config.instances.max ||
      config.same_class_instances.min < 1 ||
      config.same_class_instances.min > config.same_class_instances.max) {
    fail("instance ranges must satisfy 1 <= min <= max");
  }
  if (std::max(config.instances.max, config.same_class_instances.max) > 32000) {
    fail("at most 32000 instances per image");  // owners are int16
  }
  if (!(config.object_size.min > 0) || config.object_size.min > config.object_size.max) {
    fail("object_size must satisfy 0 < min <= max");
  }
  if (!(config.max_aspect_ratio >= 1)) fail("max_aspect_ratio must be >= 1");
  if (config.placement.max_attempts < 1) fail("placement.max_attempts must be >= 1");
  if (config.antialias_samples < 1) fail("antialias_samples must be >= 1");
  for (const auto& name : config.classes) shape_kind_from_name(name);
}

}  // namespace

ShapesSample generate_shapes_image(const ShapesConfig& config, uint64_t seed, int64_t index) {
  check_config(config);
  ShapesRng rng(seed, index);
  Scene scene(config.image_height, config.image_width);
  paint_background(scene.canvas, config.background, rng);
  paint_clutter(scene.canvas, config.clutter, rng);

  // Plan the instances: how many, of which classes.
  const auto class_count = static_cast<int64_t>(config.classes.size());
  std::vector<int64_t> planned;
  if (rng.chance(config.same_class_probability)) {
    const int64_t class_index = rng.integer(0, class_count - 1);
    planned.assign(static_cast<size_t>(rng.integer(config.same_class_instances.min,
                                                   config.same_class_instances.max)),
                   class_index);
  } else {
    planned.resize(static_cast<size_t>(rng.integer(config.instances.min, config.instances.max)));
    for (auto& class_index : planned) class_index = rng.integer(0, class_count - 1);
  }
  // Crowded images get smaller objects so that they still fit.
  const double side = static_cast<double>(std::min(config.image_height, config.image_width));
  const double size_cap =
      std::min(config.object_size.max,
               std::max(config.object_size.min,
                        1.1 * side / std::sqrt(static_cast<double>(planned.size()))));

  ShapesSample sample;
  sample.planned_instances = static_cast<int64_t>(planned.size());
  for (const int64_t class_index : planned) {
    if (!place_instance(scene, config, class_index, size_cap, rng)) ++sample.skipped_instances;
  }
  add_pixel_noise(scene.canvas, config.background.noise_sigma, rng);
  sample.image = canvas_to_image(scene.canvas);

  std::vector<uint8_t> mask(scene.owner.size());
  for (size_t k = 0; k < scene.objects.size(); ++k) {
    const PlacedObject& object = scene.objects[k];
    for (size_t p = 0; p < mask.size(); ++p) mask[p] = scene.owner[p] == static_cast<int16_t>(k);
    ShapesInstance instance;
    instance.category_id = object.class_index + 1;
    instance.mask = rle_encode(mask, config.image_height, config.image_width);
    instance.shape = object.shape;
    instance.full_area = object.full_area;
    instance.visible_area = object.visible_area;
    instance.touching = object.touching;
    instance.occluding = object.occluding;
    sample.instances.push_back(std::move(instance));
  }
  return sample;
}

std::vector<Category> shapes_categories(const ShapesConfig& config) {
  std::vector<Category> categories;
  for (size_t i = 0; i < config.classes.size(); ++i) {
    categories.push_back(Category{static_cast<int64_t>(i) + 1, config.classes[i]});
  }
  return categories;
}

int64_t shapes_image_id(int64_t index) { return index + 1; }

std::string shapes_file_stem(int64_t index) {
  char stem[32];
  std::snprintf(stem, sizeof(stem), "%06lld", static_cast<long long>(shapes_image_id(index)));
  return stem;
}

}  // namespace wise::data
