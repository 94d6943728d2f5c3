// Reference Philox4x32-10 and distributions, written from the Random123 paper
// (Salmon et al., SC 2011) independently of kernels/philox.h, with libm's
// log/cos in double for Box-Muller.
#pragma once

#include <array>
#include <cstdint>

namespace wise::reference {

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);

// The words wise assigns to stream position `index` of `seed`: counter =
// (index low, index high, 0, 0), key = (seed low, seed high).
std::array<uint32_t, 4> philox_words(uint64_t seed, uint64_t index);

// U[low, high) as wise's fill_uniform defines it: low + (high - low) * (w0 >> 8) / 2^24.
double uniform(uint64_t seed, uint64_t index, double low, double high);

// N(mean, std^2) by Box-Muller: u1 = 1 - U53(w0, w1), u2 = U53(w2, w3),
// z = sqrt(-2 ln u1) cos(2 pi u2), with U53(a, b) = ((a << 21) ^ (b >> 11)) mod 2^53 / 2^53.
double normal(uint64_t seed, uint64_t index, double mean, double std);

}  // namespace wise::reference
