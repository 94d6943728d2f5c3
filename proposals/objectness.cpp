// Objectness of a region from its edge sums (see objectness.h).
#include "proposals/objectness.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "proposals/colour_space.h"

namespace wise::proposals {
namespace {

constexpr double kContrastTau = 8.0;        // c's offset, in the edge map's units
constexpr double kCompactnessPower = 0.25;
constexpr double kStabilityPower = 0.5;
constexpr float kFloor = 1e-6f;             // objectness is in (0, 1], never 0

float lab_distance(const float* p, const float* q) {
  float sum = 0;
  for (int c = 0; c < 3; ++c) {
    const float d = 255.0f * (p[c] - q[c]);
    sum += d * d;
  }
  return std::sqrt(sum);
}

}  // namespace

EdgeContrast compute_edge_contrast(const data::Image& image) {
  const std::vector<float> lab = convert_colour_space(image, ColourSpace::lab);
  const int64_t H = image.height, W = image.width;
  auto pixel = [&](int64_t y, int64_t x) {
    return lab.data() + (std::clamp<int64_t>(y, 0, H - 1) * W + std::clamp<int64_t>(x, 0, W - 1)) * 3;
  };
  EdgeContrast contrast;
  contrast.height = H;
  contrast.width = W;
  contrast.horizontal.resize(static_cast<size_t>(H * std::max<int64_t>(W - 1, 0)));
  contrast.vertical.resize(static_cast<size_t>(std::max<int64_t>(H - 1, 0) * W));
  // Edge p - q with q = p + d compares p - d with q + d (clamped at the border): the whole
  // of an antialiased step (objectness.h).
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x + 1 < W; ++x)
      contrast.horizontal[static_cast<size_t>(y * (W - 1) + x)] = lab_distance(pixel(y, x - 1), pixel(y, x + 2));
  for (int64_t y = 0; y + 1 < H; ++y)
    for (int64_t x = 0; x < W; ++x)
      contrast.vertical[static_cast<size_t>(y * W + x)] = lab_distance(pixel(y - 1, x), pixel(y + 2, x));
  return contrast;
}

RegionShape region_shape_merge(const RegionShape& a, const RegionShape& b, int64_t shared_edges,
                               double shared_contrast) {
  RegionShape merged;
  merged.area = a.area + b.area;
  // Each shared edge was on both contours; now it is inside.
  merged.contour_edges = a.contour_edges + b.contour_edges - 2 * shared_edges;
  merged.contour_contrast = std::max(0.0, a.contour_contrast + b.contour_contrast - 2 * shared_contrast);
  merged.border_edges = a.border_edges + b.border_edges;
  merged.inside_edges = a.inside_edges + b.inside_edges + shared_edges;
  merged.inside_contrast = a.inside_contrast + b.inside_contrast + shared_contrast;
  return merged;
}

const char* objectness_method_name(ObjectnessMethod method) {
  switch (method) {
    case ObjectnessMethod::combined: return "combined";
    case ObjectnessMethod::contrast: return "contrast";
    case ObjectnessMethod::uijlings_rank: return "uijlings-rank";
  }
  return "?";
}

ObjectnessMethod parse_objectness_method(const std::string& text) {
  if (text == "combined") return ObjectnessMethod::combined;
  if (text == "contrast") return ObjectnessMethod::contrast;
  if (text == "uijlings-rank") return ObjectnessMethod::uijlings_rank;
  throw std::invalid_argument("objectness \"" + text + "\": expected combined, contrast or uijlings-rank");
}

float contour_contrast(const RegionShape& shape) {
  // The whole image (or a region with no neighbour) has no contour to measure.
  if (shape.contour_edges == 0) return 0.0f;
  const double contour = shape.contour_contrast / static_cast<double>(shape.contour_edges);
  const double inside = shape.inside_edges > 0 ? shape.inside_contrast / static_cast<double>(shape.inside_edges) : 0.0;
  return static_cast<float>(contour / (contour + inside + kContrastTau));
}

float compactness(const RegionShape& shape) {
  const double perimeter = static_cast<double>(shape.contour_edges + shape.border_edges);
  if (perimeter <= 0) return 0.0f;
  return static_cast<float>(std::min(1.0, 4.0 * M_PI * static_cast<double>(shape.area) / (perimeter * perimeter)));
}

float objectness(ObjectnessMethod method, const RegionShape& shape, int64_t found_in, int64_t hierarchies,
                 double rank_value) {
  double score = 0;
  switch (method) {
    case ObjectnessMethod::contrast: score = contour_contrast(shape); break;
    case ObjectnessMethod::combined: {
      const double stability = static_cast<double>(1 + found_in) / static_cast<double>(1 + hierarchies);
      score = contour_contrast(shape) * std::pow(compactness(shape), kCompactnessPower) *
              std::pow(stability, kStabilityPower);
      break;
    }
    case ObjectnessMethod::uijlings_rank: score = 1.0 / (1.0 + rank_value); break;
  }
  return std::clamp(static_cast<float>(score), kFloor, 1.0f);
}

}  // namespace wise::proposals
