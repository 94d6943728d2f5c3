// Reading, validating and writing shapes configurations (see shapes_config.h).
#include "data/shapes/shapes_config.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

#include "data/json_text.h"
#include "data/shapes/shapes_render.h"

#ifndef WISE_SHAPES_CONFIG_DIR
#define WISE_SHAPES_CONFIG_DIR "data/shapes/configs"
#endif

namespace wise::data {
namespace {

using nlohmann::json;

// Walks a JSON object, naming every field by its dotted path in errors.
class FieldReader {
 public:
  FieldReader(const json& object, std::string source, std::string path)
      : object_(object), source_(std::move(source)), path_(std::move(path)) {}

  // Every key must be one of `allowed`, and every one of them present.
  void expect_exactly(std::initializer_list<const char*> allowed) const {
    if (!object_.is_object()) fail(path_.empty() ? "(top level)" : path_, "expected an object", object_);
    std::set<std::string> names(allowed.begin(), allowed.end());
    for (const auto& item : object_.items()) {
      if (names.count(item.key()) == 0) {
        std::string list;
        for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
        throw std::invalid_argument(source_ + ": unknown field \"" + full(item.key()) +
                                    "\" (expected only: " + list + ")");
      }
    }
    for (const auto& name : names) field(name);
  }

  const json& field(const std::string& key) const {
    const auto found = object_.find(key);
    if (found == object_.end()) {
      throw std::invalid_argument(source_ + ": missing field \"" + full(key) + "\"");
    }
    return *found;
  }

  FieldReader child(const std::string& key) const {
    const json& value = field(key);
    if (!value.is_object()) fail(full(key), "expected an object", value);
    return FieldReader(value, source_, full(key));
  }

  std::string text(const std::string& key) const {
    const json& value = field(key);
    if (!value.is_string()) fail(full(key), "expected a string", value);
    return value.get<std::string>();
  }

  double real(const std::string& key, double low, double high) const {
    const json& value = field(key);
    if (!value.is_number()) fail(full(key), "expected a number", value);
    const double result = value.get<double>();
    if (!(result >= low && result <= high)) {
      fail(full(key), "expected a number in [" + format(low) + ", " + format(high) + "]", value);
    }
    return result;
  }

  int64_t integer(const std::string& key, int64_t low, int64_t high) const {
    const json& value = field(key);
    if (!value.is_number_integer()) fail(full(key), "expected an integer", value);
    const int64_t result = value.get<int64_t>();
    if (result < low || result > high) {
      fail(full(key), "expected an integer in [" + std::to_string(low) + ", " +
                          std::to_string(high) + "]", value);
    }
    return result;
  }

  uint64_t seed(const std::string& key) const {
    const json& value = field(key);
    if (!value.is_number_unsigned()) fail(full(key), "expected a non-negative integer", value);
    return value.get<uint64_t>();
  }

  ShapesIntRange int_range(const std::string& key, int64_t low, int64_t high) const {
    const FieldReader range = child(key);
    range.expect_exactly({"min", "max"});
    ShapesIntRange result{range.integer("min", low, high), range.integer("max", low, high)};
    if (result.min > result.max) fail(full(key), "expected min <= max", field(key));
    return result;
  }

  ShapesRealRange real_range(const std::string& key, double low, double high) const {
    const FieldReader range = child(key);
    range.expect_exactly({"min", "max"});
    ShapesRealRange result{range.real("min", low, high), range.real("max", low, high)};
    if (result.min > result.max) fail(full(key), "expected min <= max", field(key));
    return result;
  }

  [[noreturn]] void fail(const std::string& path, const std::string& expected,
                         const json& found) const {
    throw std::invalid_argument(source_ + ": field \"" + path + "\": " + expected + ", found " +
                                describe_json(found));
  }

  const std::string& source() const { return source_; }

 private:
  std::string full(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  static std::string format(double value) {
    std::ostringstream stream;
    stream << value;
    return stream.str();
  }

  const json& object_;
  std::string source_;
  std::string path_;
};

ShapesSplit read_split(const FieldReader& parent, const std::string& key) {
  const FieldReader split = parent.child(key);
  split.expect_exactly({"count", "seed"});
  return ShapesSplit{split.integer("count", 0, 100'000'000), split.seed("seed")};
}

json range_json(const ShapesIntRange& range) { return json{{"min", range.min}, {"max", range.max}}; }
json range_json(const ShapesRealRange& range) { return json{{"min", range.min}, {"max", range.max}}; }
json split_json(const ShapesSplit& split) { return json{{"count", split.count}, {"seed", split.seed}}; }

bool same(const ShapesIntRange& a, const ShapesIntRange& b) { return a.min == b.min && a.max == b.max; }
bool same(const ShapesRealRange& a, const ShapesRealRange& b) { return a.min == b.min && a.max == b.max; }

}  // namespace

ShapesConfig parse_shapes_config(const std::string& json_text, const std::string& source) {
  json root;
  try {
    root = parse_json_bounded(json_text);
  } catch (const JsonTextError& error) {
    throw std::invalid_argument(source + ": not valid JSON: " + error.what());
  }
  const FieldReader top(root, source, "");
  top.expect_exactly({"name", "comment", "image_height", "image_width", "classes", "train", "val",
                      "instances", "same_class_probability", "same_class_instances",
                      "object_size", "max_aspect_ratio", "placement", "colour", "background",
                      "clutter", "antialias_samples"});
  ShapesConfig config;
  config.name = top.text("name");
  if (config.name.empty()) top.fail("name", "expected a non-empty string", root["name"]);
  config.comment = top.text("comment");
  config.image_height = top.integer("image_height", 16, 8192);
  config.image_width = top.integer("image_width", 16, 8192);

  const json& classes = top.field("classes");
  if (!classes.is_array() || classes.empty()) {
    top.fail("classes", "expected a non-empty array of shape names", classes);
  }
  std::string known;
  for (const auto& name : shape_kind_names()) known += (known.empty() ? "" : ", ") + name;
  for (size_t i = 0; i < classes.size(); ++i) {
    const std::string path = "classes[" + std::to_string(i) + "]";
    if (!classes[i].is_string()) top.fail(path, "expected a string", classes[i]);
    const std::string name = classes[i].get<std::string>();
    if (!is_shape_kind_name(name)) top.fail(path, "expected one of " + known, classes[i]);
    for (const auto& earlier : config.classes) {
      if (earlier == name) top.fail(path, "expected each class once", classes[i]);
    }
    config.classes.push_back(name);
  }

  config.train = read_split(top, "train");
  config.val = read_split(top, "val");
  config.instances = top.int_range("instances", 1, 64);
  config.same_class_probability = top.real("same_class_probability", 0, 1);
  config.same_class_instances = top.int_range("same_class_instances", 1, 64);
  const double smaller_side = static_cast<double>(std::min(config.image_height, config.image_width));
  config.object_size = top.real_range("object_size", 4, smaller_side);
  config.max_aspect_ratio = top.real("max_aspect_ratio", 1, 4);

  const FieldReader placement = top.child("placement");
  placement.expect_exactly({"touch_probability", "occlude_probability", "occlusion_depth",
                            "min_visible_fraction", "min_visible_pixels", "max_attempts"});
  config.placement.touch_probability = placement.real("touch_probability", 0, 1);
  config.placement.occlude_probability = placement.real("occlude_probability", 0, 1);
  if (config.placement.touch_probability + config.placement.occlude_probability > 1) {
    placement.fail("placement", "expected touch_probability + occlude_probability <= 1",
                   top.field("placement"));
  }
  config.placement.occlusion_depth = placement.real_range("occlusion_depth", 0, 1);
  config.placement.min_visible_fraction = placement.real("min_visible_fraction", 0, 1);
  config.placement.min_visible_pixels = placement.integer("min_visible_pixels", 1, 1'000'000);
  config.placement.max_attempts = placement.integer("max_attempts", 1, 10'000);

  const FieldReader colour = top.child("colour");
  colour.expect_exactly({"min_contrast", "shading"});
  config.colour.min_contrast = colour.real("min_contrast", 0, 255);
  config.colour.shading = colour.real("shading", 0, 127);

  const FieldReader background = top.child("background");
  background.expect_exactly({"texture_contrast", "noise_sigma"});
  config.background.texture_contrast = background.real_range("texture_contrast", 0, 255);
  config.background.noise_sigma = background.real("noise_sigma", 0, 64);

  const FieldReader clutter = top.child("clutter");
  clutter.expect_exactly({"count", "stroke_probability"});
  config.clutter.count = clutter.int_range("count", 0, 1000);
  config.clutter.stroke_probability = clutter.real("stroke_probability", 0, 1);

  config.antialias_samples = top.integer("antialias_samples", 1, 16);
  return config;
}

ShapesConfig load_shapes_config(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::invalid_argument(path + ": cannot open shapes configuration");
  std::ostringstream text;
  text << file.rdbuf();
  return parse_shapes_config(text.str(), path);
}

std::string shapes_config_dir() {
  const char* from_environment = std::getenv("WISE_SHAPES_CONFIG_DIR");
  if (from_environment != nullptr && from_environment[0] != '\0') return from_environment;
  return WISE_SHAPES_CONFIG_DIR;
}

ShapesConfig shapes_config_by_name(const std::string& name) {
  namespace fs = std::filesystem;
  const std::string directory = shapes_config_dir();
  const bool plain_name = !name.empty() && name.find('/') == std::string::npos && name != "." &&
                          name != "..";
  const fs::path path = fs::path(directory) / (name + ".json");
  std::error_code error;
  if (!plain_name || !fs::is_regular_file(path, error)) {
    std::string available;
    for (const auto& entry : fs::directory_iterator(directory, error)) {
      if (entry.path().extension() == ".json") {
        available += (available.empty() ? "" : ", ") + entry.path().stem().string();
      }
    }
    throw std::invalid_argument("no shapes configuration named \"" + name + "\" in " + directory +
                                " (available: " + (available.empty() ? "none" : available) +
                                "; set WISE_SHAPES_CONFIG_DIR to look elsewhere)");
  }
  ShapesConfig config = load_shapes_config(path.string());
  if (config.name != name) {
    throw std::invalid_argument(path.string() + ": field \"name\": expected \"" + name +
                                "\" (the file's name), found \"" + config.name + "\"");
  }
  return config;
}

ShapesConfig resolve_shapes_config(const std::string& name_or_path) {
  const bool json_suffix = name_or_path.size() > 5 &&
                           name_or_path.compare(name_or_path.size() - 5, 5, ".json") == 0;
  std::error_code error;
  if (json_suffix || std::filesystem::is_regular_file(name_or_path, error)) {
    return load_shapes_config(name_or_path);
  }
  return shapes_config_by_name(name_or_path);
}

std::string shapes_config_to_json(const ShapesConfig& config) {
  // nlohmann's default object keeps keys sorted, which parse_shapes_config does not mind.
  const json root = {
      {"name", config.name},
      {"comment", config.comment},
      {"image_height", config.image_height},
      {"image_width", config.image_width},
      {"classes", config.classes},
      {"train", split_json(config.train)},
      {"val", split_json(config.val)},
      {"instances", range_json(config.instances)},
      {"same_class_probability", config.same_class_probability},
      {"same_class_instances", range_json(config.same_class_instances)},
      {"object_size", range_json(config.object_size)},
      {"max_aspect_ratio", config.max_aspect_ratio},
      {"placement",
       {{"touch_probability", config.placement.touch_probability},
        {"occlude_probability", config.placement.occlude_probability},
        {"occlusion_depth", range_json(config.placement.occlusion_depth)},
        {"min_visible_fraction", config.placement.min_visible_fraction},
        {"min_visible_pixels", config.placement.min_visible_pixels},
        {"max_attempts", config.placement.max_attempts}}},
      {"colour", {{"min_contrast", config.colour.min_contrast}, {"shading", config.colour.shading}}},
      {"background",
       {{"texture_contrast", range_json(config.background.texture_contrast)},
        {"noise_sigma", config.background.noise_sigma}}},
      {"clutter",
       {{"count", range_json(config.clutter.count)},
        {"stroke_probability", config.clutter.stroke_probability}}},
      {"antialias_samples", config.antialias_samples},
  };
  return root.dump(2) + "\n";
}

bool operator==(const ShapesConfig& a, const ShapesConfig& b) {
  const auto& pa = a.placement;
  const auto& pb = b.placement;
  return a.name == b.name && a.comment == b.comment && a.image_height == b.image_height &&
         a.image_width == b.image_width && a.classes == b.classes &&
         a.train.count == b.train.count && a.train.seed == b.train.seed &&
         a.val.count == b.val.count && a.val.seed == b.val.seed && same(a.instances, b.instances) &&
         a.same_class_probability == b.same_class_probability &&
         same(a.same_class_instances, b.same_class_instances) &&
         same(a.object_size, b.object_size) && a.max_aspect_ratio == b.max_aspect_ratio &&
         pa.touch_probability == pb.touch_probability &&
         pa.occlude_probability == pb.occlude_probability &&
         same(pa.occlusion_depth, pb.occlusion_depth) &&
         pa.min_visible_fraction == pb.min_visible_fraction &&
         pa.min_visible_pixels == pb.min_visible_pixels && pa.max_attempts == pb.max_attempts &&
         a.colour.min_contrast == b.colour.min_contrast && a.colour.shading == b.colour.shading &&
         same(a.background.texture_contrast, b.background.texture_contrast) &&
         a.background.noise_sigma == b.background.noise_sigma &&
         same(a.clutter.count, b.clutter.count) &&
         a.clutter.stroke_probability == b.clutter.stroke_probability &&
         a.antialias_samples == b.antialias_samples;
}

}  // namespace wise::data
