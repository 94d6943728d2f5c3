// IEEE 754 binary16 ("half", safetensors' F16) to and from float32, for weight files
// stored at half the size (a shipped backbone: weights/README.md) and read back as
// float32. wise computes in float32 only; F16 exists in files, never in tensors.
//
//   binary16: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. Largest finite
//   65504; smallest normal 2^-14; subnormals down to 2^-24.
// float_to_half rounds to nearest, ties to even (as numpy's and torch's .half() do);
// values beyond 65504 after rounding become infinity, NaN stays NaN (quiet). half_to_float
// is exact: every binary16 value is a float32 value.
#pragma once

#include <cstdint>
#include <cstring>

namespace wise {

inline float half_to_float(uint16_t half) {
  const uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
  const uint32_t exponent = (half >> 10) & 0x1Fu;
  uint32_t fraction = half & 0x3FFu;
  uint32_t bits;
  if (exponent == 0x1Fu) {
    bits = sign | 0x7F800000u | (fraction << 13);  // infinity or NaN (payload kept)
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112u) << 23) | (fraction << 13);  // normal: rebias 15 -> 127
  } else if (fraction == 0) {
    bits = sign;  // signed zero
  } else {
    // Subnormal: value = fraction x 2^-24. Shift the fraction up to a leading 1.
    uint32_t shift = 0;
    while ((fraction & 0x400u) == 0) {
      fraction <<= 1;
      ++shift;
    }
    bits = sign | ((113u - shift) << 23) | ((fraction & 0x3FFu) << 13);
  }
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

inline uint16_t float_to_half(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t magnitude = bits & 0x7FFFFFFFu;
  if (magnitude > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u);  // NaN: quiet
  if (magnitude >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // rounds past 65504
  if (magnitude >= 0x38800000u) {
    // Normal in binary16 (>= 2^-14): drop 13 fraction bits, rounding to nearest even. A
    // carry out of the fraction correctly bumps the exponent.
    const uint32_t rebiased = magnitude - (112u << 23);
    const uint32_t round = 0xFFFu + ((rebiased >> 13) & 1u);
    return static_cast<uint16_t>(sign | ((rebiased + round) >> 13));
  }
  if (magnitude < 0x33000000u) return sign;  // below half of 2^-24: rounds to zero
  // Subnormal in binary16: the value's 24-bit significand shifted to units of 2^-24.
  const uint32_t exponent = magnitude >> 23;                 // 102 .. 112
  const uint32_t significand = (magnitude & 0x7FFFFFu) | 0x800000u;
  const uint32_t shift = 126u - exponent;                    // 14 .. 24
  const uint32_t kept = significand >> shift;
  const uint32_t rest = significand & ((1u << shift) - 1u), halfway = 1u << (shift - 1);
  const uint32_t rounded = kept + ((rest > halfway || (rest == halfway && (kept & 1u))) ? 1u : 0u);
  return static_cast<uint16_t>(sign | rounded);  // 0x400 after a carry: the smallest normal
}

}  // namespace wise
