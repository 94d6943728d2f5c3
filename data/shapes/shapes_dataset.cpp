// Writing a synthetic shapes dataset to disk: PNG images and COCO JSON, optionally the
// PASCAL VOC layout too (see generate_shapes_dataset in shapes.h).
//
// The images are written with save_png's bulk options (fast, unsynced): stb's deflate
// takes ~5 ms on a noisy 192 x 192 image and every synced file costs two fsyncs, which
// measured 25 ms per image while other jobs shared the disk (30 s for the 1,300-image
// default); libpng at zlib level 1 takes ~2.5 ms. Each file is still written under a
// temporary name and renamed; the dataset as a whole is marked complete by
// shapes_config.json, written (atomically, with fsync) last.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "data/atomic_file.h"
#include "data/coco.h"
#include "data/image_io.h"
#include "data/palette_png.h"
#include "data/shapes/shapes.h"

namespace wise::data {
namespace {

namespace fs = std::filesystem;

// VOC's label maps of one sample: SegmentationObject (instance k -> index k + 1, in
// drawing order) and SegmentationClass (category id). Masks are disjoint, so each pixel
// gets at most one index.
void write_voc_label_maps(const ShapesSample& sample, const std::string& object_path,
                          const std::string& class_path) {
  IndexedImage objects, classes;
  objects.height = classes.height = sample.image.height;
  objects.width = classes.width = sample.image.width;
  objects.indices.assign(static_cast<size_t>(sample.image.height * sample.image.width), 0);
  classes.indices = objects.indices;
  std::vector<uint8_t> mask;
  for (size_t k = 0; k < sample.instances.size(); ++k) {
    mask = rle_decode(sample.instances[k].mask);
    for (size_t p = 0; p < mask.size(); ++p) {
      if (mask[p] == 0) continue;
      objects.indices[p] = static_cast<uint8_t>(k + 1);
      classes.indices[p] = static_cast<uint8_t>(sample.instances[k].category_id);
    }
  }
  write_palette_png(objects, object_path);  // empty palette: VOC's
  write_palette_png(classes, class_path);
}

ShapesSplitSummary write_split(const ShapesConfig& config, const std::string& split,
                               const ShapesSplit& settings, const std::string& out_dir, bool voc) {
  const fs::path root(out_dir);
  const fs::path image_dir = root / "images" / split;
  fs::create_directories(image_dir);
  fs::create_directories(root / "annotations");
  if (voc) {
    fs::create_directories(root / "JPEGImages");
    fs::create_directories(root / "SegmentationObject");
    fs::create_directories(root / "SegmentationClass");
    fs::create_directories(root / "ImageSets" / "Segmentation");
  }
  if (voc && (config.classes.size() > 254 || std::max(config.instances.max,
                                                        config.same_class_instances.max) > 254)) {
    throw std::invalid_argument("shapes configuration \"" + config.name +
                                "\": the VOC layout holds at most 254 classes and instances per image");
  }

  // Generate and write the images in parallel; keep only their instances.
  const int64_t count = settings.count;
  std::vector<std::vector<ShapesInstance>> instances(static_cast<size_t>(count));
  std::vector<int64_t> skipped(static_cast<size_t>(count), 0);
  std::exception_ptr failure;
  std::mutex failure_mutex;
  PngWriteOptions bulk_png;  // fast and unsynced (see the top of the file)
  bulk_png.fast = true;
  bulk_png.sync = false;
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t index = 0; index < count; ++index) {
    try {
      ShapesSample sample = generate_shapes_image(config, settings.seed, index);
      const std::string stem = shapes_file_stem(index);
      save_png(sample.image, (image_dir / (stem + ".png")).string(), bulk_png);
      if (voc) {
        const std::string voc_stem = split + "_" + stem;
        save_jpeg(sample.image, (root / "JPEGImages" / (voc_stem + ".jpg")).string());
        write_voc_label_maps(sample, (root / "SegmentationObject" / (voc_stem + ".png")).string(),
                             (root / "SegmentationClass" / (voc_stem + ".png")).string());
      }
      skipped[index] = sample.skipped_instances;
      instances[index] = std::move(sample.instances);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(failure_mutex);
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);

  // The COCO file, in index order (so identical at any thread count).
  Dataset dataset;
  dataset.categories = shapes_categories(config);
  ShapesSplitSummary summary;
  summary.split = split;
  summary.images = count;
  std::string image_set;
  for (int64_t index = 0; index < count; ++index) {
    ImageInfo image;
    image.id = shapes_image_id(index);
    image.file_name = shapes_file_stem(index) + ".png";
    image.height = config.image_height;
    image.width = config.image_width;
    dataset.images.push_back(image);
    image_set += split + "_" + shapes_file_stem(index) + "\n";
    for (ShapesInstance& instance : instances[index]) {
      Annotation annotation;
      annotation.id = static_cast<int64_t>(dataset.annotations.size()) + 1;
      annotation.image_id = image.id;
      annotation.category_id = instance.category_id;
      annotation.bbox = rle_to_bbox(instance.mask);
      annotation.area = static_cast<double>(rle_area(instance.mask));
      annotation.segmentation = std::move(instance.mask);
      dataset.annotations.push_back(std::move(annotation));
    }
    summary.skipped_instances += skipped[index];
  }
  summary.instances = static_cast<int64_t>(dataset.annotations.size());
  write_coco_dataset(dataset, (root / "annotations" / (split + ".json")).string());
  if (voc) {
    write_file_atomically((root / "ImageSets" / "Segmentation" / (split + ".txt")).string(),
                          image_set);
  }
  return summary;
}

}  // namespace

std::vector<ShapesSplitSummary> generate_shapes_dataset(const ShapesConfig& config,
                                                        const std::string& out_dir,
                                                        const ShapesDatasetOptions& options) {
  ShapesConfig used = config;
  if (options.train_count >= 0) used.train.count = options.train_count;
  if (options.val_count >= 0) used.val.count = options.val_count;
  fs::create_directories(out_dir);
  // The completion marker of an earlier run must not vouch for this one's half-written files.
  const fs::path marker = fs::path(out_dir) / "shapes_config.json";
  fs::remove(marker);
  std::vector<ShapesSplitSummary> summaries;
  summaries.push_back(write_split(used, "train", used.train, out_dir, options.voc));
  summaries.push_back(write_split(used, "val", used.val, out_dir, options.voc));
  write_file_atomically(marker.string(), shapes_config_to_json(used));
  return summaries;
}

}  // namespace wise::data
