// RLE encode/decode, area, bbox and the compressed string (data/rle.h). pycocotools'
// own strings for the same masks are checked in coco_rle_parity_test.cpp.
#include "data/rle.h"

#include <gtest/gtest.h>

#include <random>

namespace wise::data {
namespace {

TEST(Rle, EncodesColumnMajorStartingWithZeros) {
  // 2 x 3, row-major:  0 1 1
  //                    1 1 0   -> column-major 0 1 | 1 1 | 1 0
  const std::vector<uint8_t> mask = {0, 1, 1, 1, 1, 0};
  const Rle rle = rle_encode(mask, 2, 3);
  EXPECT_EQ(rle.counts, (std::vector<uint32_t>{1, 4, 1}));
  EXPECT_EQ(rle_area(rle), 4u);
  EXPECT_EQ(rle_decode(rle), mask);
  const auto box = rle_to_bbox(rle);
  EXPECT_EQ(box, (std::array<double, 4>{0, 0, 3, 2}));
}

TEST(Rle, MaskStartingWithForegroundHasLeadingEmptyRun) {
  // 2 x 2, row-major: 1 1 / 0 0  -> column-major 1 0 | 1 0
  const Rle rle = rle_encode(std::vector<uint8_t>{1, 1, 0, 0}, 2, 2);
  EXPECT_EQ(rle.counts, (std::vector<uint32_t>{0, 1, 1, 1, 1}));
  EXPECT_EQ(rle_to_bbox(rle), (std::array<double, 4>{0, 0, 2, 1}));
}

TEST(Rle, RandomMasksRoundTripThroughTheCompressedString) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    const int64_t height = 1 + rng() % 40, width = 1 + rng() % 40;
    std::vector<uint8_t> mask(height * width);
    const unsigned density = rng() % 4;
    for (auto& value : mask) value = (rng() % 4) < density ? 1 : 0;
    const Rle rle = rle_encode(mask, height, width);
    EXPECT_EQ(rle_decode(rle), mask);
    const Rle back = rle_from_string(rle_to_string(rle), height, width);
    EXPECT_EQ(back.counts, rle.counts) << "trial " << trial;
  }
}

// rle_to_bits against the row-major pixels the masks were made from, bit by bit: pixel
// (y, x) is bit p % 64 of word p / 64 with p = x * height + y; the tail of the last word
// is zero; the count is the foreground's. Sizes include exact multiples of 64 and runs
// longer than a word (the dense masks), and stale words are overwritten.
TEST(Rle, BitsFollowTheColumnMajorOrder) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 60; ++trial) {
    const int64_t height = trial == 0 ? 8 : 1 + rng() % 70, width = trial == 0 ? 16 : 1 + rng() % 70;
    std::vector<uint8_t> mask(static_cast<size_t>(height * width));
    const unsigned density = rng() % 5;  // 0: empty ... 4: full
    for (auto& value : mask) value = (rng() % 4) < density ? 1 : 0;
    const int64_t words = (height * width + 63) / 64;
    std::vector<uint64_t> bits(static_cast<size_t>(words) + 1, ~uint64_t{0});  // one guard word
    const uint64_t area = rle_to_bits(rle_encode(mask, height, width), bits.data());
    uint64_t expected_area = 0;
    for (int64_t y = 0; y < height; ++y) {
      for (int64_t x = 0; x < width; ++x) {
        const int64_t p = x * height + y;
        const bool bit = (bits[static_cast<size_t>(p / 64)] >> (p % 64)) & 1;
        ASSERT_EQ(bit, mask[static_cast<size_t>(y * width + x)] != 0) << "trial " << trial << " (" << y << ", " << x << ")";
        expected_area += mask[static_cast<size_t>(y * width + x)];
      }
    }
    for (int64_t p = height * width; p < words * 64; ++p)
      ASSERT_EQ((bits[static_cast<size_t>(p / 64)] >> (p % 64)) & 1, 0u) << "trial " << trial << ": tail bit " << p;
    EXPECT_EQ(bits[static_cast<size_t>(words)], ~uint64_t{0}) << "trial " << trial << ": wrote past the last word";
    EXPECT_EQ(area, expected_area) << "trial " << trial;
  }
  Rle short_runs{3, 3, {2, 2}};
  std::vector<uint64_t> one(1);
  EXPECT_THROW(rle_to_bits(short_runs, one.data()), std::invalid_argument);
}

TEST(Rle, EmptyMaskHasZeroBoxAndArea) {
  const Rle rle = rle_empty(5, 7);
  EXPECT_EQ(rle_area(rle), 0u);
  EXPECT_EQ(rle_to_bbox(rle), (std::array<double, 4>{0, 0, 0, 0}));
  EXPECT_EQ(rle_decode(rle), std::vector<uint8_t>(35, 0));
}

TEST(Rle, BadStringsAreNamedErrors) {
  EXPECT_THROW(rle_from_string("12", 3, 3, "annotation 4"), std::invalid_argument);  // wrong sum
  try {
    rle_from_string("0 1", 1, 1, "annotation 4");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("annotation 4"), std::string::npos) << e.what();
  }
}

// A run of 13 five-bit groups cannot fit: a named error before any shift past 64 bits (the
// fuzzer found 18 << 60 on a signed integer, undefined behaviour, in the 13th group); 12
// groups decode to a number far beyond a run length: named too.
TEST(Rle, OverlongRunsAreNamedErrorsWithoutOverflow) {
  auto message = [](const std::string& counts) {
    try {
      rle_from_string(counts, 2, 2, "seg");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  // 'b' = 48 + (0x20 | 0x12): a group with more to follow; 'B' = 48 + 0x12: the last.
  EXPECT_NE(message(std::string(12, 'b') + "B").find("seg: compressed RLE run is too long"), std::string::npos);
  EXPECT_NE(message(std::string(11, 'b') + "B").find("seg: compressed RLE decodes to an invalid run length"),
            std::string::npos)
      << message(std::string(11, 'b') + "B");
}

}  // namespace
}  // namespace wise::data
