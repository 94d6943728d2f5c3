// JSON text in and out of error messages, safely for any input (issue 22): every reader of
// the project parses through parse_json_bounded and quotes values through describe_json.
//
// Why a depth bound: nlohmann's parser is iterative, but dumping, comparing and (before
// 3.11) destroying a value recurse once per nesting level, so a valid `[[[...]]]` 100,000
// deep overflows the stack far from the parse. No format wise reads nests deeper than ~6
// levels; kMaxJsonDepth leaves room and still fails fast with a message naming the byte.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace wise::data {

constexpr int kMaxJsonDepth = 128;

// Malformed text or nesting deeper than max_depth: what() says which and where (byte
// offset), without the caller's file name (the caller adds it).
class JsonTextError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

nlohmann::json parse_json_bounded(const std::string& text, int max_depth = kMaxJsonDepth);

// "string \"abc\"", "number 1.5", "array [[1, 2], ...": the type and a prefix of the
// compact text, at most `limit` characters of it, for error messages.
std::string describe_json(const nlohmann::json& value, std::size_t limit = 48);

}  // namespace wise::data
