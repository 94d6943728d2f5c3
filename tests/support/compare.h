// Comparing a computed buffer with a reference.
//
// Checks non-finite values first (a NaN where the reference is finite fails
// with its index, whatever the tolerance), then |actual - expected| <=
// atol + rtol * |expected| element by element, and reports the worst element
// and the first few failures.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wise::testing {

struct Tolerance {
  double rtol = 1e-5;
  double atol = 1e-6;
};

inline constexpr Tolerance kExact{0.0, 0.0};

::testing::AssertionResult all_close(const std::vector<float>& actual,
                                     const std::vector<double>& expected, Tolerance tolerance);

// Bitwise equality of two float buffers (NaNs equal when their bits are).
::testing::AssertionResult bitwise_equal(const std::vector<float>& actual,
                                         const std::vector<float>& expected);

}  // namespace wise::testing
