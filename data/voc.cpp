// PASCAL VOC 2012 segmentation reader (see voc.h).
//
// Images are read in parallel (OpenMP over the split; each image is independent) into
// per-image results, then assembled in the split's order, so ids, warnings and the
// first error are the same at any thread count.
#include "data/voc.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include "data/image_io.h"
#include "data/palette_png.h"
#include "data/rle.h"

namespace wise::data {
namespace {

namespace fs = std::filesystem;

constexpr int kClassCount = 20;
constexpr uint8_t kVoid = 255;

const char* const kLayout =
    "expected the VOC2012 layout: <root>/ImageSets/Segmentation/<split>.txt, "
    "<root>/JPEGImages/, <root>/SegmentationObject/, <root>/SegmentationClass/ "
    "(root is VOCdevkit/VOC2012)";

// One instance found in an image, before annotation ids are assigned.
struct VocInstance {
  int64_t category_id = 0;
  Rle segmentation;
};

// Everything read for one image, or the exception that stopped it.
struct VocImageResult {
  int64_t height = 0;
  int64_t width = 0;
  std::vector<int64_t> labels;
  std::vector<VocInstance> instances;
  std::optional<Rle> void_mask;
  std::exception_ptr error;
};

void require_folder(const fs::path& folder) {
  std::error_code error;
  if (!fs::is_directory(folder, error)) {
    throw VocError(folder.string() + ": folder not found; " + kLayout);
  }
}

// The split's ids, one per line (blank lines and surrounding whitespace ignored).
std::vector<std::string> read_split_list(const fs::path& root, const std::string& split) {
  const fs::path list = root / "ImageSets" / "Segmentation" / (split + ".txt");
  std::ifstream stream(list);
  if (!stream) {
    std::set<std::string> splits;  // sorted: directory order is unspecified
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(list.parent_path(), error)) {
      if (entry.path().extension() == ".txt") splits.insert(entry.path().stem().string());
    }
    std::string available;
    for (const auto& name : splits) available += (available.empty() ? "" : ", ") + name;
    throw VocError(list.string() + ": split list not found; " + kLayout +
                   (available.empty() ? "" : "; splits found there: " + available));
  }
  std::vector<std::string> ids;
  std::set<std::string> seen;
  std::string line;
  for (int64_t number = 1; std::getline(stream, line); ++number) {
    const auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
    const auto first = std::find_if_not(line.begin(), line.end(), is_space);
    const auto last = std::find_if_not(line.rbegin(), line.rend(), is_space).base();
    if (first >= last) continue;
    std::string id(first, last);
    if (id.find_first_of(" \t") != std::string::npos || id.find('/') != std::string::npos) {
      throw VocError(list.string() + ":" + std::to_string(number) + ": expected one image id "
                     "per line (e.g. 2007_000032), found \"" + id + "\"");
    }
    if (!seen.insert(id).second) {
      throw VocError(list.string() + ":" + std::to_string(number) + ": image id " + id +
                     " is listed twice");
    }
    ids.push_back(std::move(id));
  }
  return ids;
}

// "YYYY_NNNNNN" -> YYYY * 1000000 + NNNNNN; -1 for any other form.
int64_t parse_voc_id(const std::string& id) {
  if (id.size() != 11 || id[4] != '_') return -1;
  int64_t year = 0, number = 0;
  for (int i = 0; i < 11; ++i) {
    if (i == 4) continue;
    if (!std::isdigit(static_cast<unsigned char>(id[i]))) return -1;
    int64_t& part = i < 4 ? year : number;
    part = part * 10 + (id[i] - '0');
  }
  return year * 1000000 + number;
}

void check_size(const IndexedImage& map, const fs::path& path, const ImageHeader& photo,
                const fs::path& photo_path) {
  if (map.height != photo.height || map.width != photo.width) {
    throw VocError(path.string() + ": label map is " + std::to_string(map.height) + " x " +
                   std::to_string(map.width) + " (height x width), expected the size of " +
                   photo_path.string() + ", " + std::to_string(photo.height) + " x " +
                   std::to_string(photo.width));
  }
}

// Reads one image's files. Throws ImageError (unreadable file) or VocError (content).
VocImageResult read_voc_image(const fs::path& root, const std::string& id, bool labels_only) {
  const fs::path photo_path = root / "JPEGImages" / (id + ".jpg");
  const fs::path class_path = root / "SegmentationClass" / (id + ".png");
  const fs::path object_path = root / "SegmentationObject" / (id + ".png");

  VocImageResult result;
  const ImageHeader photo = read_image_header(photo_path.string());
  result.height = photo.height;
  result.width = photo.width;

  const IndexedImage classes = read_palette_png(class_path.string());
  check_size(classes, class_path, photo, photo_path);
  std::array<bool, kClassCount + 1> present{};
  for (size_t i = 0; i < classes.indices.size(); ++i) {
    const uint8_t value = classes.indices[i];
    if (value > kClassCount && value != kVoid) {
      throw VocError(class_path.string() + ": pixel (y " + std::to_string(i / photo.width) +
                     ", x " + std::to_string(i % photo.width) + ") has class index " +
                     std::to_string(value) + ", expected 0 (background), 1..20 or 255 (void)");
    }
    if (value != kVoid) present[value] = true;
  }
  for (int c = 1; c <= kClassCount; ++c) {
    if (present[c]) result.labels.push_back(c);
  }
  if (labels_only) return result;

  const IndexedImage objects = read_palette_png(object_path.string());
  check_size(objects, object_path, photo, photo_path);
  const size_t pixels = objects.indices.size();

  // One pass: each instance index's class votes, and the void pixels.
  std::vector<std::array<int64_t, kClassCount + 1>> votes(256);
  std::array<int64_t, 256> instance_pixels{};
  std::vector<uint8_t> is_void(pixels, 0);
  bool any_void = false;
  for (size_t i = 0; i < pixels; ++i) {
    const uint8_t instance = objects.indices[i];
    const uint8_t value = classes.indices[i];
    if (instance == kVoid || value == kVoid) {
      is_void[i] = 1;
      any_void = true;
    }
    ++instance_pixels[instance];
    if (value != kVoid) ++votes[instance][value];
  }
  if (any_void) result.void_mask = rle_encode(is_void, photo.height, photo.width);

  std::vector<uint8_t> mask(pixels);
  for (int instance = 1; instance < kVoid; ++instance) {
    if (instance_pixels[instance] == 0) continue;
    // Majority class over 1..20; a strictly larger count wins, so ties keep the smaller id.
    int64_t category = 0, best = 0;
    for (int c = 1; c <= kClassCount; ++c) {
      if (votes[instance][c] > best) {
        best = votes[instance][c];
        category = c;
      }
    }
    if (category == 0) {
      throw VocError(object_path.string() + ": instance " + std::to_string(instance) + " (" +
                     std::to_string(instance_pixels[instance]) + " pixels) has no class: " +
                     class_path.string() + " is background or void under all its pixels");
    }
    for (size_t i = 0; i < pixels; ++i) mask[i] = objects.indices[i] == instance ? 1 : 0;
    result.instances.push_back({category, rle_encode(mask, photo.height, photo.width)});
  }
  return result;
}

std::string describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& exception) {
    return exception.what();
  } catch (...) {
    return "unknown error";
  }
}

}  // namespace

const std::vector<std::string>& voc_class_names() {
  static const std::vector<std::string> names = {
      "aeroplane", "bicycle", "bird",  "boat",        "bottle", "bus",         "car",
      "cat",       "chair",   "cow",   "diningtable", "dog",    "horse",       "motorbike",
      "person",    "pottedplant", "sheep", "sofa",    "train",  "tvmonitor"};
  return names;
}

std::vector<Category> voc_categories() {
  std::vector<Category> categories;
  const auto& names = voc_class_names();
  for (size_t i = 0; i < names.size(); ++i) {
    categories.push_back({static_cast<int64_t>(i + 1), names[i]});
  }
  return categories;
}

VocDataset read_voc(const std::string& root_name, const std::string& split,
                    const VocReadOptions& options) {
  const fs::path root(root_name);
  require_folder(root);
  const std::vector<std::string> ids = read_split_list(root, split);
  require_folder(root / "JPEGImages");
  require_folder(root / "SegmentationClass");
  if (!options.labels_only) require_folder(root / "SegmentationObject");

  const int64_t count = static_cast<int64_t>(ids.size());
  std::vector<VocImageResult> results(ids.size());
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t i = 0; i < count; ++i) {
    try {
      results[i] = read_voc_image(root, ids[i], options.labels_only);
    } catch (...) {
      results[i].error = std::current_exception();
    }
  }

  // Ids from the VOC names when every name has VOC's form, else by line.
  bool voc_names = true;
  for (const auto& id : ids) voc_names = voc_names && parse_voc_id(id) >= 0;

  VocDataset voc;
  voc.split = split;
  voc.labels_only = options.labels_only;
  voc.dataset.categories = voc_categories();
  int64_t next_annotation_id = 1;
  for (int64_t i = 0; i < count; ++i) {
    VocImageResult& result = results[i];
    if (result.error) {
      if (!options.skip_bad_files) std::rethrow_exception(result.error);
      const std::string reason = describe(result.error);
      std::fprintf(stderr, "wise: VOC2012 %s: skipping image %s: %s\n", split.c_str(),
                   ids[i].c_str(), reason.c_str());
      voc.skipped.push_back(reason);
      continue;
    }
    ImageInfo image;
    image.id = voc_names ? parse_voc_id(ids[i]) : i + 1;
    image.file_name = "JPEGImages/" + ids[i] + ".jpg";
    image.height = result.height;
    image.width = result.width;
    image.void_mask = std::move(result.void_mask);
    for (VocInstance& instance : result.instances) {
      Annotation annotation;
      annotation.id = next_annotation_id++;
      annotation.image_id = image.id;
      annotation.category_id = instance.category_id;
      annotation.area = static_cast<double>(rle_area(instance.segmentation));
      annotation.bbox = rle_to_bbox(instance.segmentation);
      annotation.segmentation = std::move(instance.segmentation);
      voc.dataset.annotations.push_back(std::move(annotation));
    }
    voc.dataset.images.push_back(std::move(image));
    voc.voc_ids.push_back(ids[i]);
    voc.image_labels.push_back(std::move(result.labels));
  }
  return voc;
}

std::string voc_summary(const VocDataset& voc) {
  const size_t images = voc.dataset.images.size();
  std::string line = "VOC2012 " + voc.split + ": " + std::to_string(images) + " images, ";
  if (voc.labels_only) {
    size_t labels = 0;
    for (const auto& image_labels : voc.image_labels) labels += image_labels.size();
    line += std::to_string(labels) + " image-level labels";
  } else {
    line += std::to_string(voc.dataset.annotations.size()) + " instances";
  }
  line += " (skipped " + std::to_string(voc.skipped.size());
  // The official lists, to catch a wrong or partial download at a glance.
  static const std::map<std::string, size_t> official = {
      {"train", 1464}, {"val", 1449}, {"trainval", 2913}};
  const auto known = official.find(voc.split);
  if (known != official.end() && images + voc.skipped.size() != known->second) {
    line += "; the official VOC2012 " + voc.split + " list has " +
            std::to_string(known->second) + " images";
  }
  return line + ")";
}

}  // namespace wise::data
