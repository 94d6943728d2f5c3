// Errors and internal checks.
//
// User-facing problems (bad files, shapes, options) and broken internal
// invariants both surface as wise::Error, whose message names the thing and what
// was expected vs found. WISE_CHECK adds the file and line, so an invariant that
// fails deep in a kernel launcher still points at its source:
//
//   WISE_CHECK(rois.dim(1) == 5, "rois must have shape [K, 5], got ", rois.shape());
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace wise {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Concatenates any streamable values into one string.
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

[[noreturn]] void throw_check_failure(const char* condition, const char* file, int line,
                                      const std::string& message);

}  // namespace wise

#define WISE_CHECK(condition, ...)                                                        \
  do {                                                                                    \
    if (!(condition)) {                                                                   \
      ::wise::throw_check_failure(#condition, __FILE__, __LINE__, ::wise::concat(__VA_ARGS__)); \
    }                                                                                     \
  } while (0)
