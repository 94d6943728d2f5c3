#include "data/json_text.h"

namespace wise::data {

nlohmann::json parse_json_bounded(const std::string& text, int max_depth) {
  using json = nlohmann::json;
  // The callback sees each value's nesting depth as it starts: stop before building it.
  const json::parser_callback_t bound = [max_depth](int depth, json::parse_event_t event, json&) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth >= max_depth) {
      throw JsonTextError("JSON nested deeper than " + std::to_string(max_depth) + " levels");
    }
    return true;
  };
  try {
    return json::parse(text, bound);
  } catch (const json::exception& error) {
    // parse_error, and out_of_range for a number beyond a double (1E44444; the fuzzer's).
    throw JsonTextError(std::string("malformed JSON: ") + error.what());
  }
}

std::string describe_json(const nlohmann::json& value, std::size_t limit) {
  std::string text = value.dump();
  if (text.size() > limit) text = text.substr(0, limit > 3 ? limit - 3 : 0) + "...";
  return std::string(value.type_name()) + " " + text;
}

}  // namespace wise::data
