// The command-line reading every wise app shares: "--flag value" pairs and bare
// switches, values parsed with errors that name the flag and what was expected.
//
//   CommandLine args(argc, argv);
//   while (args.next()) {
//     if (args.is("--out")) options.out = args.value();
//     else if (args.is("--count")) options.count = args.integer(0);
//     else if (args.is("--voc")) options.voc = true;
//     else args.unknown();
//   }
#pragma once

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "kernels/device.h"

namespace wise::apps {

class CommandLine {
 public:
  CommandLine(int argc, char** argv) : argc_(argc), argv_(argv) {}

  // Moves to the next flag; false when there is none left.
  bool next() {
    if (++index_ >= argc_) return false;
    flag_ = argv_[index_];
    return true;
  }
  const std::string& flag() const { return flag_; }
  bool is(const char* name) const { return flag_ == name; }

  // The flag's value: the next argument.
  std::string value() {
    if (index_ + 1 >= argc_) throw std::invalid_argument(flag_ + ": missing value");
    return argv_[++index_];
  }
  // The value as a number / as an integer >= minimum.
  double number() {
    const std::string text = value();
    char* end = nullptr;
    const double parsed = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0')
      throw std::invalid_argument(flag_ + ": expected a number, found \"" + text + "\"");
    return parsed;
  }
  int64_t integer(int64_t minimum) {
    const std::string text = value();
    char* end = nullptr;
    const long long parsed = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || parsed < minimum)
      throw std::invalid_argument(flag_ + ": expected an integer >= " + std::to_string(minimum) + ", found \"" +
                                  text + "\"");
    return parsed;
  }

  [[noreturn]] void unknown() const {
    throw std::invalid_argument("unknown option \"" + flag_ + "\" (--help lists them)");
  }

 private:
  int argc_;
  char** argv_;
  int index_ = 0;
  std::string flag_;
};

// "cpu" or "cuda", for --device.
inline kernels::Device parse_device(const std::string& text) {
  if (text == "cpu") return kernels::Device::cpu;
  if (text == "cuda") return kernels::Device::cuda;
  throw std::invalid_argument("--device: expected cpu or cuda, found \"" + text + "\"");
}

}  // namespace wise::apps
