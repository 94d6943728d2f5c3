// Augmentation and input preparation: what happens to an image (and its instance
// targets) between the file and the network's input tensor.
//
// The pipeline, per image, in this order (data/loader.cpp runs it):
//   to_planar_rgb      uint8 (H, W, C) -> float (3, H, W) in [0, 1]  (torchvision's ToTensor)
//   horizontal_flip    image, masks and boxes                        (training only)
//   color_jitter       brightness / contrast / saturation, random order
//   resize_bilinear    short side S, long side <= L (or a fixed size); masks by nearest
//   normalize          ImageNet mean / std, RGB order
//   pad_into_batch     zero padding to a multiple of 32, batched into (N, 3, Hpad, Wpad)
//
// torchvision's GeneralizedRCNNTransform normalises before resizing; bilinear
// interpolation is affine with weights summing to 1, so the order only changes float
// rounding (a few ulp). Padding comes after normalisation and is 0, as torchvision's.
//
// Randomness. Every random choice for one image comes from draw_augmentation(seed,
// epoch, index): Philox4x32-10 (kernels/philox.h) with the seed as key and the counter
// (draw number, image index, epoch, stream tag). So an image's augmentation depends only
// on (seed, epoch, dataset index), never on the worker that made it, the thread count,
// the prefetch depth, the batch it lands in or the shard it belongs to.
//
// Coordinates. Boxes are (x1, y1, x2, y2) in pixel-edge coordinates (COCO's [x, y, w, h]
// gives (x, y, x + w, y + h)); a box covering the whole image is (0, 0, W, H).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "data/image.h"
#include "nn/tensor.h"

namespace wise::data {

// A float RGB image, channel planes one after the other: pixels[(c * height + y) * width + x].
struct PlanarImage {
  int64_t height = 0;
  int64_t width = 0;
  std::vector<float> pixels;  // (3, height, width)
};

// M binary instance masks of one image: pixels[(m * height + y) * width + x], 0 or 1.
struct InstanceMasks {
  int64_t count = 0;
  int64_t height = 0;
  int64_t width = 0;
  std::vector<uint8_t> pixels;  // (count, height, width)
};

using Box = std::array<float, 4>;  // (x1, y1, x2, y2)

// ---- Conversion ----------------------------------------------------------------------

// uint8 (H, W, C) with C = 1 (gray, replicated to RGB), 3 (RGB) or 4 (RGBA, alpha
// dropped) -> (3, H, W) float, value / 255 (torchvision's ToTensor: img.float().div(255)).
PlanarImage to_planar_rgb(const Image& image);

// ---- Horizontal flip -------------------------------------------------------------------
// Mirror x -> W - 1 - x for pixels; boxes (x1, x2) -> (W - x2, W - x1), torchvision's
// RandomHorizontalFlip (references/detection/transforms.py). Each is an involution.

void horizontal_flip(PlanarImage& image);
void horizontal_flip(InstanceMasks& masks);
void horizontal_flip_boxes(std::vector<Box>& boxes, int64_t image_width);

// ---- Colour jitter ---------------------------------------------------------------------
// torchvision's ColorJitter(brightness, contrast, saturation) on a float image in [0, 1]:
// each factor is drawn uniformly from [max(0, 1 - j), 1 + j]; a strength j = 0 leaves
// that adjustment out. The adjustments are applied in a random order, each as
//   blend(image, other, f) = clamp(f * image + (1 - f) * other, 0, 1)
// with other = 0 (brightness), the mean of the whole image's grayscale (contrast) or the
// pixel's own grayscale (saturation); grayscale = 0.2989 R + 0.587 G + 0.114 B.
// Where we differ from torchvision: no hue; the draws come from Philox, not torch's
// generator; the contrast mean is summed in double (torch sums float32 pairwise).
struct ColorJitterOptions {
  float brightness = 0;
  float contrast = 0;
  float saturation = 0;
};

enum class ColorAdjustment : int { brightness = 0, contrast = 1, saturation = 2 };

struct ColorJitterDraw {
  float brightness = 1;  // factors; 1 is the identity
  float contrast = 1;
  float saturation = 1;
  std::array<ColorAdjustment, 3> order{ColorAdjustment::brightness, ColorAdjustment::contrast,
                                       ColorAdjustment::saturation};
};

void adjust_brightness(PlanarImage& image, float factor);
void adjust_contrast(PlanarImage& image, float factor);
void adjust_saturation(PlanarImage& image, float factor);
// The three adjustments in draw.order (factors of exactly 1 are skipped).
void color_jitter(PlanarImage& image, const ColorJitterDraw& draw);

// ---- Resize ----------------------------------------------------------------------------
// torchvision's GeneralizedRCNNTransform resize: scale = min(S / short side, L / long
// side) in float32, output size floor(size * scale) per axis (F.interpolate's
// recompute_scale_factor=True), bit for bit as torchvision 0.14 computes them (a
// 375 x 500 image becomes 799 x 1066 at S = 800, L = 1333). Images: bilinear, align_corners=False, no antialias
// (F.interpolate / F.resize(antialias=False) semantics, half-pixel centres, the taps of
// kernels/resize.h). Masks: torch's legacy "nearest", src = floor(dst * in / out)
// (kernels/resize_nearest.h). Boxes: times new / old size per axis (resize_boxes).
struct ResizeOptions {
  int64_t min_size = 800;     // S; 0 keeps the native size (no resampling at all)
  int64_t max_size = 1333;    // L
  int64_t fixed_height = 0;   // both > 0: resize to exactly this size instead (e.g. PRM's 448)
  int64_t fixed_width = 0;
};

// Where an image is inside its batch and how it got there; enough to map predictions
// back to the original image (multiply x by original_width / width, y likewise).
struct ImageGeometry {
  int64_t original_height = 0;  // as read from the source
  int64_t original_width = 0;
  int64_t height = 0;  // after resizing: the valid region at the top left of the pad
  int64_t width = 0;
  bool flipped = false;

  float scale_y() const { return static_cast<float>(height) / static_cast<float>(original_height); }
  float scale_x() const { return static_cast<float>(width) / static_cast<float>(original_width); }
};

// The output (height, width) for an input of (height, width); throws on empty inputs
// or options (min_size < 0, max_size < min_size when min_size > 0, one fixed side only).
std::array<int64_t, 2> resized_size(int64_t height, int64_t width, const ResizeOptions& options);

PlanarImage resize_bilinear(const PlanarImage& image, int64_t height, int64_t width);
InstanceMasks resize_nearest(const InstanceMasks& masks, int64_t height, int64_t width);
void resize_boxes(std::vector<Box>& boxes, int64_t old_height, int64_t old_width,
                  int64_t new_height, int64_t new_width);

// ---- Normalisation ---------------------------------------------------------------------
// (value - mean[c]) / std[c] per RGB channel; torchvision's ImageNet statistics.
struct NormalizeOptions {
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
};

void normalize(PlanarImage& image, const NormalizeOptions& options);

// ---- Batching --------------------------------------------------------------------------
// torchvision's batch_images: (N, 3, Hpad, Wpad) float32, plain, CPU, Hpad = the largest
// height rounded up to a multiple of size_divisible (likewise Wpad); image i is copied to
// the top left of slot i, the rest is 0. size_divisible 1 means no rounding.
Tensor pad_into_batch(const std::vector<PlanarImage>& images, int64_t size_divisible = 32);

// ---- Random augmentation ---------------------------------------------------------------

struct AugmentOptions {
  float flip_probability = 0;  // 0.5 for training
  ColorJitterOptions jitter;   // all 0: no jitter
  ResizeOptions resize;
  bool normalize = true;
  NormalizeOptions normalization;
  int64_t size_divisible = 32;
};

struct AugmentDraw {
  bool flip = false;
  ColorJitterDraw jitter;
};

// The random choices for dataset image `index` in `epoch` (see "Randomness" above).
// index and epoch must be in [0, 2^32).
AugmentDraw draw_augmentation(uint64_t seed, int64_t epoch, int64_t index,
                              const AugmentOptions& options);

// Uniform floats in [0, 1) of stream `stream` (a tag telling apart the loader's uses)
// for (seed, epoch, index): the value of draw number `draw`. Exposed for the loader's
// shuffle and for tests.
double philox_uniform(uint64_t seed, int64_t epoch, int64_t index, uint32_t stream, uint32_t draw);

// The whole per-image pipeline above for an image alone: planar conversion, flip,
// jitter, resize, normalisation. geometry receives the sizes.
PlanarImage augment_image(const Image& image, const AugmentDraw& draw,
                          const AugmentOptions& options, ImageGeometry& geometry);
// The same geometric steps (flip, resize) for the instance targets of an image whose
// geometry augment_image returned. masks are at the original size on entry.
void augment_instances(InstanceMasks& masks, std::vector<Box>& boxes, const ImageGeometry& geometry);

}  // namespace wise::data
