#include "kernels/check.h"

namespace wise {

void throw_check_failure(const char* condition, const char* file, int line,
                         const std::string& message) {
  throw Error(concat(message.empty() ? std::string("check failed") : message, " [", condition,
                     " at ", file, ":", line, "]"));
}

}  // namespace wise
