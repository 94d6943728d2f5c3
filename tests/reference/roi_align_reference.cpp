// Naive RoIAlign references (see roi_align_reference.h), in double.
#include "tests/reference/roi_align_reference.h"

#include <algorithm>
#include <cmath>

namespace wise::reference {

namespace {

struct Tap {
  int64_t pixel;  // h * W + w within a plane
  double weight;  // already divided by the bin's sample count
};

// The (pixel, weight) taps of bin (ph, pw) of a RoI on an H x W plane.
std::vector<Tap> bin_taps(const float* roi, int64_t H, int64_t W, double scale,
                          const RoiAlignSpec& spec, int64_t ph, int64_t pw) {
  const double offset = spec.aligned ? 0.5 : 0.0;
  const double x0 = roi[1] * scale - offset, y0 = roi[2] * scale - offset;
  double width = roi[3] * scale - offset - x0, height = roi[4] * scale - offset - y0;
  if (!spec.aligned) {
    width = std::max(width, 1.0);
    height = std::max(height, 1.0);
  }
  const double bin_h = height / spec.pooled_height, bin_w = width / spec.pooled_width;
  auto grid = [&](double size, int64_t pooled) -> int64_t {
    if (spec.sampling_ratio > 0) return spec.sampling_ratio;
    const double g = std::ceil(size / pooled);
    return std::isfinite(g) && g > 0 ? static_cast<int64_t>(g) : 0;
  };
  const int64_t gh = grid(height, spec.pooled_height), gw = grid(width, spec.pooled_width);
  const double count = static_cast<double>(std::max<int64_t>(gh * gw, 1));
  std::vector<Tap> taps;
  for (int64_t iy = 0; iy < gh; ++iy) {
    for (int64_t ix = 0; ix < gw; ++ix) {
      double y = y0 + bin_h * (ph + (iy + 0.5) / gh);
      double x = x0 + bin_w * (pw + (ix + 0.5) / gw);
      if (!(y >= -1.0 && y <= H && x >= -1.0 && x <= W)) continue;  // outside: contributes 0
      y = std::min(std::max(y, 0.0), static_cast<double>(H - 1));   // edge rows repeat
      x = std::min(std::max(x, 0.0), static_cast<double>(W - 1));
      const int64_t h0 = static_cast<int64_t>(std::floor(y)),
                    w0 = static_cast<int64_t>(std::floor(x));
      const int64_t h1 = std::min(h0 + 1, H - 1), w1 = std::min(w0 + 1, W - 1);
      const double ly = y - h0, lx = x - w0;
      taps.push_back({h0 * W + w0, (1 - ly) * (1 - lx) / count});
      taps.push_back({h0 * W + w1, (1 - ly) * lx / count});
      taps.push_back({h1 * W + w0, ly * (1 - lx) / count});
      taps.push_back({h1 * W + w1, ly * lx / count});
    }
  }
  return taps;
}

bool batch_ok(const float* roi, int64_t N) { return roi[0] >= 0 && roi[0] < N; }

}  // namespace

std::vector<double> roi_align(const std::vector<float>& input, int64_t N, int64_t C, int64_t H,
                              int64_t W, const std::vector<float>& rois, const RoiAlignSpec& spec) {
  const int64_t K = static_cast<int64_t>(rois.size()) / 5;
  const int64_t bins = spec.pooled_height * spec.pooled_width;
  std::vector<double> output(static_cast<size_t>(K * C * bins), 0.0);
  for (int64_t k = 0; k < K; ++k) {
    const float* roi = &rois[static_cast<size_t>(5 * k)];
    if (!batch_ok(roi, N)) continue;
    const int64_t n = static_cast<int64_t>(roi[0]);
    for (int64_t b = 0; b < bins; ++b) {
      for (const Tap& tap : bin_taps(roi, H, W, spec.spatial_scale, spec, b / spec.pooled_width,
                                     b % spec.pooled_width)) {
        for (int64_t c = 0; c < C; ++c) {
          output[static_cast<size_t>((k * C + c) * bins + b)] +=
              tap.weight * input[static_cast<size_t>((n * C + c) * H * W + tap.pixel)];
        }
      }
    }
  }
  return output;
}

std::vector<double> roi_align_backward(const std::vector<float>& d_output, int64_t N, int64_t C,
                                       int64_t H, int64_t W, const std::vector<float>& rois,
                                       const RoiAlignSpec& spec, const std::vector<float>& prior) {
  std::vector<double> d_input(prior.begin(), prior.end());
  const int64_t K = static_cast<int64_t>(rois.size()) / 5;
  const int64_t bins = spec.pooled_height * spec.pooled_width;
  for (int64_t k = 0; k < K; ++k) {
    const float* roi = &rois[static_cast<size_t>(5 * k)];
    if (!batch_ok(roi, N)) continue;
    const int64_t n = static_cast<int64_t>(roi[0]);
    for (int64_t b = 0; b < bins; ++b) {
      for (const Tap& tap : bin_taps(roi, H, W, spec.spatial_scale, spec, b / spec.pooled_width,
                                     b % spec.pooled_width)) {
        for (int64_t c = 0; c < C; ++c) {
          d_input[static_cast<size_t>((n * C + c) * H * W + tap.pixel)] +=
              tap.weight * d_output[static_cast<size_t>((k * C + c) * bins + b)];
        }
      }
    }
  }
  return d_input;
}

int fpn_level(const float* roi, int k_min, int levels) {
  const double area =
      (static_cast<double>(roi[3]) - roi[1]) * (static_cast<double>(roi[4]) - roi[2]);
  const double k = std::floor(4.0 + std::log2(std::sqrt(area) / 224.0) + 1e-6);
  if (std::isnan(k)) return -1;
  return static_cast<int>(std::min(std::max(k, double(k_min)), double(k_min + levels - 1))) - k_min;
}

std::vector<double> multi_scale_roi_align(const std::vector<FeatureLevel>& levels, int64_t N,
                                          int64_t C, const std::vector<float>& rois, int k_min,
                                          const RoiAlignSpec& spec) {
  const int64_t K = static_cast<int64_t>(rois.size()) / 5;
  const int64_t bins = spec.pooled_height * spec.pooled_width;
  std::vector<double> output(static_cast<size_t>(K * C * bins), 0.0);
  for (int64_t k = 0; k < K; ++k) {
    const std::vector<float> one(rois.begin() + 5 * k, rois.begin() + 5 * k + 5);
    const int l = fpn_level(one.data(), k_min, static_cast<int>(levels.size()));
    if (l < 0) continue;
    RoiAlignSpec level_spec = spec;
    level_spec.spatial_scale = levels[static_cast<size_t>(l)].spatial_scale;
    const FeatureLevel& level = levels[static_cast<size_t>(l)];
    const auto pooled = roi_align(level.data, N, C, level.H, level.W, one, level_spec);
    std::copy(pooled.begin(), pooled.end(), output.begin() + k * C * bins);
  }
  return output;
}

std::vector<std::vector<double>> multi_scale_roi_align_backward(
    const std::vector<float>& d_output, const std::vector<FeatureLevel>& levels, int64_t N,
    int64_t C, const std::vector<float>& rois, int k_min, const RoiAlignSpec& spec,
    const std::vector<std::vector<float>>& priors) {
  const int64_t K = static_cast<int64_t>(rois.size()) / 5;
  const int64_t bins = spec.pooled_height * spec.pooled_width;
  std::vector<std::vector<double>> d_levels;
  for (const auto& prior : priors) d_levels.emplace_back(prior.begin(), prior.end());
  for (int64_t k = 0; k < K; ++k) {
    const std::vector<float> one(rois.begin() + 5 * k, rois.begin() + 5 * k + 5);
    const int l = fpn_level(one.data(), k_min, static_cast<int>(levels.size()));
    if (l < 0) continue;
    RoiAlignSpec level_spec = spec;
    level_spec.spatial_scale = levels[static_cast<size_t>(l)].spatial_scale;
    const FeatureLevel& level = levels[static_cast<size_t>(l)];
    const std::vector<float> d_one(d_output.begin() + k * C * bins,
                                   d_output.begin() + (k + 1) * C * bins);
    const std::vector<float> zeros(level.data.size(), 0.0f);
    const auto scattered =
        roi_align_backward(d_one, N, C, level.H, level.W, one, level_spec, zeros);
    auto& target = d_levels[static_cast<size_t>(l)];
    for (size_t i = 0; i < target.size(); ++i) target[i] += scattered[i];
  }
  return d_levels;
}

}  // namespace wise::reference
