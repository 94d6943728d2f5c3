// Augmentation and input preparation (data/transforms.h). References: hand-computed
// values (each derivation in a comment; the same numbers come out of torchvision 0.14's
// F.interpolate, adjust_* and normalize), torchvision's own output sizes, and the
// geometry of masks (a box must stay the tight box of its mask through flips).
#include "data/transforms.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "data/rle.h"
#include "kernels/check.h"

namespace wise::data {
namespace {

// A planar image whose three channels are `plane`, `plane` + 10 and `plane` + 20.
PlanarImage planar_from(int64_t height, int64_t width, const std::vector<float>& plane) {
  PlanarImage image{height, width, {}};
  for (int c = 0; c < 3; ++c) {
    for (float value : plane) image.pixels.push_back(value + 10.0f * c);
  }
  return image;
}

std::vector<float> channel(const PlanarImage& image, int c) {
  const int64_t plane = image.height * image.width;
  return {image.pixels.begin() + c * plane, image.pixels.begin() + (c + 1) * plane};
}

void expect_near_all(const std::vector<float>& actual, const std::vector<float>& expected,
                     float tolerance, const char* what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual[i], expected[i], tolerance) << what << " at " << i;
  }
}

// The tight box (x1, y1, x2, y2) of mask m, via pycocotools' toBbox (data/rle.h).
Box mask_box(const InstanceMasks& masks, int64_t m) {
  const uint8_t* pixels = masks.pixels.data() + m * masks.height * masks.width;
  const auto xywh = rle_to_bbox(rle_encode(pixels, masks.height, masks.width));
  return {static_cast<float>(xywh[0]), static_cast<float>(xywh[1]),
          static_cast<float>(xywh[0] + xywh[2]), static_cast<float>(xywh[1] + xywh[3])};
}

TEST(TransformConvert, PlanarRgbDividesBy255AndReplicatesGray) {
  Image rgb{1, 2, 3, {0, 51, 255, 10, 20, 30}};  // two pixels, interleaved
  const PlanarImage planar = to_planar_rgb(rgb);
  expect_near_all(planar.pixels, {0.0f, 10 / 255.f, 0.2f, 20 / 255.f, 1.0f, 30 / 255.f}, 1e-7f,
                  "rgb");
  Image gray{1, 2, 1, {255, 0}};
  expect_near_all(to_planar_rgb(gray).pixels, {1, 0, 1, 0, 1, 0}, 0, "gray");
  Image rgba{1, 1, 4, {255, 0, 51, 7}};  // alpha dropped
  expect_near_all(to_planar_rgb(rgba).pixels, {1.0f, 0.0f, 0.2f}, 1e-7f, "rgba");
  Image bad{2, 2, 3, {1, 2, 3}};
  EXPECT_THROW(to_planar_rgb(bad), Error);
  Image two_channels{1, 1, 2, {1, 2}};
  EXPECT_THROW(to_planar_rgb(two_channels), Error);
}

TEST(TransformFlip, ImageMasksAndBoxesAreInvolutions) {
  std::mt19937 rng(3);
  PlanarImage image{5, 7, std::vector<float>(3 * 35)};
  for (float& value : image.pixels) value = static_cast<float>(rng() % 100);
  const PlanarImage original = image;
  horizontal_flip(image);
  EXPECT_EQ(image.pixels[0], original.pixels[6]);              // (c0, y0, x0) <- x = W - 1
  EXPECT_EQ(image.pixels[2 * 35 + 4 * 7 + 2], original.pixels[2 * 35 + 4 * 7 + 4]);
  horizontal_flip(image);
  EXPECT_EQ(image.pixels, original.pixels);

  std::vector<Box> boxes = {{1, 2, 4, 5}, {0, 0, 7, 5}};
  horizontal_flip_boxes(boxes, 7);
  EXPECT_EQ(boxes[0], (Box{3, 2, 6, 5}));  // x1' = 7 - 4, x2' = 7 - 1
  EXPECT_EQ(boxes[1], (Box{0, 0, 7, 5}));  // the whole image stays the whole image
  horizontal_flip_boxes(boxes, 7);
  EXPECT_EQ(boxes[0], (Box{1, 2, 4, 5}));
}

TEST(TransformFlip, BoxStaysTheTightBoxOfItsMask) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 20; ++trial) {
    const int64_t height = 3 + rng() % 20, width = 3 + rng() % 20;
    InstanceMasks masks{2, height, width, std::vector<uint8_t>(2 * height * width, 0)};
    std::vector<Box> boxes;
    for (int m = 0; m < 2; ++m) {  // a random rectangle with a hole-free random fill
      const int64_t x1 = rng() % width, y1 = rng() % height;
      const int64_t x2 = x1 + 1 + rng() % (width - x1), y2 = y1 + 1 + rng() % (height - y1);
      for (int64_t y = y1; y < y2; ++y) {
        for (int64_t x = x1; x < x2; ++x) masks.pixels[(m * height + y) * width + x] = 1;
      }
      boxes.push_back(mask_box(masks, m));
    }
    horizontal_flip(masks);
    horizontal_flip_boxes(boxes, width);
    for (int m = 0; m < 2; ++m) EXPECT_EQ(mask_box(masks, m), boxes[m]) << "trial " << trial;
  }
}

TEST(TransformJitter, BrightnessContrastSaturationHandValues) {
  // brightness: clamp(f * v, 0, 1).
  PlanarImage image = planar_from(1, 2, {0.2f, 0.8f});
  for (float& value : image.pixels) value = std::min(value, 1.0f);  // channels 1, 2 -> 1
  adjust_brightness(image, 1.5f);
  expect_near_all(channel(image, 0), {0.3f, 1.0f}, 1e-6f, "brightness");

  // contrast: a white and a black pixel; gray(white) = 0.2989 + 0.587 + 0.114 = 0.9999,
  // mean gray 0.49995; f = 0.5: 0.5 * 1 + 0.5 * 0.49995 = 0.749975, 0.5 * 0.49995 = 0.249975.
  PlanarImage black_white{1, 2, {1, 0, 1, 0, 1, 0}};
  adjust_contrast(black_white, 0.5f);
  expect_near_all(black_white.pixels, {0.749975f, 0.249975f, 0.749975f, 0.249975f, 0.749975f,
                                       0.249975f},
                  1e-6f, "contrast");

  // saturation 0 makes a pure red pixel its gray 0.2989; saturation 2 pushes it to
  // (2 - 0.2989, -0.2989, -0.2989), clamped to (1, 0, 0).
  PlanarImage red{1, 1, {1, 0, 0}};
  adjust_saturation(red, 0.0f);
  expect_near_all(red.pixels, {0.2989f, 0.2989f, 0.2989f}, 1e-6f, "saturation 0");
  PlanarImage red2{1, 1, {1, 0, 0}};
  adjust_saturation(red2, 2.0f);
  expect_near_all(red2.pixels, {1, 0, 0}, 0, "saturation 2");
}

TEST(TransformJitter, OrderMattersAndIsFollowed) {
  // brightness 2 then contrast 0 vs contrast 0 then brightness 2 on (0.4, 0.4, 0.4):
  // first way: 0.8 -> its own gray mean 0.8 * 0.9999; second: 0.4 * 0.9999 -> doubled.
  ColorJitterDraw draw;
  draw.brightness = 2.0f;
  draw.contrast = 0.0f;
  draw.order = {ColorAdjustment::brightness, ColorAdjustment::contrast, ColorAdjustment::saturation};
  PlanarImage a{1, 1, {0.4f, 0.4f, 0.4f}};
  color_jitter(a, draw);
  EXPECT_NEAR(a.pixels[0], 0.8f * 0.9999f, 1e-6f);
  draw.order = {ColorAdjustment::contrast, ColorAdjustment::saturation, ColorAdjustment::brightness};
  PlanarImage b{1, 1, {0.6f, 0.6f, 0.6f}};
  color_jitter(b, draw);
  EXPECT_NEAR(b.pixels[0], std::min(1.0f, 2.0f * 0.6f * 0.9999f), 1e-6f);  // clamped to 1
}

TEST(TransformJitter, FactorRangesFlipRateAndOrdersFromTheSeed) {
  AugmentOptions options;
  options.flip_probability = 0.5f;
  options.jitter = {0.4f, 0.2f, 1.5f};  // saturation: [max(0, 1 - 1.5), 2.5] = [0, 2.5]
  double flips = 0, brightness_sum = 0;
  float brightness_min = 10, brightness_max = 0, saturation_min = 10, saturation_max = 0;
  std::set<std::array<ColorAdjustment, 3>> orders;
  const int draws = 3000;
  for (int index = 0; index < draws; ++index) {
    const AugmentDraw draw = draw_augmentation(42, index % 3, index, options);
    flips += draw.flip;
    brightness_sum += draw.jitter.brightness;
    brightness_min = std::min(brightness_min, draw.jitter.brightness);
    brightness_max = std::max(brightness_max, draw.jitter.brightness);
    saturation_min = std::min(saturation_min, draw.jitter.saturation);
    saturation_max = std::max(saturation_max, draw.jitter.saturation);
    EXPECT_GE(draw.jitter.contrast, 0.8f);
    EXPECT_LE(draw.jitter.contrast, 1.2f);
    orders.insert(draw.jitter.order);
  }
  EXPECT_GE(brightness_min, 0.6f);
  EXPECT_LE(brightness_max, 1.4f);
  EXPECT_LT(brightness_min, 0.61f);  // the draws fill the range
  EXPECT_GT(brightness_max, 1.39f);
  EXPECT_NEAR(brightness_sum / draws, 1.0, 0.02);
  EXPECT_GE(saturation_min, 0.0f);
  EXPECT_LT(saturation_min, 0.01f);
  EXPECT_LE(saturation_max, 2.5f);
  EXPECT_NEAR(flips / draws, 0.5, 0.04);  // 4.4 standard deviations
  EXPECT_EQ(orders.size(), 6u);           // every permutation occurs

  // Deterministic in (seed, epoch, index); any of them changes the draw.
  const AugmentDraw first = draw_augmentation(42, 1, 7, options);
  EXPECT_EQ(first.jitter.brightness, draw_augmentation(42, 1, 7, options).jitter.brightness);
  EXPECT_NE(first.jitter.brightness, draw_augmentation(43, 1, 7, options).jitter.brightness);
  EXPECT_NE(first.jitter.brightness, draw_augmentation(42, 2, 7, options).jitter.brightness);
  EXPECT_NE(first.jitter.brightness, draw_augmentation(42, 1, 8, options).jitter.brightness);

  // No jitter, no flip: identity factors.
  const AugmentDraw plain = draw_augmentation(42, 0, 0, AugmentOptions{});
  EXPECT_FALSE(plain.flip);
  EXPECT_EQ(plain.jitter.brightness, 1.0f);
  EXPECT_EQ(plain.jitter.saturation, 1.0f);
  options.jitter.brightness = -0.1f;
  EXPECT_THROW(draw_augmentation(42, 0, 0, options), Error);
}

TEST(TransformResize, SizesMatchTorchvisionForShortAndLongSides) {
  const ResizeOptions voc;  // 800 / 1333
  // torchvision 0.14 _resize_image_and_masks output sizes (its float32 scale is
  // 800 * (1 / 375) = 2.1333332, so 375 -> 799).
  EXPECT_EQ(resized_size(375, 500, voc), (std::array<int64_t, 2>{799, 1066}));
  EXPECT_EQ(resized_size(480, 640, voc), (std::array<int64_t, 2>{800, 1066}));
  EXPECT_EQ(resized_size(500, 500, voc), (std::array<int64_t, 2>{800, 800}));
  EXPECT_EQ(resized_size(333, 500, voc), (std::array<int64_t, 2>{799, 1201}));
  EXPECT_EQ(resized_size(100, 1000, voc), (std::array<int64_t, 2>{133, 1333}));  // long side caps
  EXPECT_EQ(resized_size(281, 500, voc), (std::array<int64_t, 2>{749, 1333}));
  const ResizeOptions small{32, 48, 0, 0};
  EXPECT_EQ(resized_size(7, 9, small), (std::array<int64_t, 2>{32, 41}));
  EXPECT_EQ(resized_size(13, 5, small), (std::array<int64_t, 2>{48, 18}));
  // Native size (the shapes set) and a fixed size (PRM's 448 x 448).
  EXPECT_EQ(resized_size(375, 500, ResizeOptions{0, 0, 0, 0}), (std::array<int64_t, 2>{375, 500}));
  EXPECT_EQ(resized_size(375, 500, ResizeOptions{800, 1333, 448, 448}),
            (std::array<int64_t, 2>{448, 448}));
  // An extreme aspect ratio keeps at least one pixel where torchvision fails (its height
  // rounds to 0; its width, 1333 * float32(1 / 3000) * 3000 = 1332.9999, to 1332).
  EXPECT_EQ(resized_size(1, 3000, voc), (std::array<int64_t, 2>{1, 1332}));
  EXPECT_THROW(resized_size(0, 5, voc), Error);
  EXPECT_THROW(resized_size(5, 5, ResizeOptions{800, 700, 0, 0}), Error);
  EXPECT_THROW(resized_size(5, 5, ResizeOptions{800, 1333, 448, 0}), Error);
}

TEST(TransformResize, BilinearHandValuesNoAntialiasHalfPixelCentres) {
  // 2 x 2 -> 4 x 4, v(y, x) = 2y + x. Per axis src = max(0.5 (dst + 0.5) - 0.5, 0):
  // 0, 0.25, 0.75, 1.25 -> weights on (v0, v1): (1, 0), (.75, .25), (.25, .75), (0, 1)
  // (the last index clamps), so out = 2 f(y) + f(x) with f = (0, .25, .75, 1).
  const PlanarImage up = resize_bilinear(planar_from(2, 2, {0, 1, 2, 3}), 4, 4);
  expect_near_all(channel(up, 0),
                  {0.0f, 0.25f, 0.75f, 1.0f, 0.5f, 0.75f, 1.25f, 1.5f, 1.5f, 1.75f, 2.25f, 2.5f,
                   2.0f, 2.25f, 2.75f, 3.0f},
                  1e-6f, "2x2 -> 4x4");
  expect_near_all(channel(up, 2), {20.0f, 20.25f, 20.75f, 21.0f, 20.5f, 20.75f, 21.25f, 21.5f,
                                   21.5f, 21.75f, 22.25f, 22.5f, 22.0f, 22.25f, 22.75f, 23.0f},
                  1e-5f, "third channel");
  // 1 x 6 -> 1 x 2: src = 3 (dst + 0.5) - 0.5 = 1, 4 exactly: out = (v1, v4) = (10, 40).
  // An antialiased resize would average neighbours (e.g. (0 + 10 + 0) / 3 weights).
  const PlanarImage down = resize_bilinear(planar_from(1, 6, {0, 10, 0, 0, 40, 80}), 1, 2);
  expect_near_all(channel(down, 0), {10.0f, 40.0f}, 1e-6f, "1x6 -> 1x2");
  // 1 x 3 -> 1 x 2: src = 1.5 dst + 0.25: 0.25 -> .75 v0 + .25 v1 = 1; 1.75 -> 7.
  const PlanarImage odd = resize_bilinear(planar_from(1, 3, {0, 4, 8}), 1, 2);
  expect_near_all(channel(odd, 0), {1.0f, 7.0f}, 1e-6f, "1x3 -> 1x2");
  // Same size is the identity.
  const PlanarImage same = resize_bilinear(planar_from(2, 3, {1, 2, 3, 4, 5, 6}), 2, 3);
  expect_near_all(channel(same, 0), {1, 2, 3, 4, 5, 6}, 0, "identity");
}

TEST(TransformResize, MasksNearestAndBoxesScale) {
  // torch's legacy nearest: src = floor(dst * in / out). 2 -> 3: 0, 0, 1.
  InstanceMasks mask{1, 2, 2, {1, 0, 0, 0}};
  EXPECT_EQ(resize_nearest(mask, 3, 3).pixels, (std::vector<uint8_t>{1, 1, 0, 1, 1, 0, 0, 0, 0}));
  // 5 -> 3: src 0, 1 (1.67), 3 (3.33).
  InstanceMasks row{2, 1, 5, {1, 0, 1, 1, 0, 0, 1, 0, 0, 1}};
  EXPECT_EQ(resize_nearest(row, 1, 3).pixels, (std::vector<uint8_t>{1, 0, 1, 0, 1, 0}));
  InstanceMasks none{0, 4, 4, {}};
  EXPECT_EQ(resize_nearest(none, 8, 8).count, 0);

  std::vector<Box> boxes = {{10, 20, 30, 40}};
  resize_boxes(boxes, 100, 50, 200, 25);  // y x2, x x0.5
  EXPECT_EQ(boxes[0], (Box{5, 40, 15, 80}));
}

TEST(TransformResize, AugmentInstancesKeepsMasksAndBoxesTogether) {
  // A rectangle mask in a 10 x 16 image, flipped and upscaled x2 (exactly, so nearest
  // keeps the rectangle's edges on pixel edges): the box must be the resized mask's box.
  InstanceMasks masks{1, 10, 16, std::vector<uint8_t>(160, 0)};
  for (int64_t y = 2; y < 7; ++y) {
    for (int64_t x = 3; x < 12; ++x) masks.pixels[y * 16 + x] = 1;
  }
  std::vector<Box> boxes = {mask_box(masks, 0)};
  EXPECT_EQ(boxes[0], (Box{3, 2, 12, 7}));
  ImageGeometry geometry{10, 16, 20, 32, true};
  augment_instances(masks, boxes, geometry);
  EXPECT_EQ(masks.height, 20);
  EXPECT_EQ(masks.width, 32);
  EXPECT_EQ(boxes[0], (Box{8, 4, 26, 14}));  // flip: (16 - 12, 16 - 3) = (4, 13); x2
  EXPECT_EQ(mask_box(masks, 0), boxes[0]);
  EXPECT_FLOAT_EQ(geometry.scale_x(), 2.0f);

  InstanceMasks wrong{1, 9, 16, std::vector<uint8_t>(144, 0)};
  std::vector<Box> one_box = {Box{0, 0, 1, 1}};
  EXPECT_THROW(augment_instances(wrong, one_box, geometry), Error);
}

TEST(TransformNormalize, ImageNetStatisticsHandValues) {
  // (1 - 0.485) / 0.229 = 2.2489083, (128/255 - 0.456) / 0.224 = 0.2051821,
  // (0 - 0.406) / 0.225 = -1.8044444.
  PlanarImage image{1, 1, {1.0f, 128.0f / 255.0f, 0.0f}};
  normalize(image, NormalizeOptions{});
  expect_near_all(image.pixels, {2.2489083f, 0.2051821f, -1.8044444f}, 1e-5f, "imagenet");
}

TEST(TransformBatch, PadsToMultipleOf32WithZeros) {
  std::vector<PlanarImage> images = {planar_from(5, 7, std::vector<float>(35, 1.0f)),
                                     planar_from(33, 10, std::vector<float>(330, 2.0f))};
  const Tensor batch = pad_into_batch(images, 32);
  EXPECT_EQ(batch.shape(), (Shape{2, 3, 64, 32}));
  const std::vector<float> values = batch.to_vector<float>();
  const auto at = [&](int64_t n, int64_t c, int64_t y, int64_t x) {
    return values[((n * 3 + c) * 64 + y) * 32 + x];
  };
  double sum0 = 0, sum1 = 0;
  for (int64_t c = 0; c < 3; ++c) {
    for (int64_t y = 0; y < 64; ++y) {
      for (int64_t x = 0; x < 32; ++x) {
        sum0 += at(0, c, y, x);
        sum1 += at(1, c, y, x);
      }
    }
  }
  // Image 0 holds 1, 11, 21 on 5 x 7 pixels, image 1 holds 2, 12, 22 on 33 x 10: the
  // sums are exactly the images' own, so every padded value is 0.
  EXPECT_EQ(sum0, 35.0 * (1 + 11 + 21));
  EXPECT_EQ(sum1, 330.0 * (2 + 12 + 22));
  EXPECT_EQ(at(0, 1, 4, 6), 11.0f);  // last valid pixel
  EXPECT_EQ(at(0, 1, 4, 7), 0.0f);
  EXPECT_EQ(at(1, 2, 32, 9), 22.0f);

  EXPECT_EQ(pad_into_batch(images, 1).shape(), (Shape{2, 3, 33, 10}));
  EXPECT_EQ(pad_into_batch({planar_from(32, 64, std::vector<float>(32 * 64))}, 32).shape(),
            (Shape{1, 3, 32, 64}));
  EXPECT_THROW(pad_into_batch({}, 32), Error);
}

TEST(TransformPipeline, AugmentImageRunsTheStepsInOrder) {
  // A 2 x 2 RGB image, flipped, no jitter, resized with S = L = 4 (-> 4 x 4), not
  // normalised: channel 0 must equal the hand 2x2 -> 4x4 result of the flipped plane.
  Image image{2, 2, 3, {}};
  const std::vector<uint8_t> red = {51, 0, 153, 102};  // flipped: 0 51 / 102 153 = 51 (x + 2y)
  for (uint8_t r : red) {
    image.pixels.insert(image.pixels.end(), {r, 0, 255});
  }
  AugmentOptions options;
  options.resize = {4, 4, 0, 0};
  options.normalize = false;
  AugmentDraw draw;
  draw.flip = true;
  ImageGeometry geometry;
  const PlanarImage out = augment_image(image, draw, options, geometry);
  EXPECT_EQ(geometry.original_height, 2);
  EXPECT_EQ(geometry.height, 4);
  EXPECT_TRUE(geometry.flipped);
  // 51/255 = 0.2 times (2 f(y) + f(x)) from the 2x2 -> 4x4 hand computation above.
  const std::vector<float> f = {0.0f, 0.25f, 0.75f, 1.0f};
  std::vector<float> expected;
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 4; ++x) expected.push_back(0.2f * (2 * f[y] + f[x]));
  }
  expect_near_all(channel(out, 0), expected, 1e-6f, "flip + resize");
  expect_near_all(channel(out, 2), std::vector<float>(16, 1.0f), 1e-6f, "blue");
}

}  // namespace
}  // namespace wise::data
