// Hashed weights: the counter-based values tests/fixtures/families/resnet.py gives every
// parameter, input and output gradient of its networks, reproduced here so whole-network
// fixtures need not store weights (a ResNet-50 at width 1/8 is 1.6 MB).
//
// key = FNV-1a 32-bit of the tensor's name; element i gets x = murmur3 fmix64((key << 32)
// | i) and u = (x >> 40) / 2^24 in [0, 1); value = low + (high - low) u in double, rounded
// to float32. Parameters by kind: conv weights (rank 4) +-sqrt(3 / fan_in); other
// ".weight"s (norms) [0.5, 1.5); the rest (biases) [-0.2, 0.2); BatchNorm running
// statistics come from a fixture (families/resnet.py calibrates them).
#pragma once

#include <string>

#include "nn/parameter_buffer.h"
#include "nn/tensor.h"
#include "tests/support/fixtures.h"

namespace wise::testing {

// A CPU tensor of hashed values in [low, high).
Tensor hashed(const std::string& name, const Shape& shape, double low, double high);

// Every parameter of `buffer` as families/resnet.py makes it, under its name; running
// statistics from `statistics` as "<statistics_prefix><name>" (e.g. "resnet18.stats.").
void load_hashed_weights(const ParameterBuffer& buffer, const Fixture& statistics,
                         const std::string& statistics_prefix);

}  // namespace wise::testing
