// Augmentation and input preparation (data/transforms.h). Everything here runs on one
// loader worker thread per image, so the loops are plain serial loops: the parallelism
// is across images (data/loader.cpp), and OpenMP inside a worker would oversubscribe
// the cores the training step is using.
#include "data/transforms.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "kernels/check.h"
#include "kernels/philox.h"
#include "kernels/resize.h"
#include "kernels/resize_nearest.h"

namespace wise::data {
namespace {

void check_image(const PlanarImage& image, const char* where) {
  WISE_CHECK(image.height > 0 && image.width > 0, where, ": image must be non-empty, got ",
             image.height, " x ", image.width);
  WISE_CHECK(static_cast<int64_t>(image.pixels.size()) == 3 * image.height * image.width, where,
             ": image of ", image.height, " x ", image.width, " needs ",
             3 * image.height * image.width, " values (3 planes), has ", image.pixels.size());
}

void check_masks(const InstanceMasks& masks, const char* where) {
  WISE_CHECK(static_cast<int64_t>(masks.pixels.size()) == masks.count * masks.height * masks.width,
             where, ": ", masks.count, " masks of ", masks.height, " x ", masks.width, " need ",
             masks.count * masks.height * masks.width, " bytes, have ", masks.pixels.size());
}

// torchvision's _blend: clamp(factor * image + (1 - factor) * other, 0, 1).
inline float blend(float value, float other, float factor) {
  return std::clamp(factor * value + (1.0f - factor) * other, 0.0f, 1.0f);
}

// torchvision's rgb_to_grayscale weights (ITU-R 601-2 luma).
inline float grayscale(float r, float g, float b) { return 0.2989f * r + 0.587f * g + 0.114f * b; }

// Stream tags of philox_uniform: the augmentation draws; the loader's shuffle uses 2.
constexpr uint32_t kAugmentStream = 1;

}  // namespace

// ---- Conversion ----------------------------------------------------------------------

PlanarImage to_planar_rgb(const Image& image) {
  WISE_CHECK(image.channels == 1 || image.channels == 3 || image.channels == 4,
             "to_planar_rgb: image must have 1, 3 or 4 channels, got ", image.channels);
  WISE_CHECK(image.height > 0 && image.width > 0, "to_planar_rgb: image must be non-empty, got ",
             image.height, " x ", image.width);
  const int64_t plane = image.height * image.width;
  WISE_CHECK(static_cast<int64_t>(image.pixels.size()) == plane * image.channels,
             "to_planar_rgb: image of ", image.height, " x ", image.width, " x ", image.channels,
             " needs ", plane * image.channels, " bytes, has ", image.pixels.size());
  PlanarImage out{image.height, image.width, std::vector<float>(3 * plane)};
  for (int64_t c = 0; c < 3; ++c) {
    const int64_t source_channel = image.channels == 1 ? 0 : c;  // gray -> R = G = B
    for (int64_t i = 0; i < plane; ++i) {
      out.pixels[c * plane + i] =
          static_cast<float>(image.pixels[i * image.channels + source_channel]) / 255.0f;
    }
  }
  return out;
}

// ---- Horizontal flip -------------------------------------------------------------------

void horizontal_flip(PlanarImage& image) {
  check_image(image, "horizontal_flip");
  for (int64_t row = 0; row < 3 * image.height; ++row) {
    float* line = image.pixels.data() + row * image.width;
    std::reverse(line, line + image.width);
  }
}

void horizontal_flip(InstanceMasks& masks) {
  check_masks(masks, "horizontal_flip");
  for (int64_t row = 0; row < masks.count * masks.height; ++row) {
    uint8_t* line = masks.pixels.data() + row * masks.width;
    std::reverse(line, line + masks.width);
  }
}

void horizontal_flip_boxes(std::vector<Box>& boxes, int64_t image_width) {
  const float width = static_cast<float>(image_width);
  for (Box& box : boxes) {
    const float x1 = box[0];
    box[0] = width - box[2];
    box[2] = width - x1;
  }
}

// ---- Colour jitter ---------------------------------------------------------------------

void adjust_brightness(PlanarImage& image, float factor) {
  check_image(image, "adjust_brightness");
  for (float& value : image.pixels) value = blend(value, 0.0f, factor);
}

void adjust_contrast(PlanarImage& image, float factor) {
  check_image(image, "adjust_contrast");
  const int64_t plane = image.height * image.width;
  const float* r = image.pixels.data();
  const float* g = r + plane;
  const float* b = g + plane;
  double sum = 0;
  for (int64_t i = 0; i < plane; ++i) sum += grayscale(r[i], g[i], b[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(plane));
  for (float& value : image.pixels) value = blend(value, mean, factor);
}

void adjust_saturation(PlanarImage& image, float factor) {
  check_image(image, "adjust_saturation");
  const int64_t plane = image.height * image.width;
  float* r = image.pixels.data();
  float* g = r + plane;
  float* b = g + plane;
  for (int64_t i = 0; i < plane; ++i) {
    const float gray = grayscale(r[i], g[i], b[i]);  // of the pixel before blending
    r[i] = blend(r[i], gray, factor);
    g[i] = blend(g[i], gray, factor);
    b[i] = blend(b[i], gray, factor);
  }
}

void color_jitter(PlanarImage& image, const ColorJitterDraw& draw) {
  for (ColorAdjustment adjustment : draw.order) {
    switch (adjustment) {
      case ColorAdjustment::brightness:
        if (draw.brightness != 1.0f) adjust_brightness(image, draw.brightness);
        break;
      case ColorAdjustment::contrast:
        if (draw.contrast != 1.0f) adjust_contrast(image, draw.contrast);
        break;
      case ColorAdjustment::saturation:
        if (draw.saturation != 1.0f) adjust_saturation(image, draw.saturation);
        break;
    }
  }
}

// ---- Resize ----------------------------------------------------------------------------

std::array<int64_t, 2> resized_size(int64_t height, int64_t width, const ResizeOptions& options) {
  WISE_CHECK(height > 0 && width > 0, "resize: image must be non-empty, got ", height, " x ", width);
  WISE_CHECK((options.fixed_height > 0) == (options.fixed_width > 0),
             "resize: fixed_height and fixed_width must both be set or both be 0, got ",
             options.fixed_height, " and ", options.fixed_width);
  if (options.fixed_height > 0) return {options.fixed_height, options.fixed_width};
  WISE_CHECK(options.min_size >= 0, "resize: min_size must be >= 0 (0: native size), got ",
             options.min_size);
  if (options.min_size == 0) return {height, width};
  WISE_CHECK(options.max_size >= options.min_size, "resize: max_size must be >= min_size, got ",
             options.max_size, " < ", options.min_size);
  // Exactly torchvision's arithmetic (checked against it on 925 sizes): the scale in
  // float32 as `self_min_size / min_size` with a float32 tensor evaluates it, a reciprocal
  // then a product (S * (1 / short), which is not always S / short rounded: 375 -> 799,
  // not 800, at S = 800), then the size in double, Python's math.floor(size * scale).
  // A side that would round to 0 (an extreme aspect ratio, where torchvision fails) is
  // kept at 1 pixel.
  const float short_side = static_cast<float>(std::min(height, width));
  const float long_side = static_cast<float>(std::max(height, width));
  const float scale = std::min(static_cast<float>(options.min_size) * (1.0f / short_side),
                               static_cast<float>(options.max_size) * (1.0f / long_side));
  const auto scaled = [scale](int64_t size) {
    return std::max<int64_t>(
        1, static_cast<int64_t>(std::floor(static_cast<double>(size) * static_cast<double>(scale))));
  };
  return {scaled(height), scaled(width)};
}

PlanarImage resize_bilinear(const PlanarImage& image, int64_t height, int64_t width) {
  check_image(image, "resize_bilinear");
  WISE_CHECK(height > 0 && width > 0, "resize_bilinear: output size must be positive, got ",
             height, " x ", width);
  const float scale_y = kernels::bilinear_scale(image.height, height, /*align_corners=*/false);
  const float scale_x = kernels::bilinear_scale(image.width, width, /*align_corners=*/false);
  std::vector<kernels::BilinearTaps> column_taps(width);
  for (int64_t x = 0; x < width; ++x) {
    column_taps[x] = kernels::bilinear_taps(x, scale_x, image.width, /*align_corners=*/false);
  }
  PlanarImage out{height, width, std::vector<float>(3 * height * width)};
  for (int64_t c = 0; c < 3; ++c) {
    const float* in_plane = image.pixels.data() + c * image.height * image.width;
    float* out_plane = out.pixels.data() + c * height * width;
    for (int64_t y = 0; y < height; ++y) {
      const kernels::BilinearTaps row = kernels::bilinear_taps(y, scale_y, image.height, false);
      const float* line0 = in_plane + row.index0 * image.width;
      const float* line1 = in_plane + row.index1 * image.width;
      for (int64_t x = 0; x < width; ++x) {
        const kernels::BilinearTaps& col = column_taps[x];
        // Height outer, width inner, as torch's CPU kernel and kernels/resize.h nest them.
        out_plane[y * width + x] =
            row.lambda0 * (col.lambda0 * line0[col.index0] + col.lambda1 * line0[col.index1]) +
            row.lambda1 * (col.lambda0 * line1[col.index0] + col.lambda1 * line1[col.index1]);
      }
    }
  }
  return out;
}

InstanceMasks resize_nearest(const InstanceMasks& masks, int64_t height, int64_t width) {
  check_masks(masks, "resize_nearest");
  WISE_CHECK(height > 0 && width > 0, "resize_nearest: output size must be positive, got ",
             height, " x ", width);
  InstanceMasks out{masks.count, height, width,
                    std::vector<uint8_t>(masks.count * height * width)};
  if (masks.count == 0) return out;
  WISE_CHECK(masks.height > 0 && masks.width > 0, "resize_nearest: masks must be non-empty, got ",
             masks.height, " x ", masks.width);
  const float scale_y = kernels::nearest_scale(masks.height, height);
  const float scale_x = kernels::nearest_scale(masks.width, width);
  std::vector<int64_t> source_x(width);
  for (int64_t x = 0; x < width; ++x) {
    source_x[x] = kernels::nearest_source_index(x, scale_x, masks.width);
  }
  for (int64_t m = 0; m < masks.count; ++m) {
    for (int64_t y = 0; y < height; ++y) {
      const int64_t sy = kernels::nearest_source_index(y, scale_y, masks.height);
      const uint8_t* in_line = masks.pixels.data() + (m * masks.height + sy) * masks.width;
      uint8_t* out_line = out.pixels.data() + (m * height + y) * width;
      for (int64_t x = 0; x < width; ++x) out_line[x] = in_line[source_x[x]];
    }
  }
  return out;
}

void resize_boxes(std::vector<Box>& boxes, int64_t old_height, int64_t old_width,
                  int64_t new_height, int64_t new_width) {
  // torchvision's resize_boxes: float32 ratios new / old per axis.
  const float ratio_y = static_cast<float>(new_height) / static_cast<float>(old_height);
  const float ratio_x = static_cast<float>(new_width) / static_cast<float>(old_width);
  for (Box& box : boxes) {
    box[0] *= ratio_x;
    box[1] *= ratio_y;
    box[2] *= ratio_x;
    box[3] *= ratio_y;
  }
}

// ---- Normalisation ---------------------------------------------------------------------

void normalize(PlanarImage& image, const NormalizeOptions& options) {
  check_image(image, "normalize");
  const int64_t plane = image.height * image.width;
  for (int64_t c = 0; c < 3; ++c) {
    WISE_CHECK(options.std[c] > 0, "normalize: std[", c, "] must be positive, got ", options.std[c]);
    float* values = image.pixels.data() + c * plane;
    for (int64_t i = 0; i < plane; ++i) values[i] = (values[i] - options.mean[c]) / options.std[c];
  }
}

// ---- Batching --------------------------------------------------------------------------

Tensor pad_into_batch(const std::vector<PlanarImage>& images, int64_t size_divisible) {
  WISE_CHECK(!images.empty(), "pad_into_batch: needs at least one image");
  WISE_CHECK(size_divisible >= 1, "pad_into_batch: size_divisible must be >= 1, got ",
             size_divisible);
  int64_t max_height = 0, max_width = 0;
  for (const PlanarImage& image : images) {
    check_image(image, "pad_into_batch");
    max_height = std::max(max_height, image.height);
    max_width = std::max(max_width, image.width);
  }
  const int64_t padded_height = kernels::ceil_div(max_height, size_divisible) * size_divisible;
  const int64_t padded_width = kernels::ceil_div(max_width, size_divisible) * size_divisible;
  const int64_t count = static_cast<int64_t>(images.size());
  Tensor batch = Tensor::zeros(Shape{count, 3, padded_height, padded_width});
  float* out = batch.data<float>();
  for (int64_t n = 0; n < count; ++n) {
    const PlanarImage& image = images[n];
    for (int64_t c = 0; c < 3; ++c) {
      for (int64_t y = 0; y < image.height; ++y) {
        const float* source = image.pixels.data() + (c * image.height + y) * image.width;
        float* target = out + ((n * 3 + c) * padded_height + y) * padded_width;
        std::memcpy(target, source, static_cast<size_t>(image.width) * sizeof(float));
      }
    }
  }
  return batch;
}

// ---- Random augmentation ---------------------------------------------------------------

double philox_uniform(uint64_t seed, int64_t epoch, int64_t index, uint32_t stream, uint32_t draw) {
  WISE_CHECK(index >= 0 && index < (int64_t{1} << 32) && epoch >= 0 && epoch < (int64_t{1} << 32),
             "philox_uniform: index and epoch must be in [0, 2^32), got index ", index, ", epoch ",
             epoch);
  const kernels::PhiloxBlock counter{
      {draw, static_cast<uint32_t>(index), static_cast<uint32_t>(epoch), stream}};
  const kernels::PhiloxBlock bits = kernels::philox4x32_10(
      counter, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
  return kernels::uniform53_from_bits(bits.x[0], bits.x[1]);
}

AugmentDraw draw_augmentation(uint64_t seed, int64_t epoch, int64_t index,
                              const AugmentOptions& options) {
  // Fixed draw numbers, so enabling one option never changes another's values.
  enum : uint32_t { kFlip = 0, kBrightness = 1, kContrast = 2, kSaturation = 3, kOrder = 4 };
  const auto uniform = [&](uint32_t draw) {
    return philox_uniform(seed, epoch, index, kAugmentStream, draw);
  };
  const auto factor = [&](float strength, uint32_t draw) {
    WISE_CHECK(strength >= 0, "color jitter strengths must be >= 0, got ", strength);
    if (strength == 0) return 1.0f;
    const double low = std::max(0.0, 1.0 - static_cast<double>(strength));
    const double high = 1.0 + static_cast<double>(strength);
    return static_cast<float>(low + (high - low) * uniform(draw));
  };
  AugmentDraw out;
  out.flip = uniform(kFlip) < static_cast<double>(options.flip_probability);
  out.jitter.brightness = factor(options.jitter.brightness, kBrightness);
  out.jitter.contrast = factor(options.jitter.contrast, kContrast);
  out.jitter.saturation = factor(options.jitter.saturation, kSaturation);
  // Fisher-Yates shuffle of the three adjustments (torchvision: torch.randperm(4)).
  for (int i = 2; i > 0; --i) {
    const int j = std::min(i, static_cast<int>(uniform(kOrder + static_cast<uint32_t>(i)) * (i + 1)));
    std::swap(out.jitter.order[i], out.jitter.order[j]);
  }
  return out;
}

PlanarImage augment_image(const Image& image, const AugmentDraw& draw,
                          const AugmentOptions& options, ImageGeometry& geometry) {
  PlanarImage planar = to_planar_rgb(image);
  geometry.original_height = planar.height;
  geometry.original_width = planar.width;
  geometry.flipped = draw.flip;
  if (draw.flip) horizontal_flip(planar);
  color_jitter(planar, draw.jitter);
  const auto [height, width] = resized_size(planar.height, planar.width, options.resize);
  if (height != planar.height || width != planar.width) {
    planar = resize_bilinear(planar, height, width);
  }
  geometry.height = height;
  geometry.width = width;
  if (options.normalize) normalize(planar, options.normalization);
  return planar;
}

void augment_instances(InstanceMasks& masks, std::vector<Box>& boxes, const ImageGeometry& geometry) {
  WISE_CHECK(masks.count == static_cast<int64_t>(boxes.size()), "augment_instances: ",
             masks.count, " masks but ", boxes.size(), " boxes");
  if (masks.count == 0) {
    masks = InstanceMasks{0, geometry.height, geometry.width, {}};
    boxes.clear();
    return;
  }
  WISE_CHECK(masks.height == geometry.original_height && masks.width == geometry.original_width,
             "augment_instances: masks are ", masks.height, " x ", masks.width, " but the image is ",
             geometry.original_height, " x ", geometry.original_width);
  if (geometry.flipped) {
    horizontal_flip(masks);
    horizontal_flip_boxes(boxes, geometry.original_width);
  }
  if (geometry.height != masks.height || geometry.width != masks.width) {
    masks = resize_nearest(masks, geometry.height, geometry.width);
    resize_boxes(boxes, geometry.original_height, geometry.original_width, geometry.height,
                 geometry.width);
  }
}

}  // namespace wise::data
