// Reproducible random test data.
//
// Each case derives its seed from its own name (never from the clock or
// std::random_device), so a failure replays exactly; tests print the seed with
// SCOPED_TRACE. Test data comes from std::mt19937_64, a generator independent of
// the Philox generator under test.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace wise::testing {

// FNV-1a hash of the name.
inline uint64_t seed_from_name(const std::string& name) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : name) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

inline std::vector<float> random_floats(int64_t n, uint64_t seed, float low = -1.0f,
                                        float high = 1.0f) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<float> distribution(low, high);
  std::vector<float> values(static_cast<size_t>(n));
  for (float& value : values) value = distribution(engine);
  return values;
}

}  // namespace wise::testing
