// Op-table rows for nn/roi_align.h (RoIAlign, multi-level RoIAlign) against the naive
// double references in tests/reference/roi_align_reference.h.
//
// Tolerance: the kernels compute sample coordinates in float, the reference in double;
// a coordinate < 64 is off by a few ulps (~1e-5 at most), moving each weight by as much,
// with input values in [-1, 1]. Backward sums at most a few hundred such terms per pixel.
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "nn/roi_align.h"
#include "tests/reference/roi_align_reference.h"
#include "tests/support/compare.h"
#include "tests/support/op_table.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

// K random RoIs over an image of image_h x image_w pixels, batch indices in [0, N); boxes
// reach up to a quarter of the image past each border, some are tiny (< 1 feature pixel).
std::vector<float> random_rois(int64_t K, int64_t N, double image_h, double image_w,
                               uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<float> rois;
  for (int64_t k = 0; k < K; ++k) {
    const double x1 = (unit(engine) * 1.25 - 0.25) * image_w;
    const double y1 = (unit(engine) * 1.25 - 0.25) * image_h;
    const double tiny = k % 4 == 3 ? 0.05 : 1.0;
    const double w = unit(engine) * 0.75 * image_w * tiny, h = unit(engine) * 0.75 * image_h * tiny;
    rois.insert(rois.end(),
                {static_cast<float>(k % N), static_cast<float>(x1), static_cast<float>(y1),
                 static_cast<float>(x1 + w), static_cast<float>(y1 + h)});
  }
  return rois;
}

struct RoiAlignRow {
  int64_t N, C, H, W, K, pooled;
  float spatial_scale;
  int64_t sampling_ratio;
  bool aligned;
};

std::string row_name(const RoiAlignRow& r) {
  return "roi_align_" + std::to_string(r.N) + "x" + std::to_string(r.C) + "x" +
         std::to_string(r.H) + "x" + std::to_string(r.W) + "_k" + std::to_string(r.K) + "_out" +
         std::to_string(r.pooled) + (r.spatial_scale < 1.0f ? "_scale_quarter" : "_scale_1") +
         (r.sampling_ratio > 0 ? "_sampling" + std::to_string(r.sampling_ratio) : "_adaptive") +
         (r.aligned ? "_aligned" : "_legacy");
}

void run_roi_align_row(const RoiAlignRow& r, Device device, uint64_t seed) {
  const RoiAlignOptions options{r.pooled, r.pooled, r.spatial_scale, r.sampling_ratio, r.aligned};
  const reference::RoiAlignSpec spec{r.pooled, r.pooled, r.spatial_scale, r.sampling_ratio,
                                     r.aligned};
  const auto x = random_floats(r.N * r.C * r.H * r.W, seed);
  const auto rois = random_rois(r.K, r.N, r.H / r.spatial_scale, r.W / r.spatial_scale, seed + 1);
  const Tensor rois_tensor = on_device(rois, {r.K, 5}, device);
  Tensor output;
  roi_align_forward(on_device(x, {r.N, r.C, r.H, r.W}, device), rois_tensor, options, output);
  ASSERT_EQ(output.shape(), Shape({r.K, r.C, r.pooled, r.pooled}));
  EXPECT_TRUE(all_close(host_floats(output),
                        reference::roi_align(x, r.N, r.C, r.H, r.W, rois, spec), {1e-5, 2e-5}));
  const auto d_output = random_floats(output.numel(), seed + 2);
  const auto prior = random_floats(r.N * r.C * r.H * r.W, seed + 3);
  Tensor d_input = on_device(prior, {r.N, r.C, r.H, r.W}, device);
  roi_align_backward(on_device(d_output, output.shape(), device), rois_tensor, options, d_input);
  EXPECT_TRUE(
      all_close(host_floats(d_input),
                reference::roi_align_backward(d_output, r.N, r.C, r.H, r.W, rois, spec, prior),
                {1e-5, 1e-4}));
}

std::vector<OpCase> roi_align_cases() {
  std::vector<OpCase> cases;
  const RoiAlignRow rows[] = {
      {2, 3, 9, 11, 6, 7, 0.25f, 2, true},     {2, 3, 9, 11, 6, 7, 0.25f, 2, false},
      {2, 3, 9, 11, 6, 7, 0.25f, 0, true},     {2, 3, 9, 11, 6, 7, 0.25f, -1, false},
      {2, 2, 12, 10, 5, 14, 1.0f, 2, true},    {2, 2, 12, 10, 5, 14, 1.0f, 0, false},
      {1, 4, 7, 7, 3, 2, 1.0f, 1, true},       {1, 1, 1, 1, 2, 3, 1.0f, 2, false},
      {2, 16, 24, 20, 40, 7, 0.25f, 2, false},  // large enough for the parallel CPU path
      {2, 3, 6, 6, 0, 7, 1.0f, 2, true},        // no RoIs
  };
  for (const RoiAlignRow& r : rows) {
    cases.push_back(
        {row_name(r), [r](Device device, uint64_t seed) { run_roi_align_row(r, device, seed); }});
  }
  return cases;
}

// K RoIs whose sides are log-uniform in [8, 900] pixels (FPN levels 2..5 all get some,
// sqrt(area) = 224 is level 4), centred anywhere in the image.
std::vector<float> multi_scale_rois(int64_t K, int64_t N, double image_h, double image_w,
                                    uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::uniform_real_distribution<double> log_side(std::log(8.0), std::log(900.0));
  std::vector<float> rois;
  for (int64_t k = 0; k < K; ++k) {
    const double cx = unit(engine) * image_w, cy = unit(engine) * image_h;
    const double w = std::exp(log_side(engine)), h = std::exp(log_side(engine));
    rois.insert(rois.end(), {static_cast<float>(k % N), static_cast<float>(cx - w / 2),
                             static_cast<float>(cy - h / 2), static_cast<float>(cx + w / 2),
                             static_cast<float>(cy + h / 2)});
  }
  return rois;
}

// FPN P2..P5 of a 384 x 320-pixel image (P2 96 x 80 ... P5 12 x 10).
void run_multi_scale_row(int64_t sampling_ratio, bool aligned, Device device, uint64_t seed) {
  const int64_t N = 2, C = 3, image_h = 384, image_w = 320;
  MultiScaleRoiAlignOptions options;
  options.sampling_ratio = sampling_ratio;
  options.aligned = aligned;
  const reference::RoiAlignSpec spec{7, 7, 1.0, sampling_ratio, aligned};
  std::vector<reference::FeatureLevel> levels;
  std::vector<Tensor> features, d_features;
  std::vector<std::vector<float>> priors;
  for (int l = 0; l < 4; ++l) {
    const int64_t H = image_h >> (l + 2), W = image_w >> (l + 2);
    levels.push_back({random_floats(N * C * H * W, seed + 10 + l), H, W,
                      options.spatial_scales[static_cast<size_t>(l)]});
    features.push_back(on_device(levels.back().data, {N, C, H, W}, device));
    priors.push_back(random_floats(N * C * H * W, seed + 20 + l));
    d_features.push_back(on_device(priors.back(), {N, C, H, W}, device));
  }
  auto rois = multi_scale_rois(24, N, image_h, image_w, seed + 1);
  // One square per level (sides 50, 150, 300, 600: P2..P5), a zero-area box (level
  // P2: log2(0) = -inf clamps up), an inverted one (negative area: no level, 0).
  const float nan = std::numeric_limits<float>::quiet_NaN();
  rois.insert(rois.end(),
              {0,   10,  10, 60, 60, 1,  100, 50, 250, 200, 0,  20, 30, 320, 330, 1, -100, -50,
               500, 550, 0,  40, 40, 40, 90,  1,  90,  40,  40, 90, 0,  nan, 1,   5, 5});
  const int64_t K = static_cast<int64_t>(rois.size()) / 5;
  int on_level[4] = {0, 0, 0, 0};
  for (int64_t k = 0; k < K; ++k) {
    const int l = reference::fpn_level(&rois[static_cast<size_t>(5 * k)], 2, 4);
    if (l >= 0) ++on_level[l];
  }
  for (int l = 0; l < 4; ++l) EXPECT_GT(on_level[l], 0) << "no RoI on level P" << l + 2;
  const Tensor rois_tensor = on_device(rois, {K, 5}, device);
  Tensor output;
  multi_scale_roi_align_forward(features, rois_tensor, options, output);
  ASSERT_EQ(output.shape(), Shape({K, C, 7, 7}));
  EXPECT_TRUE(all_close(host_floats(output),
                        reference::multi_scale_roi_align(levels, N, C, rois, 2, spec),
                        {1e-5, 2e-5}));
  const auto d_output = random_floats(output.numel(), seed + 2);
  multi_scale_roi_align_backward(on_device(d_output, output.shape(), device), rois_tensor, options,
                                 d_features);
  const auto expected =
      reference::multi_scale_roi_align_backward(d_output, levels, N, C, rois, 2, spec, priors);
  for (size_t l = 0; l < 4; ++l) {
    EXPECT_TRUE(all_close(host_floats(d_features[l]), expected[l], {1e-5, 1e-4}))
        << "level P" << l + 2;
  }
}

std::vector<OpCase> multi_scale_cases() {
  std::vector<OpCase> cases;
  for (const bool aligned : {false, true}) {
    for (const int64_t sampling_ratio : {int64_t{2}, int64_t{0}}) {
      const std::string name = std::string("multi_scale_roi_align_p2_p5_k31") +
                               (sampling_ratio > 0 ? "_sampling2" : "_adaptive") +
                               (aligned ? "_aligned" : "_legacy");
      cases.push_back({name, [=](Device device, uint64_t seed) {
                         run_multi_scale_row(sampling_ratio, aligned, device, seed);
                       }});
    }
  }
  return cases;
}

std::vector<OpCase> all_cases() {
  auto cases = roi_align_cases();
  for (auto& row : multi_scale_cases()) cases.push_back(std::move(row));
  return cases;
}

OpCaseRegistrar add_cases(all_cases());

}  // namespace
}  // namespace wise::testing
