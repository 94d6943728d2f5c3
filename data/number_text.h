// Numbers in error messages: the shortest decimal that reads back as the same double
// ("1e+300", "1000000.5", "-0.25", "nan"). std::to_string's fixed six decimals print
// 1e300 as 301 digits and 1e-9 as "0.000000"; %g's six significant digits print
// 1000000.5 as "1e+06", which reads as if it were within a bound of 1e6.
#pragma once

#include <charconv>
#include <string>

namespace wise::data {

inline std::string number_text(double value) {
  char text[32];  // the longest shortest form, "-2.2250738585072014e-308", has 24
  const auto result = std::to_chars(text, text + sizeof(text), value);
  return std::string(text, result.ptr);
}

}  // namespace wise::data
