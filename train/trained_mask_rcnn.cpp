// Reading a trained Mask R-CNN back (see trained_mask_rcnn.h).
#include "train/trained_mask_rcnn.h"

#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "data/json_text.h"
#include "kernels/check.h"
#include "nn/state_dict.h"
#include "train/checkpoint.h"
#include "weights/safetensors_file.h"

namespace wise {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string checkpoint_file(const std::string& path) {
  if (!fs::is_directory(path)) return path;
  const std::optional<std::string> latest = find_latest_checkpoint(path, std::cerr);
  WISE_CHECK(latest.has_value(), path, ": no checkpoint-*.safetensors in this folder (train_maskrcnn --out writes them)");
  return *latest;
}

// config[section][field], required, of type T; errors name the file and the field.
template <typename T>
T field(const Json& config, const char* section, const char* name, const std::string& path) {
  const std::string dotted = std::string(section) + "." + name;
  WISE_CHECK(config.contains(section) && config[section].is_object() && config[section].contains(name), path,
             ": its configuration lacks ", dotted, " (was it written by train_maskrcnn?)");
  try {
    return config[section][name].get<T>();
  } catch (const Json::exception&) {
    throw Error(concat(path, ": its configuration's ", dotted, " is ", data::describe_json(config[section][name]),
                       ", not of the expected type"));
  }
}

}  // namespace

std::unique_ptr<TrainedMaskRcnn> load_trained_mask_rcnn(const std::string& path, Device device,
                                                        float box_score_thresh) {
  auto trained = std::make_unique<TrainedMaskRcnn>();
  trained->checkpoint = checkpoint_file(path);
  const std::string& file = trained->checkpoint;
  const SafetensorsHeader header = read_safetensors_header(file);
  const auto config_text = header.metadata.find("config");
  WISE_CHECK(config_text != header.metadata.end(), file, ": no \"config\" metadata: not a wise training checkpoint");
  const Json config = data::parse_json_bounded(config_text->second);
  WISE_CHECK(config.is_object() && config.contains("model") && config["model"].value("arch", "") == "mask_rcnn", file,
             ": not a Mask R-CNN checkpoint (its model.arch is ",
             config.contains("model") && config["model"].contains("arch") ? data::describe_json(config["model"]["arch"])
                                                                           : std::string("missing"),
             ")");
  if (const auto iteration = header.metadata.find("iteration"); iteration != header.metadata.end()) {
    trained->iteration = std::stoll(iteration->second);
  }

  MaskRcnnTrainingOptions& options = trained->options;
  options.depth = field<int>(config, "model", "depth", file);
  options.width_multiplier = field<double>(config, "model", "width_multiplier", file);
  options.norm = parse_normalization(field<std::string>(config, "model", "norm", file));
  options.trainable_layers = field<int>(config, "model", "trainable_layers", file);
  options.fpn_channels = field<int64_t>(config, "model", "fpn_channels", file);
  options.anchor_sizes = field<std::vector<float>>(config, "model", "anchor_sizes", file);
  options.representation_size = field<int64_t>(config, "model", "representation_size", file);
  options.mask_layers = field<int64_t>(config, "model", "mask_layers", file);
  options.rpn_pre_nms_top_n_test = field<int64_t>(config, "model", "rpn_pre_nms_top_n_test", file);
  options.rpn_post_nms_top_n_test = field<int64_t>(config, "model", "rpn_post_nms_top_n_test", file);
  options.detections_per_img = field<int64_t>(config, "model", "detections_per_img", file);
  options.image_size = field<int64_t>(config, "augment", "image_size", file);
  options.max_image_size = field<int64_t>(config, "augment", "max_image_size", file);
  options.device = device;
  options.box_score_thresh = box_score_thresh;
  const Json categories = field<Json>(config, "data", "categories", file);
  WISE_CHECK(categories.is_array(), file, ": its configuration's data.categories is not an array");
  for (const Json& category : categories) {
    WISE_CHECK(category.is_object() && category.contains("id") && category["id"].is_number_integer() &&
                   category.contains("name") && category["name"].is_string(),
               file, ": data.categories holds ", data::describe_json(category), ", expected {\"id\": int, \"name\": str}");
    trained->categories.push_back({category["id"].get<int64_t>(), category["name"].get<std::string>()});
  }
  const int64_t num_classes = field<int64_t>(config, "model", "num_classes", file);
  WISE_CHECK(num_classes == static_cast<int64_t>(trained->categories.size()), file, ": model.num_classes is ",
             num_classes, " but data.categories names ", trained->categories.size());

  trained->model = std::make_unique<MaskRcnn>(mask_rcnn_config_of(options, num_classes), trained->parameters);
  trained->parameters.allocate(device);
  NamedTensors targets;
  for (const auto& [name, value] : trained->parameters.named_values_to_write()) targets.emplace_back("model." + name, value);
  LoadOptions load;
  load.ignore_prefixes = {"optimizer.", "buffers."};  // the solver's state: training only
  load_into(file, targets, load);
  return trained;
}

}  // namespace wise
