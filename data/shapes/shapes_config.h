// The knobs of the synthetic shapes dataset (data/shapes/shapes.h), read from committed JSON.
//
// A configuration is frozen under its name: data/shapes/configs/shapes-v1.json is the default
// dataset every later target refers to ("train on shapes-v1"), so changing any value in
// it -- or anything in the generator that changes its pixels -- means a new name
// (shapes-v2), never an edit. tests/data/shapes_test.cpp pins a fingerprint of
// shapes-v1's first images to catch accidental changes.
//
// Every field of the JSON is required and unknown fields are errors (a typo must not
// silently fall back to a default); errors name the file, the field's path and what was
// expected, e.g.
//   "data/shapes/configs/x.json: field \"placement.touch_probability\": expected a number in
//    [0, 1], found 1.5"
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wise::data {

struct ShapesIntRange {
  int64_t min = 0;
  int64_t max = 0;
};

struct ShapesRealRange {
  double min = 0;
  double max = 0;
};

// One split of the dataset: how many images, and the seed of their generator. Image
// `index` of a split is generate_shapes_image(config, split.seed, index).
struct ShapesSplit {
  int64_t count = 0;
  uint64_t seed = 0;
};

// Where objects go and how much they may hide each other.
struct ShapesPlacement {
  // Chance that a new object is pushed against an existing one until their masks are
  // adjacent (touching, no overlap) ...
  double touch_probability = 0;
  // ... or pushed past touching so that it covers part of the existing one (drawn on
  // top). Otherwise it is placed freely without overlapping anything.
  double occlude_probability = 0;
  // How far past touching an occluder moves, as a fraction of the centre distance at
  // which the two touch (0: touching, 1: concentric).
  ShapesRealRange occlusion_depth;
  // No instance may end up with fewer visible pixels than this fraction of its
  // unoccluded, unclipped area, nor fewer than min_visible_pixels: a placement that
  // would do that (by occluding, or by running off the image) is rejected and retried.
  double min_visible_fraction = 0;
  int64_t min_visible_pixels = 0;
  // Placement tries per planned instance before it is skipped (reported in the sample).
  int64_t max_attempts = 0;
};

// Object colours: drawn at random for every instance (shared across classes, varied
// inside a class), then shaded by a linear gradient across the object.
struct ShapesColour {
  // Minimum RGB distance between an object's colour and the mean colour under it (the
  // background and the objects it touches or covers); colours are redrawn until met.
  double min_contrast = 0;
  // Peak +- intensity of the linear shading across an object (0..255 scale).
  double shading = 0;
};

// The background: one texture per image (gradient, stripes, checker or smooth blotches)
// between two colours `texture_contrast` apart, plus Gaussian-like pixel noise over the
// whole image (objects included).
struct ShapesBackground {
  ShapesRealRange texture_contrast;
  double noise_sigma = 0;
};

// Distractors painted on the background under the objects: strokes (thick polylines)
// and irregular blobs; they are never instances.
struct ShapesClutter {
  ShapesIntRange count;
  double stroke_probability = 0;  // otherwise a blob
};

struct ShapesConfig {
  std::string name;     // e.g. "shapes-v1": how targets refer to this frozen set
  std::string comment;  // the freeze rule, for whoever opens the file
  int64_t image_height = 0;
  int64_t image_width = 0;
  // Category names, ids 1..K in this order; each must be a shape the renderer knows
  // (shape_kind_names() in data/shapes/shapes_render.h).
  std::vector<std::string> classes;
  ShapesSplit train;
  ShapesSplit val;
  // Instances planned per image: uniform in `instances`, classes uniform; with
  // probability same_class_probability instead uniform in same_class_instances, all of
  // one class (the hard case for weak supervision: several peaks of one class).
  ShapesIntRange instances;
  double same_class_probability = 0;
  ShapesIntRange same_class_instances;
  // Object size in pixels (the side of the shape's unrotated local square, a circle's
  // diameter), log-uniform; capped per image at ~1.1 * image side / sqrt(planned
  // instances) so crowded images still fit.
  ShapesRealRange object_size;
  // Width:height stretch of an object, log-uniform in [1 / max, max].
  double max_aspect_ratio = 1;
  ShapesPlacement placement;
  ShapesColour colour;
  ShapesBackground background;
  ShapesClutter clutter;
  // Antialiasing: edge pixels are blended by their coverage measured on a
  // samples x samples grid (1: no antialiasing). Masks never depend on it.
  int64_t antialias_samples = 1;
};

// Reads and validates a configuration file; throws std::invalid_argument naming the file
// and field (missing, unknown, wrong type, out of range).
ShapesConfig load_shapes_config(const std::string& path);
// The same from JSON text; `source` names it in errors.
ShapesConfig parse_shapes_config(const std::string& json_text, const std::string& source);
// A committed configuration by name: <shapes_config_dir()>/<name>.json, whose "name"
// field must equal `name`. The error lists the names available.
ShapesConfig shapes_config_by_name(const std::string& name);
// `name_or_path`: a path when it ends in ".json" or names an existing file, else a name.
ShapesConfig resolve_shapes_config(const std::string& name_or_path);
// $WISE_SHAPES_CONFIG_DIR if set, else the source tree's data/shapes/configs.
std::string shapes_config_dir();
// The configuration as JSON text (2-space indent), which parse_shapes_config reads back
// to an equal configuration; written next to every generated dataset.
std::string shapes_config_to_json(const ShapesConfig& config);

bool operator==(const ShapesConfig& a, const ShapesConfig& b);
inline bool operator!=(const ShapesConfig& a, const ShapesConfig& b) { return !(a == b); }

}  // namespace wise::data
