#include "tests/reference/random_reference.h"

#include <cmath>

namespace wise::reference {

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key) {
  const uint64_t M0 = 0xD2511F53, M1 = 0xCD9E8D57;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {  // the key schedule bumps before every round but the first
      key[0] = static_cast<uint32_t>(key[0] + 0x9E3779B9u);
      key[1] = static_cast<uint32_t>(key[1] + 0xBB67AE85u);
    }
    const uint64_t p0 = M0 * counter[0];
    const uint64_t p1 = M1 * counter[2];
    counter = {static_cast<uint32_t>(p1 >> 32) ^ counter[1] ^ key[0], static_cast<uint32_t>(p1),
               static_cast<uint32_t>(p0 >> 32) ^ counter[3] ^ key[1], static_cast<uint32_t>(p0)};
  }
  return counter;
}

std::array<uint32_t, 4> philox_words(uint64_t seed, uint64_t index) {
  return philox4x32_10({static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32), 0, 0},
                       {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)});
}

double uniform(uint64_t seed, uint64_t index, double low, double high) {
  const double u = static_cast<double>(philox_words(seed, index)[0] >> 8) / 16777216.0;
  return low + (high - low) * u;
}

static double uniform53(uint32_t a, uint32_t b) {
  const uint64_t bits = ((uint64_t{a} << 21) ^ (b >> 11)) % (uint64_t{1} << 53);
  return std::ldexp(static_cast<double>(bits), -53);
}

double normal(uint64_t seed, uint64_t index, double mean, double std) {
  const auto w = philox_words(seed, index);
  const double u1 = 1.0 - uniform53(w[0], w[1]);
  const double u2 = uniform53(w[2], w[3]);
  const double pi = 3.14159265358979323846;
  return mean + std * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * pi * u2);
}

}  // namespace wise::reference
