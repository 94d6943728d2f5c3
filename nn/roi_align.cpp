// RoIAlign layers (see roi_align.h): shape, dtype and device checks around
// kernels/roi_align.h, which holds all the arithmetic.
#include "nn/roi_align.h"

#include <cmath>
#include <string>

#include "kernels/roi_align.h"
#include "nn/ensure.h"

namespace wise {

namespace {

using Levels = kernels::RoiAlignLevels<const float*>;
using DLevels = kernels::RoiAlignLevels<float*>;

void require_plain_activation(const Tensor& tensor, Device device, const std::string& what) {
  require_float_on(tensor, device, what.c_str());
  WISE_CHECK(tensor.rank() == 4 && tensor.format() == MemoryFormat::plain, what,
             " must be 4-d (N, C, H, W) in plain format, got ", tensor.describe());
}

void require_rois(const Tensor& rois, Device device, const char* op) {
  const std::string what = std::string(op) + ": rois";
  require_float_on(rois, device, what.c_str());
  WISE_CHECK(rois.rank() == 2 && rois.size(1) == 5, what,
             " must have shape [K, 5] (batch_index, x1, y1, x2, y2), got ", rois.describe());
}

void require_spatial_scale(float spatial_scale, const char* op) {
  WISE_CHECK(std::isfinite(spatial_scale) && spatial_scale > 0.0f, op,
             ": spatial_scale must be finite and > 0, got ", spatial_scale);
}

void require_pooled_size(int64_t pooled_height, int64_t pooled_width, const char* op) {
  WISE_CHECK(pooled_height > 0 && pooled_width > 0, op, ": output size must be > 0, got ",
             pooled_height, "x", pooled_width);
}

kernels::RoiAlignParameters parameters_of(int64_t pooled_height, int64_t pooled_width,
                                          int64_t sampling_ratio, bool aligned) {
  return {pooled_height, pooled_width, sampling_ratio, aligned};
}

// k_min of spatial_scales = 2^-k_min, 2^-(k_min+1), ... (FPN levels), or a named error.
int level_of_first_scale(const std::vector<float>& scales, const char* op) {
  WISE_CHECK(!scales.empty() && scales.size() <= static_cast<size_t>(kernels::kRoiAlignMaxLevels),
             op, ": spatial_scales must hold 1 to ", kernels::kRoiAlignMaxLevels, " scales, got ",
             scales.size());
  const double k = -std::log2(static_cast<double>(scales[0]));
  const int k_min = static_cast<int>(std::lround(k));
  for (size_t l = 0; l < scales.size(); ++l) {
    const double expected = std::ldexp(1.0, -(k_min + static_cast<int>(l)));
    WISE_CHECK(std::fabs(static_cast<double>(scales[l]) - expected) <= 1e-6 * expected, op,
               ": spatial_scales must be consecutive powers of two 2^-k (e.g. 1/4, 1/8, 1/16,"
               " 1/32), expected ",
               expected, " at level ", l, ", got ", scales[l]);
  }
  return k_min;
}

}  // namespace

void roi_align_forward(const Tensor& input, const Tensor& rois, const RoiAlignOptions& options,
                       Tensor& output) {
  const Device device = input.defined() ? input.device() : Device::cpu;
  require_plain_activation(input, device, "roi_align: input");
  require_rois(rois, device, "roi_align");
  require_pooled_size(options.pooled_height, options.pooled_width, "roi_align");
  require_spatial_scale(options.spatial_scale, "roi_align");
  const Shape& s = input.shape();
  const int64_t K = rois.size(0);
  ensure_tensor(output, {K, s[1], options.pooled_height, options.pooled_width}, DType::float32,
                device);
  Levels levels;
  levels.level[0] = {input.data<float>(), s[2], s[3], options.spatial_scale};
  kernels::roi_align_forward(device, levels, s[0], s[1], rois.data<float>(), K,
                             parameters_of(options.pooled_height, options.pooled_width,
                                           options.sampling_ratio, options.aligned),
                             output.data<float>());
}

void roi_align_backward(const Tensor& d_output, const Tensor& rois, const RoiAlignOptions& options,
                        Tensor& d_input) {
  const Device device = d_input.defined() ? d_input.device() : Device::cpu;
  require_plain_activation(d_input, device, "roi_align_backward: d_input");
  require_rois(rois, device, "roi_align_backward");
  require_pooled_size(options.pooled_height, options.pooled_width, "roi_align_backward");
  require_spatial_scale(options.spatial_scale, "roi_align_backward");
  const Shape& s = d_input.shape();
  const Shape expected{rois.size(0), s[1], options.pooled_height, options.pooled_width};
  require_float_on(d_output, device, "roi_align_backward: d_output");
  WISE_CHECK(d_output.shape() == expected && d_output.format() == MemoryFormat::plain,
             "roi_align_backward: d_output must have shape ", expected,
             " (K, d_input's C, output size) in plain format, got ", d_output.describe());
  DLevels levels;
  levels.level[0] = {d_input.data<float>(), s[2], s[3], options.spatial_scale};
  kernels::roi_align_backward(device, levels, s[0], s[1], rois.data<float>(), rois.size(0),
                              parameters_of(options.pooled_height, options.pooled_width,
                                            options.sampling_ratio, options.aligned),
                              d_output.data<float>());
}

void multi_scale_roi_align_forward(const std::vector<Tensor>& features, const Tensor& rois,
                                   const MultiScaleRoiAlignOptions& options, Tensor& output) {
  const char* op = "multi_scale_roi_align";
  const int k_min = level_of_first_scale(options.spatial_scales, op);
  WISE_CHECK(features.size() == options.spatial_scales.size(), op, ": got ", features.size(),
             " features for ", options.spatial_scales.size(), " spatial_scales");
  const Device device = features[0].defined() ? features[0].device() : Device::cpu;
  require_rois(rois, device, op);
  require_pooled_size(options.pooled_height, options.pooled_width, op);
  Levels levels;
  levels.count = static_cast<int>(features.size());
  levels.map_levels = true;
  levels.k_min = k_min;
  for (size_t l = 0; l < features.size(); ++l) {
    const std::string what = std::string(op) + ": features[" + std::to_string(l) + "]";
    require_plain_activation(features[l], device, what);
    WISE_CHECK(
        features[l].size(0) == features[0].size(0) && features[l].size(1) == features[0].size(1),
        what, " must have features[0]'s N and C, got ", features[l].describe(), " and ",
        features[0].describe());
    levels.level[l] = {features[l].data<float>(), features[l].size(2), features[l].size(3),
                       options.spatial_scales[l]};
  }
  const int64_t N = features[0].size(0), C = features[0].size(1), K = rois.size(0);
  ensure_tensor(output, {K, C, options.pooled_height, options.pooled_width}, DType::float32,
                device);
  kernels::roi_align_forward(device, levels, N, C, rois.data<float>(), K,
                             parameters_of(options.pooled_height, options.pooled_width,
                                           options.sampling_ratio, options.aligned),
                             output.data<float>());
}

void multi_scale_roi_align_backward(const Tensor& d_output, const Tensor& rois,
                                    const MultiScaleRoiAlignOptions& options,
                                    std::vector<Tensor>& d_features) {
  const char* op = "multi_scale_roi_align_backward";
  const int k_min = level_of_first_scale(options.spatial_scales, op);
  WISE_CHECK(d_features.size() == options.spatial_scales.size(), op, ": got ", d_features.size(),
             " d_features for ", options.spatial_scales.size(), " spatial_scales");
  const Device device = d_features[0].defined() ? d_features[0].device() : Device::cpu;
  require_rois(rois, device, op);
  require_pooled_size(options.pooled_height, options.pooled_width, op);
  DLevels levels;
  levels.count = static_cast<int>(d_features.size());
  levels.map_levels = true;
  levels.k_min = k_min;
  for (size_t l = 0; l < d_features.size(); ++l) {
    const std::string what = std::string(op) + ": d_features[" + std::to_string(l) + "]";
    require_plain_activation(d_features[l], device, what);
    WISE_CHECK(d_features[l].size(0) == d_features[0].size(0) &&
                   d_features[l].size(1) == d_features[0].size(1),
               what, " must have d_features[0]'s N and C, got ", d_features[l].describe(), " and ",
               d_features[0].describe());
    levels.level[l] = {d_features[l].data<float>(), d_features[l].size(2), d_features[l].size(3),
                       options.spatial_scales[l]};
  }
  const int64_t N = d_features[0].size(0), C = d_features[0].size(1), K = rois.size(0);
  const Shape expected{K, C, options.pooled_height, options.pooled_width};
  require_float_on(d_output, device, "multi_scale_roi_align_backward: d_output");
  WISE_CHECK(d_output.shape() == expected && d_output.format() == MemoryFormat::plain, op,
             ": d_output must have shape ", expected,
             " (K, the features' C, output size) in plain format, got ", d_output.describe());
  kernels::roi_align_backward(device, levels, N, C, rois.data<float>(), K,
                              parameters_of(options.pooled_height, options.pooled_width,
                                            options.sampling_ratio, options.aligned),
                              d_output.data<float>());
}

}  // namespace wise
