#include "tests/support/compare.h"

#include <cmath>
#include <cstring>
#include <sstream>

namespace wise::testing {

::testing::AssertionResult all_close(const std::vector<float>& actual,
                                     const std::vector<double>& expected, Tolerance tolerance) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure() << "size " << actual.size() << " != expected size "
                                         << expected.size();
  }
  std::ostringstream failures;
  int failed = 0;
  double worst_error = 0.0;
  size_t worst_index = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i];
    const double e = expected[i];
    bool ok;
    if (std::isnan(e) || std::isnan(a)) {
      ok = std::isnan(e) && std::isnan(a);
    } else if (std::isinf(e) || std::isinf(a)) {
      ok = a == e;
    } else {
      const double error = std::fabs(a - e);
      ok = error <= tolerance.atol + tolerance.rtol * std::fabs(e);
      if (error > worst_error) {
        worst_error = error;
        worst_index = i;
      }
    }
    if (!ok && failed++ < 5) failures << "\n  [" << i << "] got " << a << ", expected " << e;
  }
  if (failed == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << failed << " of " << actual.size() << " elements differ (rtol " << tolerance.rtol
         << ", atol " << tolerance.atol << "); worst |error| " << worst_error << " at ["
         << worst_index << "]" << failures.str();
}

::testing::AssertionResult bitwise_equal(const std::vector<float>& actual,
                                         const std::vector<float>& expected) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure() << "size " << actual.size() << " != " << expected.size();
  }
  for (size_t i = 0; i < actual.size(); ++i) {
    if (std::memcmp(&actual[i], &expected[i], sizeof(float)) != 0) {
      return ::testing::AssertionFailure() << "first difference at [" << i << "]: " << actual[i]
                                           << " vs " << expected[i];
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace wise::testing
