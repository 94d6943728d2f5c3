// COCO instance JSON and results files (see coco.h).
//
// Reading walks the JSON with a JsonReader that knows the source name, so that every
// error reads "<file>: <json path>: <what was found>, expected <what>". The writer
// validates the Dataset with the same rules (the vector index is the JSON index) before
// anything touches the disk.
#include "data/coco.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "data/atomic_file.h"
#include "data/json_text.h"
#include "data/number_text.h"
#include "data/rle_polygon.h"

namespace wise::data {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;  // writes keys in COCO's usual order

// pycocotools stores run lengths (and positions up to height * width) as uint32.
constexpr uint64_t kMaxPixels = 0xffffffffull;
// Polygons with fewer points enclose nothing; detectron2 drops them too.
constexpr size_t kMinPolygonCoordinates = 6;

std::string index_path(const std::string& array_path, size_t index) {
  return array_path + "[" + std::to_string(index) + "]";
}

std::string size_text(int64_t height, int64_t width) {
  return "[" + std::to_string(height) + ", " + std::to_string(width) + "]";
}

std::string describe(const Json& value) { return describe_json(value); }

// Reads typed fields, naming the source and the JSON path in every error.
struct JsonReader {
  std::string source;

  [[noreturn]] void fail(const std::string& path, const std::string& message) const {
    throw CocoError(source + ": " + (path.empty() ? "" : path + ": ") + message);
  }

  // object[key]; a missing key (or a non-object) is an error saying what was expected.
  const Json& field(const Json& object, const std::string& path, const char* key,
                    const char* expected) const {
    if (!object.is_object()) fail(path, "found " + describe(object) + ", expected an object");
    const auto found = object.find(key);
    if (found == object.end()) {
      fail(path.empty() ? key : path + "." + key, std::string("missing, expected ") + expected);
    }
    return *found;
  }

  // object[key] or nullptr when absent or null (optional fields).
  const Json* optional_field(const Json& object, const char* key) const {
    const auto found = object.find(key);
    return found == object.end() || found->is_null() ? nullptr : &*found;
  }

  const Json& array(const Json& value, const std::string& path, const char* expected) const {
    if (!value.is_array()) fail(path, "found " + describe(value) + ", expected " + expected);
    return value;
  }

  // Integers; a float with an integral value (some exporters write 3.0) is accepted.
  int64_t integer(const Json& value, const std::string& path) const {
    if (value.is_number_integer()) {
      if (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t{INT64_MAX}) {
        fail(path, "found " + describe(value) + ", expected an integer below 2^63");
      }
      return value.get<int64_t>();
    }
    if (value.is_number_float()) {
      const double number = value.get<double>();
      if (std::floor(number) == number && std::fabs(number) < 9.0e15) {
        return static_cast<int64_t>(number);
      }
    }
    fail(path, "found " + describe(value) + ", expected an integer");
  }

  double number(const Json& value, const std::string& path) const {
    if (!value.is_number()) fail(path, "found " + describe(value) + ", expected a number");
    return value.get<double>();
  }

  std::string string(const Json& value, const std::string& path) const {
    if (!value.is_string()) fail(path, "found " + describe(value) + ", expected a string");
    return value.get<std::string>();
  }

  bool flag(const Json& value, const std::string& path) const {
    if (value.is_boolean()) return value.get<bool>();
    if (value.is_number()) {
      const double number = value.get<double>();
      if (number == 0 || number == 1) return number == 1;
    }
    fail(path, "found " + describe(value) + ", expected 0 or 1");
  }

  std::array<double, 4> bbox(const Json& value, const std::string& path) const {
    array(value, path, "[x, y, width, height]");
    if (value.size() != 4) {
      fail(path,
           "has " + std::to_string(value.size()) + " numbers, expected 4 ([x, y, width, height])");
    }
    std::array<double, 4> box{};
    for (size_t i = 0; i < 4; ++i) box[i] = number(value[i], index_path(path, i));
    if (box[2] < 0 || box[3] < 0) {
      fail(path, "has a negative width or height (" + value.dump() + ")");
    }
    return box;
  }

  // An RLE object {"size": [h, w], "counts": "..." or [...]} of exactly the given size.
  Rle rle(const Json& value, const std::string& path, int64_t height, int64_t width,
          const std::string& owner) const {
    const std::string size_path = path + ".size";
    const Json& size =
        array(field(value, path, "size", "[height, width]"), size_path, "[height, width]");
    if (size.size() != 2) {
      fail(size_path,
           "has " + std::to_string(size.size()) + " numbers, expected 2 ([height, width])");
    }
    const int64_t rle_height = integer(size[0], size_path + "[0]");
    const int64_t rle_width = integer(size[1], size_path + "[1]");
    if (rle_height != height || rle_width != width) {
      fail(size_path, "found " + size_text(rle_height, rle_width) + ", expected " +
                          size_text(height, width) + " (the size of " + owner + ")");
    }
    const std::string counts_path = path + ".counts";
    const Json& counts = field(value, path, "counts", "a compressed RLE string or a list of runs");
    if (counts.is_string()) {
      try {
        return rle_from_string(counts.get<std::string>(), height, width,
                               source + ": " + counts_path);
      } catch (const std::invalid_argument& error) {
        throw CocoError(error.what());
      }
    }
    if (!counts.is_array()) {
      fail(counts_path,
           "found " + describe(counts) + ", expected a compressed RLE string or a list of runs");
    }
    Rle rle{height, width, {}};
    rle.counts.reserve(counts.size());
    for (size_t i = 0; i < counts.size(); ++i) {
      const int64_t run = integer(counts[i], index_path(counts_path, i));
      if (run < 0 || static_cast<uint64_t>(run) > kMaxPixels) {
        fail(index_path(counts_path, i),
             "found " + std::to_string(run) + ", expected a run length in [0, 2^32)");
      }
      rle.counts.push_back(static_cast<uint32_t>(run));
    }
    try {
      rle_check(rle, source + ": " + counts_path);
    } catch (const std::invalid_argument& error) {
      throw CocoError(error.what());
    }
    return rle;
  }

  // A list of polygons, rasterized and merged as pycocotools' annToRLE does.
  Rle polygons(const Json& value, const std::string& path, int64_t height, int64_t width) const {
    std::vector<Rle> parts;
    for (size_t i = 0; i < value.size(); ++i) {
      const std::string polygon_path = index_path(path, i);
      const Json& polygon = array(value[i], polygon_path, "a polygon [x0, y0, x1, y1, ...]");
      if (polygon.size() % 2 != 0) {
        fail(polygon_path, "has " + std::to_string(polygon.size()) +
                               " coordinates, expected an even count (x, y pairs)");
      }
      std::vector<double> xy(polygon.size());
      for (size_t j = 0; j < polygon.size(); ++j)
        xy[j] = number(polygon[j], index_path(polygon_path, j));
      if (xy.size() < kMinPolygonCoordinates) continue;
      try {
        parts.push_back(rle_from_polygon(xy, height, width));
      } catch (const std::invalid_argument& error) {
        fail(polygon_path, error.what());
      }
    }
    return parts.empty() ? rle_empty(height, width) : rle_merge(parts, /*intersect=*/false);
  }

  Rle segmentation(const Json& value, const std::string& path, int64_t height, int64_t width,
                   const std::string& owner) const {
    if (value.is_array()) return polygons(value, path, height, width);
    if (value.is_object()) return rle(value, path, height, width, owner);
    fail(path, "found " + describe(value) +
                   ", expected a list of polygons or an RLE object {\"size\", \"counts\"}");
  }
};

Json parse_json(const std::string& json_text, const JsonReader& reader) {
  try {
    return parse_json_bounded(json_text);
  } catch (const JsonTextError& error) {
    reader.fail("", error.what());
  }
}

// Image sizes by id, for checking and rasterizing the segmentations that refer to them.
struct ImageSize {
  int64_t height;
  int64_t width;
};

// Records `id` at `path`, failing if an earlier entry already used it.
template <typename Value>
void insert_unique(std::map<int64_t, std::pair<std::string, Value>>& seen, int64_t id,
                   const std::string& path, const Value& value, const JsonReader& reader) {
  const auto [it, inserted] = seen.emplace(id, std::make_pair(path, value));
  if (!inserted)
    reader.fail(path, "duplicate id " + std::to_string(id) + " (also " + it->second.first + ")");
}

using ImageTable = std::map<int64_t, std::pair<std::string, ImageSize>>;

void check_image_size(int64_t height, int64_t width, const std::string& path,
                      const JsonReader& reader) {
  if (height <= 0 || width <= 0 ||
      static_cast<uint64_t>(height) * static_cast<uint64_t>(width) > kMaxPixels) {
    reader.fail(path, "size " + size_text(height, width) +
                          ", expected positive height and width with height * width < 2^32");
  }
}

ImageInfo read_image(const Json& value, const std::string& path, const JsonReader& reader) {
  ImageInfo image;
  image.id = reader.integer(reader.field(value, path, "id", "an integer image id"), path + ".id");
  image.file_name =
      reader.string(reader.field(value, path, "file_name", "a string"), path + ".file_name");
  image.height =
      reader.integer(reader.field(value, path, "height", "an integer"), path + ".height");
  image.width = reader.integer(reader.field(value, path, "width", "an integer"), path + ".width");
  check_image_size(image.height, image.width, path, reader);
  if (const Json* void_mask = reader.optional_field(value, "wise_void")) {
    image.void_mask = reader.rle(*void_mask, path + ".wise_void", image.height, image.width,
                                 "image " + std::to_string(image.id));
  }
  return image;
}

Annotation read_annotation(const Json& value, const std::string& path, const ImageTable& images,
                           const std::set<int64_t>& category_ids, const JsonReader& reader) {
  Annotation annotation;
  annotation.id =
      reader.integer(reader.field(value, path, "id", "an integer annotation id"), path + ".id");
  annotation.image_id = reader.integer(reader.field(value, path, "image_id", "an integer image id"),
                                       path + ".image_id");
  annotation.category_id = reader.integer(
      reader.field(value, path, "category_id", "an integer category id"), path + ".category_id");
  const auto image = images.find(annotation.image_id);
  if (image == images.end()) {
    reader.fail(path + ".image_id", "unknown image id " + std::to_string(annotation.image_id) +
                                        ", expected the id of one of the " +
                                        std::to_string(images.size()) + " images");
  }
  if (category_ids.count(annotation.category_id) == 0) {
    reader.fail(path + ".category_id", "unknown category id " +
                                           std::to_string(annotation.category_id) +
                                           ", expected the id of one of the " +
                                           std::to_string(category_ids.size()) + " categories");
  }
  const ImageSize size = image->second.second;
  annotation.segmentation =
      reader.segmentation(reader.field(value, path, "segmentation", "polygons or an RLE object"),
                          path + ".segmentation", size.height, size.width,
                          "image " + std::to_string(annotation.image_id));
  // bbox and area as the file gives them (COCO's area of a polygon is the polygon's
  // area, not its pixel count); from the mask when absent.
  const Json* bbox = reader.optional_field(value, "bbox");
  annotation.bbox =
      bbox ? reader.bbox(*bbox, path + ".bbox") : rle_to_bbox(annotation.segmentation);
  const Json* area = reader.optional_field(value, "area");
  annotation.area = area ? reader.number(*area, path + ".area")
                         : static_cast<double>(rle_area(annotation.segmentation));
  if (annotation.area < 0) reader.fail(path + ".area", "found " + area->dump() + ", expected >= 0");
  const Json* iscrowd = reader.optional_field(value, "iscrowd");
  annotation.iscrowd = iscrowd ? reader.flag(*iscrowd, path + ".iscrowd") : false;
  return annotation;
}

// The shortest decimal that reads back as the same float (0.9f is written 0.9, not
// 0.8999999761581421), as a double for nlohmann-json.
double shortest_decimal(float value) {
  char text[32];
  const auto result = std::to_chars(text, text + sizeof(text), value);
  return std::strtod(std::string(text, result.ptr).c_str(), nullptr);
}

OrderedJson rle_json(const Rle& rle, const CocoWriteOptions& options) {
  OrderedJson json;
  json["size"] = {rle.height, rle.width};
  if (options.compressed_rle) {
    json["counts"] = rle_to_string(rle);
  } else {
    json["counts"] = rle.counts;
  }
  return json;
}

OrderedJson bbox_json(const std::array<double, 4>& box) {
  return OrderedJson::array({box[0], box[1], box[2], box[3]});
}

void check_finite_box(const std::array<double, 4>& box, const std::string& path,
                      const JsonReader& reader) {
  for (double value : box) {
    if (!std::isfinite(value)) reader.fail(path, "has a non-finite value, expected 4 numbers");
  }
}

// The checks the reader makes, on a Dataset about to be written ("annotations[3]" is
// dataset.annotations[3], the index it will have in the file).
void check_dataset(const Dataset& dataset, const JsonReader& reader) {
  ImageTable images;
  for (size_t i = 0; i < dataset.images.size(); ++i) {
    const ImageInfo& image = dataset.images[i];
    const std::string path = index_path("images", i);
    insert_unique(images, image.id, path + ".id", ImageSize{image.height, image.width}, reader);
    check_image_size(image.height, image.width, path, reader);
    if (image.void_mask) {
      const Rle& mask = *image.void_mask;
      if (mask.height != image.height || mask.width != image.width) {
        reader.fail(path + ".wise_void.size",
                    "found " + size_text(mask.height, mask.width) + ", expected " +
                        size_text(image.height, image.width) + " (the size of image " +
                        std::to_string(image.id) + ")");
      }
      try {
        rle_check(mask, reader.source + ": " + path + ".wise_void.counts");
      } catch (const std::invalid_argument& error) {
        throw CocoError(error.what());
      }
    }
  }
  std::map<int64_t, std::pair<std::string, bool>> categories;
  for (size_t i = 0; i < dataset.categories.size(); ++i) {
    insert_unique(categories, dataset.categories[i].id, index_path("categories", i) + ".id", true,
                  reader);
  }
  std::map<int64_t, std::pair<std::string, bool>> annotation_ids;
  for (size_t i = 0; i < dataset.annotations.size(); ++i) {
    const Annotation& annotation = dataset.annotations[i];
    const std::string path = index_path("annotations", i);
    insert_unique(annotation_ids, annotation.id, path + ".id", true, reader);
    const auto image = images.find(annotation.image_id);
    if (image == images.end()) {
      reader.fail(path + ".image_id", "unknown image id " + std::to_string(annotation.image_id));
    }
    if (categories.count(annotation.category_id) == 0) {
      reader.fail(path + ".category_id",
                  "unknown category id " + std::to_string(annotation.category_id));
    }
    const Rle& mask = annotation.segmentation;
    const ImageSize size = image->second.second;
    if (mask.height != size.height || mask.width != size.width) {
      reader.fail(path + ".segmentation.size",
                  "found " + size_text(mask.height, mask.width) + ", expected " +
                      size_text(size.height, size.width) + " (the size of image " +
                      std::to_string(annotation.image_id) + ")");
    }
    try {
      rle_check(mask, reader.source + ": " + path + ".segmentation.counts");
    } catch (const std::invalid_argument& error) {
      throw CocoError(error.what());
    }
    // JSON has no NaN or infinity (nlohmann-json would write null).
    if (!(std::isfinite(annotation.area) && annotation.area >= 0)) {
      reader.fail(path + ".area", "is " + number_text(annotation.area) + ", expected >= 0");
    }
    check_finite_box(annotation.bbox, path + ".bbox", reader);
  }
}

std::string dump(const OrderedJson& json, const CocoWriteOptions& options) {
  std::string text = json.dump(options.indent);
  text.push_back('\n');
  return text;
}

std::string read_file_for_coco(const std::string& path) {
  try {
    return read_whole_file(path);
  } catch (const std::runtime_error& error) {
    throw CocoError(error.what());
  }
}

void write_file_for_coco(const std::string& path, const std::string& text) {
  try {
    write_file_atomically(path, text);
  } catch (const std::runtime_error& error) {
    throw CocoError(error.what());
  }
}

}  // namespace

Dataset read_coco_dataset_from_string(const std::string& json_text, const std::string& source) {
  const JsonReader reader{source};
  const Json root = parse_json(json_text, reader);
  if (!root.is_object()) {
    reader.fail("", "found " + describe(root) +
                        ", expected a COCO object {\"images\", \"categories\", \"annotations\"}");
  }
  Dataset dataset;

  ImageTable images;
  const Json& image_list = reader.array(reader.field(root, "", "images", "a list of images"),
                                        "images", "a list of images");
  for (size_t i = 0; i < image_list.size(); ++i) {
    const std::string path = index_path("images", i);
    ImageInfo image = read_image(image_list[i], path, reader);
    insert_unique(images, image.id, path + ".id", ImageSize{image.height, image.width}, reader);
    dataset.images.push_back(std::move(image));
  }

  std::map<int64_t, std::pair<std::string, bool>> categories;
  std::set<int64_t> category_ids;
  const Json& category_list =
      reader.array(reader.field(root, "", "categories", "a list of categories"), "categories",
                   "a list of categories");
  for (size_t i = 0; i < category_list.size(); ++i) {
    const std::string path = index_path("categories", i);
    Category category;
    category.id = reader.integer(
        reader.field(category_list[i], path, "id", "an integer category id"), path + ".id");
    category.name =
        reader.string(reader.field(category_list[i], path, "name", "a string"), path + ".name");
    insert_unique(categories, category.id, path + ".id", true, reader);
    category_ids.insert(category.id);
    dataset.categories.push_back(std::move(category));
  }

  // COCO's test-set "image info" files have no annotations at all.
  std::map<int64_t, std::pair<std::string, bool>> annotation_ids;
  if (const Json* annotation_list = reader.optional_field(root, "annotations")) {
    reader.array(*annotation_list, "annotations", "a list of annotations");
    dataset.annotations.reserve(annotation_list->size());
    for (size_t i = 0; i < annotation_list->size(); ++i) {
      const std::string path = index_path("annotations", i);
      Annotation annotation =
          read_annotation((*annotation_list)[i], path, images, category_ids, reader);
      insert_unique(annotation_ids, annotation.id, path + ".id", true, reader);
      dataset.annotations.push_back(std::move(annotation));
    }
  }
  return dataset;
}

Dataset read_coco_dataset(const std::string& path) {
  return read_coco_dataset_from_string(read_file_for_coco(path), path);
}

namespace {

// `source` names the destination in errors.
std::string dataset_text(const Dataset& dataset, const CocoWriteOptions& options,
                         const std::string& source) {
  check_dataset(dataset, JsonReader{source});
  OrderedJson root;
  root["images"] = OrderedJson::array();
  for (const ImageInfo& image : dataset.images) {
    OrderedJson json;
    json["id"] = image.id;
    json["file_name"] = image.file_name;
    json["height"] = image.height;
    json["width"] = image.width;
    if (image.void_mask) json["wise_void"] = rle_json(*image.void_mask, options);
    root["images"].push_back(std::move(json));
  }
  root["categories"] = OrderedJson::array();
  for (const Category& category : dataset.categories) {
    root["categories"].push_back(OrderedJson{{"id", category.id}, {"name", category.name}});
  }
  root["annotations"] = OrderedJson::array();
  for (const Annotation& annotation : dataset.annotations) {
    OrderedJson json;
    json["id"] = annotation.id;
    json["image_id"] = annotation.image_id;
    json["category_id"] = annotation.category_id;
    json["segmentation"] = rle_json(annotation.segmentation, options);
    json["area"] = annotation.area;
    json["bbox"] = bbox_json(annotation.bbox);
    json["iscrowd"] = annotation.iscrowd ? 1 : 0;
    root["annotations"].push_back(std::move(json));
  }
  return dump(root, options);
}

}  // namespace

std::string coco_dataset_to_string(const Dataset& dataset, const CocoWriteOptions& options) {
  return dataset_text(dataset, options, "COCO dataset");
}

void write_coco_dataset(const Dataset& dataset, const std::string& path,
                        const CocoWriteOptions& options) {
  write_file_for_coco(path, dataset_text(dataset, options, path));
}

std::vector<Detection> read_coco_results_from_string(const std::string& json_text,
                                                     const Dataset& ground_truth,
                                                     const std::string& source) {
  const JsonReader reader{source};
  const std::vector<ImageInfo>& images = ground_truth.images;
  ImageTable sizes;
  for (size_t i = 0; i < images.size(); ++i) {
    const JsonReader argument{"read_coco_results(" + source + "): ground truth argument"};
    insert_unique(sizes, images[i].id, index_path("images", i) + ".id",
                  ImageSize{images[i].height, images[i].width}, argument);
  }
  std::set<int64_t> category_ids;
  for (const Category& category : ground_truth.categories) category_ids.insert(category.id);
  const Json root = parse_json(json_text, reader);
  if (!root.is_array()) {
    reader.fail("", "found " + describe(root) +
                        ", expected a results list [{image_id, category_id, segmentation, score}]");
  }
  std::vector<Detection> detections;
  detections.reserve(root.size());
  for (size_t i = 0; i < root.size(); ++i) {
    const std::string path = index_path("", i);
    const Json& value = root[i];
    Detection detection;
    detection.image_id = reader.integer(
        reader.field(value, path, "image_id", "an integer image id"), path + ".image_id");
    detection.category_id = reader.integer(
        reader.field(value, path, "category_id", "an integer category id"), path + ".category_id");
    const double score =
        reader.number(reader.field(value, path, "score", "a number"), path + ".score");
    if (!std::isfinite(static_cast<float>(score))) {
      reader.fail(path + ".score", "found " + value["score"].dump() + ", expected a finite float");
    }
    detection.score = static_cast<float>(score);
    detection.file_score = score;
    const auto image = sizes.find(detection.image_id);
    if (image == sizes.end()) {
      reader.fail(path + ".image_id", "unknown image id " + std::to_string(detection.image_id) +
                                          ", expected the id of one of the " +
                                          std::to_string(sizes.size()) + " images given");
    }
    if (category_ids.count(detection.category_id) == 0) {
      reader.fail(path + ".category_id", "unknown category id " +
                                             std::to_string(detection.category_id) +
                                             ", expected the id of one of the " +
                                             std::to_string(category_ids.size()) +
                                             " categories given");
    }
    const ImageSize size = image->second.second;
    detection.segmentation =
        reader.segmentation(reader.field(value, path, "segmentation",
                                         "an RLE object or polygons (wise reads mask results)"),
                            path + ".segmentation", size.height, size.width,
                            "image " + std::to_string(detection.image_id));
    const Json* bbox = reader.optional_field(value, "bbox");
    detection.bbox =
        bbox ? reader.bbox(*bbox, path + ".bbox") : rle_to_bbox(detection.segmentation);
    detections.push_back(std::move(detection));
  }
  return detections;
}

std::vector<Detection> read_coco_results(const std::string& path, const Dataset& ground_truth) {
  return read_coco_results_from_string(read_file_for_coco(path), ground_truth, path);
}

namespace {

std::string results_text(const std::vector<Detection>& detections, const CocoWriteOptions& options,
                         const std::string& source) {
  const JsonReader reader{source};
  OrderedJson root = OrderedJson::array();
  for (size_t i = 0; i < detections.size(); ++i) {
    const Detection& detection = detections[i];
    if (!std::isfinite(detection.score)) {
      reader.fail(index_path("", i) + ".score",
                  "is " + number_text(detection.score) + ", expected a finite score");
    }
    try {
      rle_check(detection.segmentation,
                reader.source + ": " + index_path("", i) + ".segmentation.counts");
    } catch (const std::invalid_argument& error) {
      throw CocoError(error.what());
    }
    check_finite_box(detection.bbox, index_path("", i) + ".bbox", reader);
    OrderedJson json;
    json["image_id"] = detection.image_id;
    json["category_id"] = detection.category_id;
    json["segmentation"] = rle_json(detection.segmentation, options);
    json["score"] = shortest_decimal(detection.score);
    json["bbox"] = bbox_json(detection.bbox);
    root.push_back(std::move(json));
  }
  return dump(root, options);
}

}  // namespace

std::string coco_results_to_string(const std::vector<Detection>& detections,
                                   const CocoWriteOptions& options) {
  return results_text(detections, options, "COCO results");
}

void write_coco_results(const std::vector<Detection>& detections, const std::string& path,
                        const CocoWriteOptions& options) {
  write_file_for_coco(path, results_text(detections, options, path));
}

std::vector<std::vector<int64_t>> image_labels(const Dataset& dataset) {
  std::map<int64_t, size_t> index_of_image;
  for (size_t i = 0; i < dataset.images.size(); ++i)
    index_of_image.emplace(dataset.images[i].id, i);
  std::vector<std::vector<int64_t>> labels(dataset.images.size());
  for (size_t i = 0; i < dataset.annotations.size(); ++i) {
    const Annotation& annotation = dataset.annotations[i];
    const auto image = index_of_image.find(annotation.image_id);
    if (image == index_of_image.end()) {
      throw CocoError("image_labels: annotations[" + std::to_string(i) +
                      "] refers to unknown image id " + std::to_string(annotation.image_id));
    }
    labels[image->second].push_back(annotation.category_id);
  }
  for (auto& list : labels) {
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
  }
  return labels;
}

}  // namespace wise::data
