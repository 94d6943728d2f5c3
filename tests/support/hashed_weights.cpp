#include "tests/support/hashed_weights.h"

#include <cmath>
#include <cstdint>
#include <vector>

namespace wise::testing {

namespace {

uint32_t fnv1a32(const std::string& name) {
  uint32_t value = 0x811C9DC5u;
  for (unsigned char byte : name) value = (value ^ byte) * 0x01000193u;
  return value;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Tensor hashed(const std::string& name, const Shape& shape, double low, double high) {
  std::vector<float> values(static_cast<size_t>(shape.numel()));
  const uint64_t key = static_cast<uint64_t>(fnv1a32(name)) << 32;
  for (size_t i = 0; i < values.size(); ++i) {
    uint64_t x = key | i;
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ull;
    x ^= x >> 33;
    const double u = static_cast<double>(x >> 40) / static_cast<double>(1u << 24);
    values[i] = static_cast<float>(low + (high - low) * u);
  }
  return Tensor::from_vector(shape, values);
}

void load_hashed_weights(const ParameterBuffer& buffer, const Fixture& statistics,
                         const std::string& statistics_prefix) {
  for (auto [name, value] : buffer.named_values()) {
    const Shape& shape = value.shape();
    Tensor host;
    if (name.find("running_") != std::string::npos) {
      host = statistics.tensor(statistics_prefix + name);
    } else if (shape.rank() == 4) {
      const double bound = std::sqrt(3.0 / static_cast<double>(shape[1] * shape[2] * shape[3]));
      host = hashed(name, shape, -bound, bound);
    } else if (ends_with(name, ".weight")) {
      host = hashed(name, shape, 0.5, 1.5);
    } else {
      host = hashed(name, shape, -0.2, 0.2);
    }
    value.copy_from(host.to(value.device()));
  }
}

}  // namespace wise::testing
