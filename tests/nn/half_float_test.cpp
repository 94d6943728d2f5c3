// weights/half_float.h: binary16 <-> float32 on hand-worked values (normals, subnormals,
// ties to even, overflow, NaN), every one of the 65,536 halves widened and narrowed back,
// and, where the compiler has _Float16 (GCC >= 12 on x86-64), against its conversions.
#include "weights/half_float.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace wise {
namespace {

uint32_t bits_of(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

TEST(HalfFloat, HandWorkedValues) {
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(-2.0f), 0xc000);
  EXPECT_EQ(float_to_half(0.1f), 0x2e66);           // 0.0999755859375, the nearest
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);       // the largest finite
  EXPECT_EQ(float_to_half(65519.0f), 0x7bff);       // below the halfway 65520: down
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);       // the tie rounds to even: infinity
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -14)), 0x0400);  // smallest normal
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)), 0x0000);  // its half: a tie, to even 0
  EXPECT_EQ(float_to_half(std::ldexp(1.5f, -25)), 0x0001);  // above the tie
  EXPECT_EQ(float_to_half(std::ldexp(3.0f, -25)), 0x0002);  // 1.5 x 2^-24: tie to even 2
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie between 1 and 1 + 2^-10
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(3.0f, -11)), 0x3c02);  // tie, to the even 1 + 2^-9
  EXPECT_EQ(float_to_half(-0.0f), 0x8000);
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(float_to_half(-std::numeric_limits<float>::infinity()), 0xfc00);
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::quiet_NaN()) & 0x7e00, 0x7e00);
  EXPECT_EQ(half_to_float(0x3555), 0.333251953125f);
  EXPECT_EQ(half_to_float(0x03ff), std::ldexp(1023.0f, -24));  // largest subnormal
  EXPECT_TRUE(std::isnan(half_to_float(0x7e00)));
  EXPECT_EQ(half_to_float(0xfc00), -std::numeric_limits<float>::infinity());
}

TEST(HalfFloat, EveryHalfWidensAndNarrowsBackToItself) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t half = static_cast<uint16_t>(h);
    const float value = half_to_float(half);
    if (std::isnan(value)) {
      EXPECT_EQ(half & 0x7c00, 0x7c00) << std::hex << h;
      continue;
    }
    EXPECT_EQ(float_to_half(value), half) << std::hex << h;
  }
}

#if defined(__FLT16_MANT_DIG__)
TEST(HalfFloat, MatchesTheCompilersFloat16) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t half = static_cast<uint16_t>(h);
    _Float16 reference;
    std::memcpy(&reference, &half, sizeof(half));
    const float expected = static_cast<float>(reference);
    if (std::isnan(expected)) continue;
    EXPECT_EQ(bits_of(half_to_float(half)), bits_of(expected)) << std::hex << h;
  }
  // Random floats: raw bits (every exponent) and values in F16's range.
  std::mt19937 random(2026);
  std::uniform_real_distribution<float> in_range(-70000.0f, 70000.0f);
  std::uniform_int_distribution<int> exponent(-30, 17);
  for (int i = 0; i < 2000000; ++i) {
    float value;
    if (i % 3 == 0) {
      const uint32_t bits = random();
      std::memcpy(&value, &bits, sizeof(value));
      if (std::isnan(value)) continue;
    } else if (i % 3 == 1) {
      value = in_range(random);
    } else {
      value = std::ldexp(in_range(random) / 70000.0f, exponent(random));
    }
    const _Float16 narrowed = static_cast<_Float16>(value);
    uint16_t expected;
    std::memcpy(&expected, &narrowed, sizeof(expected));
    ASSERT_EQ(float_to_half(value), expected) << std::hexfloat << value;
  }
}
#endif

}  // namespace
}  // namespace wise
