// The text of the error a call throws: what the error tests search, since wise's
// errors must name the thing and what was expected vs found (STYLE.md, Errors).
#pragma once

#include <functional>
#include <string>

#include "kernels/check.h"

namespace wise::testing {

// The what() of the `Exception` (wise::Error unless named) that `action` throws, or
// "(no error)" when it returns, so a call that should have failed shows up as such in
// the failed assertion. Any other exception propagates and fails the test.
template <class Exception = Error>
std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Exception& error) {
    return error.what();
  }
  return "(no error)";
}

}  // namespace wise::testing
