// libFuzzer target: a shapes dataset configuration (data/shapes/configs/*.json).
//
// Contract under test: parse_shapes_config returns a configuration or throws
// std::invalid_argument naming the source; anything else is a bug. An accepted
// configuration written by shapes_config_to_json reads back equal.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "data/shapes/shapes_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  wise::data::ShapesConfig config;
  try {
    config = wise::data::parse_shapes_config(text, "fuzz input");
  } catch (const std::invalid_argument&) {
    return 0;
  }
  const std::string again = wise::data::shapes_config_to_json(config);
  if (wise::data::parse_shapes_config(again, "fuzz round trip") != config) {
    std::fprintf(stderr, "round trip changed the configuration:\n%s\n", again.c_str());
    std::abort();
  }
  return 0;
}
