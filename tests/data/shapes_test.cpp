// The synthetic shapes dataset (data/shapes/shapes.h, shapes_render.h, shapes_config.h):
// geometry against hand-computed areas, scene invariants (exact, disjoint, visible-enough
// masks) against a naive re-composition, determinism at any thread count, the statistics
// the configuration promises, the frozen shapes-v1 configuration and its fingerprint,
// configuration errors, and the files written (COCO, VOC) read back.
#include "data/shapes/shapes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include "data/coco.h"
#include "data/image_io.h"
#include "data/palette_png.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace wise::data {
namespace {

namespace fs = std::filesystem;
constexpr double kPi = 3.14159265358979323846;

const ShapesConfig& default_config() {
  static const ShapesConfig config = shapes_config_by_name("shapes-v1");
  return config;
}

std::string read_text(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string default_config_text() {
  return read_text(shapes_config_dir() + "/shapes-v1.json");
}

// `text` with its one occurrence of `from` replaced by `to` (fails the test otherwise).
std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "\"" << from << "\" not in the configuration";
  if (at == std::string::npos) return text;
  EXPECT_EQ(text.find(from, at + 1), std::string::npos) << "\"" << from << "\" is not unique";
  return text.replace(at, from.size(), to);
}

// The error parse_shapes_config gives for `text`, or "" if it parses.
std::string config_error(const std::string& text) {
  try {
    parse_shapes_config(text, "test.json");
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "";
}

// FNV-1a over bytes, folded in one value at a time.
struct Fingerprint {
  uint64_t hash = 0xcbf29ce484222325ULL;
  void add(const void* data, size_t size) {
    const auto* bytes = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < size; ++i) hash = (hash ^ bytes[i]) * 0x100000001b3ULL;
  }
  void add(const ShapesSample& sample) {
    add(sample.image.pixels.data(), sample.image.pixels.size());
    for (const auto& instance : sample.instances) {
      add(&instance.category_id, sizeof(instance.category_id));
      add(instance.mask.counts.data(), instance.mask.counts.size() * sizeof(uint32_t));
    }
  }
};

bool same_sample(const ShapesSample& a, const ShapesSample& b) {
  if (a.image.pixels != b.image.pixels || a.instances.size() != b.instances.size()) return false;
  for (size_t k = 0; k < a.instances.size(); ++k) {
    if (a.instances[k].category_id != b.instances[k].category_id ||
        a.instances[k].mask.counts != b.instances[k].mask.counts) {
      return false;
    }
  }
  return true;
}

// --- geometry, against hand-computed values -------------------------------------------

TEST(ShapesGeometry, AreasMatchTheContinuousShapes) {
  // A circle of diameter 100: pi 50^2 pixel centres, to well under 1%.
  const auto circle = make_shape_geometry(ShapeKind::circle, 100.3, 80.7, 100, 0.4, 1, 0);
  EXPECT_NEAR(static_cast<double>(shape_area(circle)), kPi * 2500, 0.005 * kPi * 2500);
  // An axis-aligned square of side 40 centred on a pixel corner owns exactly 40 x 40.
  const auto square = make_shape_geometry(ShapeKind::square, 20, 20, 40, 0, 1, 0);
  EXPECT_EQ(shape_area(square), 1600);
  // Stretch 1.2 keeps the area (u scaled by 1.2, v by 1 / 1.2).
  const auto stretched = make_shape_geometry(ShapeKind::square, 50, 50, 40, 0, 1.2, 0);
  EXPECT_NEAR(static_cast<double>(shape_area(stretched)), 1600, 60);
  // Equilateral triangle of circumradius 1.2 * 50: area 3 sqrt(3) / 4 R^2.
  const auto triangle = make_shape_geometry(ShapeKind::triangle, 0, 0, 100, 1.0, 1, 0);
  EXPECT_NEAR(static_cast<double>(shape_area(triangle)), 3 * std::sqrt(3.0) / 4 * 3600, 0.01 * 4677);
  // Ring of outer radius 50, inner ratio 0.5: pi (50^2 - 25^2).
  const auto ring = make_shape_geometry(ShapeKind::ring, 0, 0, 100, 0, 1, 0.5);
  EXPECT_NEAR(static_cast<double>(shape_area(ring)), kPi * 1875, 0.01 * kPi * 1875);
  // Cross of half width w: two 2 x 2w bars overlapping in a 2w x 2w square, times 50^2.
  const auto cross = make_shape_geometry(ShapeKind::cross, 0, 0, 100, 0.3, 1, 0.3);
  EXPECT_NEAR(static_cast<double>(shape_area(cross)), (2 * 2 * 0.6 - 0.36) * 2500, 0.01 * 5100);
  // Five-pointed star of outer radius R and inner r: 10 triangles of area R r sin(36°) / 2.
  const auto star = make_shape_geometry(ShapeKind::star, 0, 0, 100, 0.2, 1, 0.5);
  const double outer = 1.15 * 50, inner = 0.5 * outer;
  EXPECT_NEAR(static_cast<double>(shape_area(star)), 5 * outer * inner * std::sin(kPi / 5),
              0.01 * 5 * outer * inner * std::sin(kPi / 5));
}

TEST(ShapesGeometry, ContainsHandPickedPoints) {
  const auto ring = make_shape_geometry(ShapeKind::ring, 50, 50, 40, 0, 1, 0.5);
  EXPECT_FALSE(shape_contains(ring, 50, 50));   // the hole
  EXPECT_TRUE(shape_contains(ring, 65, 50));    // radius 15 of [10, 20]
  EXPECT_FALSE(shape_contains(ring, 71, 50));
  // A square rotated 45 degrees: its corners are on the axes at half * sqrt(2).
  const auto diamond = make_shape_geometry(ShapeKind::square, 0, 0, 20, kPi / 4, 1, 0);
  EXPECT_TRUE(shape_contains(diamond, 14.0, 0));
  EXPECT_FALSE(shape_contains(diamond, 9, 9));  // beyond the edge x + y = 10 sqrt(2)
  EXPECT_TRUE(shape_contains(diamond, 6, 6));
  // The star's tip points up (angle 0): a point near the tip is in, the notch beside it out.
  const auto star = make_shape_geometry(ShapeKind::star, 0, 0, 100, 0, 1, 0.4);
  EXPECT_TRUE(shape_contains(star, 0, -55));
  EXPECT_TRUE(shape_contains(star, 0, 0));
  EXPECT_FALSE(shape_contains(star, 20, -40));
  const auto cross = make_shape_geometry(ShapeKind::cross, 0, 0, 100, 0, 1, 0.3);
  EXPECT_TRUE(shape_contains(cross, 45, 0));
  EXPECT_TRUE(shape_contains(cross, 0, -45));
  EXPECT_FALSE(shape_contains(cross, 30, 30));
  // The pixel box holds every pixel whose centre is inside.
  const PixelBox box = shape_pixel_box(star);
  for (int64_t y = box.y0 - 3; y < box.y1 + 3; ++y) {
    for (int64_t x = box.x0 - 3; x < box.x1 + 3; ++x) {
      if (x >= box.x0 && x < box.x1 && y >= box.y0 && y < box.y1) continue;
      ASSERT_FALSE(shape_contains(star, x + 0.5, y + 0.5)) << x << ", " << y;
    }
  }
}

TEST(ShapesRandom, UniformIntegersAndNormalsHaveTheirMoments) {
  ShapesRng rng(5, 0);
  std::vector<int64_t> counts(6, 0);
  double sum = 0, sum2 = 0;
  const int n = 60000;
  for (int i = 0; i < n; ++i) {
    ++counts[static_cast<size_t>(rng.integer(0, 5))];
    const double value = rng.normal();
    sum += value, sum2 += value * value;
  }
  for (const auto count : counts) EXPECT_NEAR(count, n / 6.0, 5 * std::sqrt(n / 6.0));
  EXPECT_NEAR(sum / n, 0, 0.02);
  EXPECT_NEAR(sum2 / n, 1, 0.03);
  EXPECT_NE(ShapesRng(5, 0).next(), ShapesRng(5, 1).next());
  EXPECT_NE(ShapesRng(5, 0).next(), ShapesRng(6, 0).next());
}

// --- scenes ----------------------------------------------------------------------------

TEST(ShapesImage, SameSeedAndIndexGiveIdenticalBytes) {
  const auto& config = default_config();
  const ShapesSample a = generate_shapes_image(config, 11, 3);
  const ShapesSample b = generate_shapes_image(config, 11, 3);
  EXPECT_TRUE(same_sample(a, b));
  EXPECT_FALSE(same_sample(a, generate_shapes_image(config, 11, 4)));
  EXPECT_FALSE(same_sample(a, generate_shapes_image(config, 12, 3)));
}

TEST(ShapesImage, ThreadCountDoesNotMatter) {
  const auto& config = default_config();
  const int count = 12;
  std::vector<ShapesSample> serial, parallel(count);
  for (int i = 0; i < count; ++i) serial.push_back(generate_shapes_image(config, 3, i));
#pragma omp parallel for num_threads(2) schedule(dynamic, 1)
  for (int i = 0; i < count; ++i) parallel[i] = generate_shapes_image(config, 3, i);
  for (int i = 0; i < count; ++i) EXPECT_TRUE(same_sample(serial[i], parallel[i])) << "image " << i;
}

// Masks are visible pixels: re-derive them naively from the drawn shapes (the topmost
// shape containing a pixel centre owns it) and check every promise of shapes.h.
TEST(ShapesImage, MasksAreExactDisjointInsideAndVisibleEnough) {
  const auto& config = default_config();
  const int64_t H = config.image_height, W = config.image_width;
  const auto K = static_cast<int64_t>(config.classes.size());
  const int64_t most = std::max(config.instances.max, config.same_class_instances.max);
  for (int64_t index = 0; index < 40; ++index) {
    const ShapesSample sample = generate_shapes_image(config, 7, index);
    ASSERT_EQ(sample.image.height, H);
    ASSERT_EQ(sample.image.width, W);
    ASSERT_EQ(sample.image.channels, 3);
    const auto n = static_cast<int64_t>(sample.instances.size());
    EXPECT_GE(n, 1) << "image " << index;
    EXPECT_LE(n, most);
    EXPECT_EQ(n + sample.skipped_instances, sample.planned_instances);
    std::vector<int> owner(static_cast<size_t>(H * W), -1);
    for (int64_t y = 0; y < H; ++y) {
      for (int64_t x = 0; x < W; ++x) {
        for (int64_t k = 0; k < n; ++k) {
          if (shape_contains(sample.instances[k].shape, x + 0.5, y + 0.5)) owner[y * W + x] = static_cast<int>(k);
        }
      }
    }
    std::vector<int> coverage(owner.size(), 0);
    for (int64_t k = 0; k < n; ++k) {
      const ShapesInstance& instance = sample.instances[k];
      SCOPED_TRACE("image " + std::to_string(index) + " instance " + std::to_string(k));
      ASSERT_EQ(instance.mask.height, H);
      ASSERT_EQ(instance.mask.width, W);
      EXPECT_GE(instance.category_id, 1);
      EXPECT_LE(instance.category_id, K);
      const std::vector<uint8_t> mask = rle_decode(instance.mask);
      int64_t area = 0;
      for (size_t p = 0; p < mask.size(); ++p) {
        EXPECT_EQ(mask[p] != 0, owner[p] == k) << "pixel " << p;
        coverage[p] += mask[p];
        area += mask[p];
      }
      EXPECT_EQ(area, instance.visible_area);
      EXPECT_EQ(instance.full_area, shape_area(instance.shape));
      EXPECT_GE(area, config.placement.min_visible_pixels);
      EXPECT_GE(static_cast<double>(area), config.placement.min_visible_fraction * instance.full_area);
      EXPECT_LE(area, instance.full_area);
    }
    for (size_t p = 0; p < coverage.size(); ++p) ASSERT_LE(coverage[p], 1) << "masks overlap at " << p;
  }
}

TEST(ShapesImage, AntialiasingChangesColoursNeverMasks) {
  ShapesConfig sharp = default_config();
  sharp.antialias_samples = 1;
  for (int64_t index = 0; index < 6; ++index) {
    const ShapesSample smooth = generate_shapes_image(default_config(), 1, index);
    const ShapesSample aliased = generate_shapes_image(sharp, 1, index);
    ASSERT_EQ(smooth.instances.size(), aliased.instances.size());
    for (size_t k = 0; k < smooth.instances.size(); ++k) {
      EXPECT_EQ(smooth.instances[k].mask.counts, aliased.instances[k].mask.counts);
    }
    EXPECT_NE(smooth.image.pixels, aliased.image.pixels);
  }
}

// Over a batch: counts and sizes within the configured ranges and spanning them, the
// hard cases (same-class multiples, touching, occlusion) present, classes balanced.
TEST(ShapesImage, BatchStatisticsMatchTheConfiguration) {
  const auto& config = default_config();
  const int64_t images = 300;
  const auto K = static_cast<int64_t>(config.classes.size());
  std::vector<int64_t> per_class(K, 0);
  int64_t instances = 0, skipped = 0, same_class_images = 0, touching = 0, occluding = 0;
  int64_t partly_hidden = 0;
  double smallest = 1e9, largest = 0;
  std::map<int64_t, int64_t> count_histogram;
  for (int64_t index = 0; index < images; ++index) {
    const ShapesSample sample = generate_shapes_image(config, 99, index);
    ++count_histogram[static_cast<int64_t>(sample.instances.size())];
    std::vector<int64_t> here(K, 0);
    for (const auto& instance : sample.instances) {
      ++per_class[instance.category_id - 1];
      ++here[instance.category_id - 1];
      touching += instance.touching;
      occluding += instance.occluding;
      partly_hidden += instance.visible_area < instance.full_area;
      smallest = std::min(smallest, instance.shape.size);
      largest = std::max(largest, instance.shape.size);
      EXPECT_GE(instance.shape.size, config.object_size.min);
      EXPECT_LE(instance.shape.size, config.object_size.max);
      // The mask fits in the shape's reach (rounded out to whole pixels).
      const auto box = rle_to_bbox(instance.mask);
      EXPECT_LE(std::max(box[2], box[3]), 2 * instance.shape.bounding_radius + 1);
    }
    instances += static_cast<int64_t>(sample.instances.size());
    skipped += sample.skipped_instances;
    same_class_images += *std::max_element(here.begin(), here.end()) >= 4;
  }
  // Sizes span ~8x: both ends of [14, 112] are reached.
  EXPECT_LT(smallest, 1.2 * config.object_size.min);
  EXPECT_GT(largest, 0.8 * config.object_size.max);
  // Every count from 1 to 8 occurs.
  for (int64_t n = 1; n <= config.instances.max; ++n) EXPECT_GT(count_histogram[n], 0) << n << " instances";
  // With same_class_probability 0.3, about a third of the images hold >= 4 of one class.
  EXPECT_GT(same_class_images, images / 5);
  EXPECT_GT(touching, instances / 10);
  EXPECT_GT(occluding, instances / 20);
  EXPECT_GT(partly_hidden, instances / 20);
  // Almost every planned instance finds room.
  EXPECT_LT(skipped, instances / 50);
  for (int64_t k = 0; k < K; ++k) {
    const double share = static_cast<double>(per_class[k]) / static_cast<double>(instances);
    EXPECT_GT(share, 0.7 / K) << config.classes[k];
    EXPECT_LT(share, 1.3 / K) << config.classes[k];
  }
}

// Any change to shapes-v1's images -- its JSON or the generator's arithmetic -- must
// change its name instead; this pins train images 0..3 and val image 0 (pixels, classes
// and masks). The value was the same at -O0 -march=x86-64 and -O2 -march=native with
// and without FMA contraction; only another libm's sin/cos/exp/log could move it.
TEST(ShapesV1, FingerprintIsFrozen) {
  const auto& config = default_config();
  Fingerprint fingerprint;
  for (int64_t index = 0; index < 4; ++index) {
    fingerprint.add(generate_shapes_image(config, config.train.seed, index));
  }
  fingerprint.add(generate_shapes_image(config, config.val.seed, 0));
  EXPECT_EQ(fingerprint.hash, 7127033418058589935ULL)
      << "shapes-v1's images changed. If that was intended, it is a new dataset: copy "
         "data/shapes/configs/shapes-v1.json to a new name (shapes-v2) and pin that one here.";
}

TEST(ShapesV1, ConfigurationIsTheFrozenDefault) {
  const auto& config = default_config();
  EXPECT_EQ(config.name, "shapes-v1");
  EXPECT_EQ(config.image_height, 192);
  EXPECT_EQ(config.image_width, 192);
  EXPECT_EQ(config.classes, (std::vector<std::string>{"circle", "square", "triangle", "star",
                                                      "cross", "ring"}));
  EXPECT_EQ(config.train.count, 1000);
  EXPECT_EQ(config.val.count, 300);
  EXPECT_NE(config.train.seed, config.val.seed);
  EXPECT_EQ(config.instances.min, 1);
  EXPECT_EQ(config.instances.max, 8);
  EXPECT_NE(config.comment.find("new name"), std::string::npos);
  EXPECT_EQ(shapes_categories(config)[0].id, 1);
  EXPECT_EQ(shapes_categories(config)[5].name, "ring");
  // Written and read back, the configuration is the same.
  EXPECT_EQ(parse_shapes_config(shapes_config_to_json(config), "round trip"), config);
  EXPECT_EQ(resolve_shapes_config(shapes_config_dir() + "/shapes-v1.json"), config);
  EXPECT_EQ(resolve_shapes_config("shapes-v1"), config);
}

// --- configuration errors --------------------------------------------------------------

TEST(ShapesConfigErrors, NameTheFileAndFieldAndWhatWasExpected) {
  const std::string text = default_config_text();
  ASSERT_EQ(config_error(text), "");
  const auto expect_error = [](const std::string& error, const std::vector<std::string>& parts) {
    EXPECT_FALSE(error.empty());
    for (const auto& part : parts) EXPECT_NE(error.find(part), std::string::npos) << error;
  };
  expect_error(config_error("{\"name\": "), {"test.json", "not valid JSON"});
  expect_error(config_error(std::string(100000, '[') + std::string(100000, ']')),
               {"test.json", "not valid JSON", "nested deeper than 128 levels"});
  expect_error(config_error(replace_once(text, "\"min_visible_fraction\": 0.3,", "")),
               {"test.json", "missing field", "placement.min_visible_fraction"});
  expect_error(config_error(replace_once(text, "\"noise_sigma\"", "\"noise_sigmaa\"")),
               {"unknown field", "background.noise_sigmaa", "noise_sigma"});
  expect_error(config_error(replace_once(text, "\"image_height\": 192", "\"image_height\": \"192\"")),
               {"image_height", "expected an integer", "\"192\""});
  expect_error(config_error(replace_once(text, "\"touch_probability\": 0.3", "\"touch_probability\": 1.5")),
               {"placement.touch_probability", "[0, 1]", "1.5"});
  expect_error(config_error(replace_once(text, "\"ring\"]", "\"hexagon\"]")),
               {"classes[5]", "expected one of", "circle", "\"hexagon\""});
  expect_error(config_error(replace_once(text, "\"instances\": {\"min\": 1, \"max\": 8}",
                                         "\"instances\": {\"min\": 5, \"max\": 2}")),
               {"instances", "min <= max"});
  expect_error(config_error(replace_once(text, "\"seed\": 20261101", "\"seed\": -1")),
               {"train.seed", "non-negative integer"});
  // A wrong value is quoted by its type and a short prefix, however large it is.
  std::string huge = "[0";
  for (int i = 1; i < 10000; ++i) huge += ", " + std::to_string(i);
  const std::string error = config_error(replace_once(text, "\"image_height\": 192", "\"image_height\": " + huge + "]"));
  expect_error(error, {"image_height", "expected an integer", "array [0,1,2"});
  EXPECT_LT(error.size(), 300u) << error;
}

TEST(ShapesConfigErrors, UnknownNamesAndMissingFilesAreNamed) {
  try {
    shapes_config_by_name("shapes-v0");
    FAIL() << "no error";
  } catch (const std::invalid_argument& error) {
    const std::string text = error.what();
    EXPECT_NE(text.find("\"shapes-v0\""), std::string::npos) << text;
    EXPECT_NE(text.find("shapes-v1"), std::string::npos) << text;  // listed as available
  }
  EXPECT_THROW(shapes_config_by_name("../configs/shapes-v1"), std::invalid_argument);
  try {
    load_shapes_config("/nonexistent/x.json");
    FAIL() << "no error";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent/x.json"), std::string::npos);
  }
  ShapesConfig empty = default_config();
  empty.classes.clear();
  EXPECT_THROW(generate_shapes_image(empty, 0, 0), std::invalid_argument);
}

// --- files -----------------------------------------------------------------------------

class ShapesTempDir {
 public:
  ShapesTempDir() {
    path_ = fs::temp_directory_path() /
            ("wise_shapes_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
  }
  ~ShapesTempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

TEST(ShapesDataset, WritesCocoAndVocThatReadBack) {
  const auto& config = default_config();
  const ShapesTempDir dir;
  ShapesDatasetOptions options;
  options.train_count = 3;
  options.val_count = 2;
  options.voc = true;
  const auto summaries = generate_shapes_dataset(config, dir / "out", options);
  ASSERT_EQ(summaries.size(), 2u);
  EXPECT_EQ(summaries[0].split, "train");
  EXPECT_EQ(summaries[0].images, 3);
  EXPECT_EQ(summaries[1].images, 2);

  for (const auto& [split, settings, count] :
       {std::tuple{std::string("train"), config.train, int64_t{3}},
        std::tuple{std::string("val"), config.val, int64_t{2}}}) {
    const Dataset dataset = read_coco_dataset(dir / ("out/annotations/" + split + ".json"));
    ASSERT_EQ(static_cast<int64_t>(dataset.images.size()), count);
    ASSERT_EQ(dataset.categories.size(), config.classes.size());
    EXPECT_EQ(dataset.categories[2].name, "triangle");
    size_t annotation = 0;
    std::string image_set;
    for (int64_t index = 0; index < count; ++index) {
      const ShapesSample sample = generate_shapes_image(config, settings.seed, index);
      const ImageInfo& info = dataset.images[index];
      EXPECT_EQ(info.id, index + 1);
      EXPECT_EQ(info.file_name, shapes_file_stem(index) + ".png");
      const Image png = load_image(dir / ("out/images/" + split + "/" + info.file_name));
      EXPECT_EQ(png.pixels, sample.image.pixels) << split << " " << index;
      const std::string stem = split + "_" + shapes_file_stem(index);
      image_set += stem + "\n";
      const IndexedImage objects = read_palette_png(dir / ("out/SegmentationObject/" + stem + ".png"));
      const IndexedImage classes = read_palette_png(dir / ("out/SegmentationClass/" + stem + ".png"));
      EXPECT_TRUE(fs::exists(dir / ("out/JPEGImages/" + stem + ".jpg")));
      std::vector<uint8_t> expected_objects(objects.indices.size(), 0), expected_classes = expected_objects;
      for (size_t k = 0; k < sample.instances.size(); ++k, ++annotation) {
        ASSERT_LT(annotation, dataset.annotations.size());
        const Annotation& written = dataset.annotations[annotation];
        EXPECT_EQ(written.image_id, info.id);
        EXPECT_EQ(written.category_id, sample.instances[k].category_id);
        EXPECT_EQ(written.segmentation.counts, sample.instances[k].mask.counts);
        EXPECT_EQ(written.area, static_cast<double>(sample.instances[k].visible_area));
        const auto mask = rle_decode(sample.instances[k].mask);
        for (size_t p = 0; p < mask.size(); ++p) {
          if (mask[p] == 0) continue;
          expected_objects[p] = static_cast<uint8_t>(k + 1);
          expected_classes[p] = static_cast<uint8_t>(sample.instances[k].category_id);
        }
      }
      EXPECT_EQ(objects.indices, expected_objects);
      EXPECT_EQ(classes.indices, expected_classes);
    }
    EXPECT_EQ(annotation, dataset.annotations.size());
    int64_t files = 0;  // exactly the images, no temporary files left behind
    for (const auto& entry : fs::directory_iterator(dir / ("out/images/" + split))) {
      EXPECT_EQ(entry.path().extension(), ".png") << entry.path();
      ++files;
    }
    EXPECT_EQ(files, count);
    EXPECT_EQ(read_text(dir / ("out/ImageSets/Segmentation/" + split + ".txt")), image_set);
  }
  ShapesConfig written = load_shapes_config(dir / "out/shapes_config.json");
  EXPECT_EQ(written.train.count, 3);
  EXPECT_EQ(written.val.count, 2);
  written.train.count = config.train.count;
  written.val.count = config.val.count;
  EXPECT_EQ(written, config);
}

TEST(ShapesDataset, FilesDoNotDependOnTheThreadCount) {
#ifdef _OPENMP
  const ShapesTempDir dir;
  ShapesDatasetOptions options;
  options.train_count = 6;
  options.val_count = 1;
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  generate_shapes_dataset(default_config(), dir / "one", options);
  omp_set_num_threads(3);
  generate_shapes_dataset(default_config(), dir / "three", options);
  omp_set_num_threads(threads);
  for (const std::string file : {"annotations/train.json", "annotations/val.json",
                                 "images/train/000006.png", "shapes_config.json"}) {
    EXPECT_EQ(read_text(dir / ("one/" + file)), read_text(dir / ("three/" + file))) << file;
  }
#else
  GTEST_SKIP() << "built without OpenMP";
#endif
}

}  // namespace
}  // namespace wise::data
