// The embedded default dataset: synthetic shapes (circles, squares, triangles, stars,
// crosses, rings) on textured, cluttered backgrounds, with exact instance masks.
//
// It is what the WISE pipeline trains on by default, so it is built to be hard for weak
// supervision rather than pretty: classes differ only by shape (colours are random and
// shared across classes), several instances of one class share an image, objects touch
// and occlude each other, sizes vary ~8x, and the background carries textures and
// stroke/blob distractors that are not objects. See data/shapes/configs/shapes-v1.json for the
// frozen default and data/shapes/shapes_config.h for every knob.
//
// How an image is made (generate_shapes_image):
//   1. background texture, then clutter (data/shapes/shapes_render.h);
//   2. plan the instances: their number and classes (all one class with
//      probability same_class_probability);
//   3. place them one at a time, bottom to top: freely (no overlap), touching an earlier
//      object (pushed along a random direction until the masks are adjacent), or
//      occluding one (pushed past touching, drawn on top). A placement is rejected and
//      re-drawn when it would leave any instance -- the new one clipped by the image
//      border, or an earlier one under it -- with fewer visible pixels than
//      min_visible_fraction of its full area or min_visible_pixels; after max_attempts
//      rejections the planned instance is skipped (counted in skipped_instances). So no
//      instance is ever dropped after being drawn: every object in the image is annotated
//      and every annotation is visible enough to be found;
//   4. pixel noise over everything.
// An instance's mask is its visible pixels: those whose centre lies in the shape and in
// no shape drawn later. Masks of one image are therefore disjoint, and every mask pixel
// is mostly painted with its object's colour (antialiasing blends edges, never masks).
//
// Determinism: an image is a pure function of (config, seed, index) -- bitwise, at any
// thread count -- so a dataset with fewer images is a prefix of the full one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/image.h"
#include "data/rle.h"
#include "data/shapes/shapes_config.h"
#include "data/shapes/shapes_render.h"

namespace wise::data {

struct ShapesInstance {
  int64_t category_id = 0;    // 1..K, config.classes[category_id - 1]
  Rle mask;                   // visible pixels, image-sized
  ShapeGeometry shape;        // where and how big it was drawn
  int64_t full_area = 0;      // pixels if neither occluded nor clipped (shape_area)
  int64_t visible_area = 0;   // pixels in `mask`
  bool touching = false;      // placed against an earlier instance (masks adjacent)
  bool occluding = false;     // placed over part of an earlier instance
};

struct ShapesSample {
  Image image;                            // RGB, config.image_height x image_width
  std::vector<ShapesInstance> instances;  // in drawing order, bottom to top
  int64_t planned_instances = 0;
  int64_t skipped_instances = 0;          // planned but never placed (see step 3 above)
};

// Image `index` of the split seeded `seed`. Throws std::invalid_argument for a
// configuration load_shapes_config would reject in ways that matter here.
ShapesSample generate_shapes_image(const ShapesConfig& config, uint64_t seed, int64_t index);

// Categories with ids 1..K named after config.classes.
std::vector<Category> shapes_categories(const ShapesConfig& config);

// Image `index` of a split has COCO id index + 1 and file name "<id, 6 digits>.png";
// in the VOC layout its stem is "<split>_<id, 6 digits>".
int64_t shapes_image_id(int64_t index);
std::string shapes_file_stem(int64_t index);

struct ShapesDatasetOptions {
  int64_t train_count = -1;  // -1: the configuration's count
  int64_t val_count = -1;
  // Also write PASCAL VOC's layout: JPEGImages/*.jpg, SegmentationObject/ and
  // SegmentationClass/ palette PNGs (0 background, instances 1..n in drawing order /
  // category ids; no 255 boundary band: masks are exact), ImageSets/Segmentation/*.txt.
  bool voc = false;
};

struct ShapesSplitSummary {
  std::string split;
  int64_t images = 0;
  int64_t instances = 0;
  int64_t skipped_instances = 0;
};

// Writes <out_dir>/images/{train,val}/<id>.png, <out_dir>/annotations/{train,val}.json
// (COCO, compressed RLE) and, with options.voc, the VOC layout under <out_dir>; then, last,
// <out_dir>/shapes_config.json (the configuration used, with the counts written), whose
// presence marks the dataset complete. Images are generated and written in parallel
// (OpenMP); the output does not depend on the number of threads. Returns one summary
// per split, train first.
std::vector<ShapesSplitSummary> generate_shapes_dataset(const ShapesConfig& config,
                                                        const std::string& out_dir,
                                                        const ShapesDatasetOptions& options = {});

}  // namespace wise::data
