// Philox4x32-10: a counter-based random number generator, and the uniform and
// normal distributions wise draws from it.
//
// Salmon et al., "Parallel Random Numbers: As Easy as 1, 2, 3" (SC 2011). A
// counter-based generator is a pure function random(key, counter): element i of
// a fill uses counter = offset + i, so each element's value depends only on
// (seed, offset, i), never on which thread or device computed it. That is what
// makes initialisation and dropout-style noise identical on the CPU at any
// thread count and on the GPU.
//
// Bitwise identity across devices also needs the distributions to avoid libm:
// CUDA's and glibc's log/cos differ in the last bit. So normal samples use
// Box-Muller with our own log and cos below, written with only IEEE-exact
// operations (+, *, /, sqrt, and explicit fma, never an a*b+c the compiler may or
// may not fuse), in double, then rounded to float.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/host_device.h"

namespace wise::kernels {

struct PhiloxBlock {
  uint32_t x[4];
};

WISE_HD inline void philox_mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  const uint64_t product = static_cast<uint64_t>(a) * b;
  hi = static_cast<uint32_t>(product >> 32);
  lo = static_cast<uint32_t>(product);
}

// Ten rounds of Philox4x32 on a 128-bit counter with a 64-bit key (Random123's
// constants). Reproduces Random123's known-answer vectors (tests/kernels).
WISE_HD inline PhiloxBlock philox4x32_10(PhiloxBlock counter, uint32_t key0, uint32_t key1) {
  constexpr uint32_t kMultiplier0 = 0xD2511F53u, kMultiplier1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(kMultiplier0, counter.x[0], hi0, lo0);
    philox_mulhilo(kMultiplier1, counter.x[2], hi1, lo1);
    counter = PhiloxBlock{{hi1 ^ counter.x[1] ^ key0, lo1, hi0 ^ counter.x[3] ^ key1, lo0}};
    key0 += kWeyl0;
    key1 += kWeyl1;
  }
  return counter;
}

// The four random words of stream position `index` for `seed`.
WISE_HD inline PhiloxBlock philox_random(uint64_t seed, uint64_t index) {
  const PhiloxBlock counter{{static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32), 0u, 0u}};
  return philox4x32_10(counter, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// A float uniform in [0, 1): the top 24 bits of a word, exactly representable.
WISE_HD inline float uniform_from_bits(uint32_t bits) {
  return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f);
}

// A double uniform in [0, 1) from two words (53 random bits).
WISE_HD inline double uniform53_from_bits(uint32_t high, uint32_t low) {
  const uint64_t bits = (static_cast<uint64_t>(high) << 21) ^ (low >> 11);
  return static_cast<double>(bits & ((uint64_t{1} << 53) - 1)) * (1.0 / 9007199254740992.0);
}

// Natural log of u in (0, 1], exact-operation only: u = m * 2^e with m in
// [sqrt(1/2), sqrt(2)), log m = 2 atanh(s) with s = (m - 1) / (m + 1), |s| < 0.172,
// whose odd series converges to double precision in 12 terms.
WISE_HD inline double portable_log_unit(double u) {
  int exponent = 0;
  double m = frexp(u, &exponent);  // m in [0.5, 1): exact on both targets
  if (m < 0.70710678118654752) {
    m = m * 2.0;
    exponent -= 1;
  }
  const double s = (m - 1.0) / (m + 1.0);
  const double z = s * s;
  double series = 0.043478260869565216;  // 1/23
  series = fma(series, z, 0.047619047619047616);
  series = fma(series, z, 0.05263157894736842);
  series = fma(series, z, 0.058823529411764705);
  series = fma(series, z, 0.06666666666666667);
  series = fma(series, z, 0.07692307692307693);
  series = fma(series, z, 0.09090909090909091);
  series = fma(series, z, 0.1111111111111111);
  series = fma(series, z, 0.14285714285714285);
  series = fma(series, z, 0.2);
  series = fma(series, z, 0.3333333333333333);
  series = fma(series, z, 1.0);
  const double two_s = 2.0 * s;
  return fma(static_cast<double>(exponent), 0.6931471805599453, two_s * series);
}

// cos(2 pi u) for u in [0, 1), exact-operation only: t = 4u = k + r with k the
// nearest integer and |r| <= 1/2, so 2 pi u = k pi/2 + theta with |theta| <= pi/4,
// where Taylor series of sin and cos converge to double precision in 10 terms.
WISE_HD inline double portable_cos_two_pi(double u) {
  const double t = 4.0 * u;
  const double k = floor(t + 0.5);
  const double theta = (t - k) * 1.5707963267948966;
  const double z = theta * theta;
  double cos_theta = -1.5619206968586225e-16;
  cos_theta = fma(cos_theta, z, 4.779477332387385e-14);
  cos_theta = fma(cos_theta, z, -1.1470745597729725e-11);
  cos_theta = fma(cos_theta, z, 2.08767569878681e-09);
  cos_theta = fma(cos_theta, z, -2.755731922398589e-07);
  cos_theta = fma(cos_theta, z, 2.48015873015873e-05);
  cos_theta = fma(cos_theta, z, -0.001388888888888889);
  cos_theta = fma(cos_theta, z, 0.041666666666666664);
  cos_theta = fma(cos_theta, z, -0.5);
  cos_theta = fma(cos_theta, z, 1.0);
  double sin_theta = -8.22063524662433e-18;
  sin_theta = fma(sin_theta, z, 2.8114572543455206e-15);
  sin_theta = fma(sin_theta, z, -7.647163731819816e-13);
  sin_theta = fma(sin_theta, z, 1.6059043836821613e-10);
  sin_theta = fma(sin_theta, z, -2.505210838544172e-08);
  sin_theta = fma(sin_theta, z, 2.7557319223985893e-06);
  sin_theta = fma(sin_theta, z, -0.0001984126984126984);
  sin_theta = fma(sin_theta, z, 0.008333333333333333);
  sin_theta = fma(sin_theta, z, -0.16666666666666666);
  sin_theta = fma(sin_theta, z, 1.0);
  sin_theta = sin_theta * theta;
  switch (static_cast<int>(k) & 3) {  // cos(k pi/2 + theta)
    case 0: return cos_theta;
    case 1: return -sin_theta;
    case 2: return -cos_theta;
    default: return sin_theta;
  }
}

// A standard normal sample for stream position `index` (Box-Muller, cosine branch).
WISE_HD inline double philox_normal(uint64_t seed, uint64_t index) {
  const PhiloxBlock bits = philox_random(seed, index);
  const double u1 = 1.0 - uniform53_from_bits(bits.x[0], bits.x[1]);  // (0, 1]: log is finite
  const double u2 = uniform53_from_bits(bits.x[2], bits.x[3]);
  return sqrt(-2.0 * portable_log_unit(u1)) * portable_cos_two_pi(u2);
}

}  // namespace wise::kernels
