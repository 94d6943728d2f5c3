// Anchor generation (see anchors.h): option checks around kernels/anchors.h.
#include "models/detection/anchors.h"

#include <string>

#include "kernels/anchors.h"
#include "nn/ensure.h"

namespace wise {

namespace {

kernels::CellAnchorConfig make_config(const std::vector<float>& sizes,
                                      const std::vector<float>& aspect_ratios,
                                      const std::string& what) {
  WISE_CHECK(!sizes.empty() && sizes.size() <= kernels::kMaxAnchorSizes, what,
             ": expected 1 to ", kernels::kMaxAnchorSizes, " sizes, got ", sizes.size());
  WISE_CHECK(!aspect_ratios.empty() && aspect_ratios.size() <= kernels::kMaxAspectRatios, what,
             ": expected 1 to ", kernels::kMaxAspectRatios, " aspect_ratios, got ",
             aspect_ratios.size());
  kernels::CellAnchorConfig config;
  config.num_sizes = static_cast<int>(sizes.size());
  config.num_aspect_ratios = static_cast<int>(aspect_ratios.size());
  for (size_t i = 0; i < sizes.size(); ++i) config.sizes[i] = sizes[i];
  for (size_t i = 0; i < aspect_ratios.size(); ++i) {
    WISE_CHECK(aspect_ratios[i] > 0.0f, what, ": aspect_ratios must be > 0, got ",
               aspect_ratios[i], " at ", i);
    config.aspect_ratios[i] = aspect_ratios[i];
  }
  return config;
}

void check_levels(const AnchorGeneratorOptions& options, size_t levels, const char* name) {
  WISE_CHECK(options.sizes.size() == options.aspect_ratios.size(), name,
             ": options.sizes and options.aspect_ratios must have one entry per level, got ",
             options.sizes.size(), " and ", options.aspect_ratios.size());
  WISE_CHECK(levels == options.sizes.size(), name, ": expected ", options.sizes.size(),
             " feature maps (one per level of options.sizes), got ", levels);
}

}  // namespace

int64_t num_anchors_per_location(const AnchorGeneratorOptions& options, int64_t level) {
  WISE_CHECK(level >= 0 && level < static_cast<int64_t>(options.sizes.size()) &&
                 level < static_cast<int64_t>(options.aspect_ratios.size()),
             "num_anchors_per_location: level ", level, " out of range [0, ",
             options.sizes.size(), ")");
  return static_cast<int64_t>(options.sizes[level].size() * options.aspect_ratios[level].size());
}

std::vector<int64_t> num_anchors_per_level(const AnchorGeneratorOptions& options,
                                           const std::vector<FeatureMapSize>& feature_maps) {
  check_levels(options, feature_maps.size(), "num_anchors_per_level");
  std::vector<int64_t> counts;
  for (size_t level = 0; level < feature_maps.size(); ++level) {
    counts.push_back(feature_maps[level].height * feature_maps[level].width *
                     num_anchors_per_location(options, static_cast<int64_t>(level)));
  }
  return counts;
}

void generate_cell_anchors(const std::vector<float>& sizes, const std::vector<float>& aspect_ratios,
                           Device device, Tensor& cell) {
  const kernels::CellAnchorConfig config =
      make_config(sizes, aspect_ratios, "generate_cell_anchors");
  ensure_tensor(cell, {kernels::cell_anchor_count(config), 4}, DType::float32, device);
  kernels::cell_anchors(device, config, cell.data<float>());
}

void generate_anchors(int64_t image_height, int64_t image_width,
                      const std::vector<FeatureMapSize>& feature_maps,
                      const AnchorGeneratorOptions& options, Device device, Tensor& anchors) {
  check_levels(options, feature_maps.size(), "generate_anchors");
  WISE_CHECK(image_height > 0 && image_width > 0,
             "generate_anchors: image size must be positive, got (", image_height, ", ",
             image_width, ")");
  const std::vector<int64_t> counts = num_anchors_per_level(options, feature_maps);
  int64_t total = 0;
  for (size_t level = 0; level < feature_maps.size(); ++level) {
    const FeatureMapSize& map = feature_maps[level];
    WISE_CHECK(map.height > 0 && map.width > 0, "generate_anchors: feature map ", level,
               " must have a positive size, got (", map.height, ", ", map.width, ")");
    total += counts[level];
  }
  ensure_tensor(anchors, {total, 4}, DType::float32, device);
  int64_t row = 0;
  for (size_t level = 0; level < feature_maps.size(); ++level) {
    const FeatureMapSize& map = feature_maps[level];
    const kernels::CellAnchorConfig config =
        make_config(options.sizes[level], options.aspect_ratios[level],
                    "generate_anchors: level " + std::to_string(level));
    // torchvision: image_size // feature_size, integer division.
    kernels::grid_anchors(device, config, map.height, map.width, image_height / map.height,
                          image_width / map.width, anchors.data<float>() + 4 * row);
    row += counts[level];
  }
}

}  // namespace wise
