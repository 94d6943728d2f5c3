// Safetensors header parsing and serialization; see safetensors_format.h for the format.
#include "weights/safetensors_format.h"

#include <algorithm>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

namespace wise {
namespace {

using nlohmann::json;

struct DTypeInfo {
  SafetensorsDType dtype;
  const char* name;
  uint64_t size;
};

// Indexed by the enum's value; the order is checked by dtype_info().
constexpr DTypeInfo kDTypes[] = {
    {SafetensorsDType::BOOL, "BOOL", 1},       {SafetensorsDType::U8, "U8", 1},
    {SafetensorsDType::I8, "I8", 1},           {SafetensorsDType::F8_E5M2, "F8_E5M2", 1},
    {SafetensorsDType::F8_E4M3, "F8_E4M3", 1}, {SafetensorsDType::I16, "I16", 2},
    {SafetensorsDType::U16, "U16", 2},         {SafetensorsDType::F16, "F16", 2},
    {SafetensorsDType::BF16, "BF16", 2},       {SafetensorsDType::I32, "I32", 4},
    {SafetensorsDType::U32, "U32", 4},         {SafetensorsDType::F32, "F32", 4},
    {SafetensorsDType::I64, "I64", 8},         {SafetensorsDType::U64, "U64", 8},
    {SafetensorsDType::F64, "F64", 8},
};

const DTypeInfo& dtype_info(SafetensorsDType dtype) {
  const auto index = static_cast<size_t>(dtype);
  if (index >= std::size(kDTypes) || kDTypes[index].dtype != dtype) {
    throw std::logic_error("safetensors_format.cpp: kDTypes is out of order with SafetensorsDType");
  }
  return kDTypes[index];
}

// Names from the file go into messages quoted and escaped, so a name holding quotes or
// newlines cannot make a message ambiguous.
std::string quoted(const std::string& text) { return json(text).dump(); }

// Parser messages echo the offending bytes; escape the non-printable ones so a binary file
// cannot put raw bytes into a log line.
std::string printable(const std::string& text) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += std::string("\\x") + kHex[c >> 4] + kHex[c & 15];
    }
  }
  return out;
}

std::string range_string(uint64_t begin, uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

[[noreturn]] void fail(SafetensorsErrorKind kind, const std::string& source, const std::string& detail) {
  throw SafetensorsError(kind, source + ": " + detail);
}

[[noreturn]] void fail_tensor(SafetensorsErrorKind kind, const std::string& source,
                              const std::string& tensor, const std::string& detail) {
  fail(kind, source, "tensor " + quoted(tensor) + ": " + detail);
}

// JSON integers come back as number_unsigned (>= 0) or number_integer (< 0, or "-0").
std::optional<uint64_t> as_non_negative_integer(const json& value) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer() && value.get<int64_t>() >= 0) return value.get<uint64_t>();
  return std::nullopt;
}

// nlohmann keeps the last of two equal keys; the reference parser's maps do the same
// silently, but two entries for one tensor name are never intended, so reject them.
json parse_json_rejecting_duplicates(const char* begin, const char* end, const std::string& source) {
  std::vector<std::set<std::string>> keys_per_open_object;
  auto on_event = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      keys_per_open_object.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      keys_per_open_object.pop_back();
    } else if (event == json::parse_event_t::key) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (!keys_per_open_object.back().insert(key).second) {
        fail(SafetensorsErrorKind::invalid_json, source, "header JSON repeats the key " + quoted(key));
      }
    }
    return true;
  };
  try {
    return json::parse(begin, end, on_event);
  } catch (const json::exception& error) {  // parse_error, or out_of_range for a number like 1e999
    fail(SafetensorsErrorKind::invalid_json, source,
         "header is not valid JSON (line and column count from the JSON start, byte 8 of the file): " +
             printable(error.what()));
  }
}

const json& require_field(const json& entry, const char* field, const char* expected,
                          const std::string& tensor, const std::string& source) {
  const auto it = entry.find(field);
  if (it == entry.end()) {
    fail_tensor(SafetensorsErrorKind::bad_field, source, tensor,
                std::string("missing field \"") + field + "\" (expected " + expected + ")");
  }
  return *it;
}

SafetensorsEntry parse_entry(const std::string& name, const json& value, const std::string& source) {
  using Kind = SafetensorsErrorKind;
  if (!value.is_object()) {
    fail_tensor(Kind::bad_field, source, name,
                std::string("entry must be an object {dtype, shape, data_offsets}, found ") + value.type_name());
  }
  SafetensorsEntry entry;
  entry.name = name;

  const json& dtype = require_field(value, "dtype", "a string such as \"F32\"", name, source);
  if (!dtype.is_string()) {
    fail_tensor(Kind::bad_field, source, name,
                std::string("field \"dtype\" must be a string such as \"F32\", found ") + dtype.type_name());
  }
  const auto parsed_dtype = safetensors_dtype_from_name(dtype.get<std::string>());
  if (!parsed_dtype) {
    fail_tensor(Kind::unknown_dtype, source, name,
                "unknown dtype " + dtype.dump() + " (expected one of " + safetensors_dtype_names() + ")");
  }
  entry.dtype = *parsed_dtype;

  const json& shape = require_field(value, "shape", "an array of non-negative integers", name, source);
  if (!shape.is_array()) {
    fail_tensor(Kind::bad_field, source, name,
                std::string("field \"shape\" must be an array of non-negative integers, found ") + shape.type_name());
  }
  for (size_t i = 0; i < shape.size(); ++i) {
    const auto dim = as_non_negative_integer(shape[i]);
    if (!dim || *dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail_tensor(Kind::bad_shape, source, name,
                  "shape " + shape.dump() + ": dim " + std::to_string(i) + " is " + shape[i].dump() +
                      ", expected a non-negative integer");
    }
    entry.shape.push_back(static_cast<int64_t>(*dim));
  }

  const json& offsets = require_field(value, "data_offsets", "[begin, end]", name, source);
  const auto begin = offsets.is_array() && offsets.size() == 2 ? as_non_negative_integer(offsets[0]) : std::nullopt;
  const auto end = offsets.is_array() && offsets.size() == 2 ? as_non_negative_integer(offsets[1]) : std::nullopt;
  if (!begin || !end) {
    fail_tensor(Kind::bad_field, source, name,
                "field \"data_offsets\" must be [begin, end] with non-negative integers, found " + offsets.dump());
  }
  entry.begin = *begin;
  entry.end = *end;
  if (entry.end < entry.begin) {
    fail_tensor(Kind::reversed_offsets, source, name,
                "data_offsets [" + std::to_string(entry.begin) + ", " + std::to_string(entry.end) +
                    "] end before they begin");
  }

  const auto needed = safetensors_byte_size(entry.dtype, entry.shape);
  if (!needed || *needed != entry.byte_size()) {
    fail_tensor(Kind::size_mismatch, source, name,
                "data_offsets " + range_string(entry.begin, entry.end) + " hold " +
                    std::to_string(entry.byte_size()) + " bytes, but shape " +
                    safetensors_shape_string(entry.shape) + " of " + safetensors_dtype_name(entry.dtype) +
                    " needs " + (needed ? std::to_string(*needed) : std::string("more than 2^64")));
  }
  return entry;
}

std::map<std::string, std::string> parse_metadata(const json& value, const std::string& source) {
  std::map<std::string, std::string> metadata;
  if (value.is_null()) return metadata;  // the reference reads "__metadata__" as Option<map>
  if (!value.is_object()) {
    fail(SafetensorsErrorKind::bad_metadata, source,
         std::string("\"__metadata__\" must be an object of string -> string, found ") + value.type_name());
  }
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) {
      fail(SafetensorsErrorKind::bad_metadata, source,
           "\"__metadata__\" must map strings to strings, but key " + quoted(key) + " holds a " +
               item.type_name() + " (" + item.dump() + "); write it as a string");
    }
    metadata[key] = item.get<std::string>();
  }
  return metadata;
}

// Checks that the (sorted) entries tile [0, data_size) exactly. A self-consistent layout
// that runs past the file is a truncated file (a cut-off download); an entry past the end
// of an otherwise broken layout is a bad offset; then overlaps, gaps and trailing bytes.
void check_layout(const std::vector<SafetensorsEntry>& entries, uint64_t data_size, const std::string& source) {
  using Kind = SafetensorsErrorKind;
  uint64_t contiguous_end = 0;
  bool contiguous = true;
  for (const auto& entry : entries) {
    if (entry.begin != contiguous_end) contiguous = false;
    contiguous_end = entry.end;
  }
  if (contiguous && contiguous_end > data_size) {
    const auto cut = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.end > data_size; });
    fail(Kind::truncated, source,
         "file is truncated: the header describes a data block of " + std::to_string(contiguous_end) +
             " bytes, but the file holds " + std::to_string(data_size) + " after the header (tensor " +
             quoted(cut->name) + " at " + range_string(cut->begin, cut->end) +
             " is cut off; re-download or re-export the file)");
  }
  for (const auto& entry : entries) {
    if (entry.end > data_size) {
      fail_tensor(Kind::offsets_out_of_range, source, entry.name,
                  "data_offsets " + range_string(entry.begin, entry.end) + " reach past the end of the " +
                      std::to_string(data_size) + "-byte data block");
    }
  }
  uint64_t covered = 0;                      // bytes [0, covered) belong to some entry
  const SafetensorsEntry* owner = nullptr;   // the entry that ends at `covered`
  for (const auto& entry : entries) {
    if (entry.begin < covered) {
      fail_tensor(Kind::overlapping, source, entry.name,
                  "data_offsets " + range_string(entry.begin, entry.end) + " overlap tensor " +
                      quoted(owner->name) + " at " + range_string(owner->begin, owner->end));
    }
    if (entry.begin > covered) {
      fail(Kind::not_covering, source,
           "bytes " + range_string(covered, entry.begin) + " of the data block belong to no tensor (" +
               (owner ? "between tensor " + quoted(owner->name) + " and " : std::string("before ")) +
               "tensor " + quoted(entry.name) + ")");
    }
    if (entry.end > covered) {
      covered = entry.end;
      owner = &entry;
    }
  }
  if (covered < data_size) {
    fail(Kind::not_covering, source,
         std::to_string(data_size - covered) + " trailing bytes " + range_string(covered, data_size) +
             " of the data block belong to no tensor (" +
             (owner ? "the last tensor " + quoted(owner->name) + " ends at " + std::to_string(covered)
                    : std::string("the header lists no tensors")) + ")");
  }
}

// The formats a safetensors path most often holds by mistake, told by their first
// bytes; nullptr when none is recognised. torch.save writes a zip archive (local file
// header "PK\3\4") since PyTorch 1.6, and a pickle before that (protocol opcode
// 0x80, then the protocol number 2..5).
const char* foreign_format(const uint8_t* bytes, uint64_t size) {
  if (size >= 4 && bytes[0] == 'P' && bytes[1] == 'K' && bytes[2] == 3 && bytes[3] == 4) {
    return "a zip archive (what torch.save writes: a .pth or .pt checkpoint)";
  }
  if (size >= 2 && bytes[0] == 0x80 && bytes[1] >= 2 && bytes[1] <= 5) {
    return "a Python pickle (an old-style torch.save .pth file)";
  }
  return nullptr;
}

}  // namespace

SafetensorsError::SafetensorsError(SafetensorsErrorKind kind, const std::string& message)
    : std::runtime_error(message), kind_(kind) {}

const char* safetensors_dtype_name(SafetensorsDType dtype) { return dtype_info(dtype).name; }

std::optional<SafetensorsDType> safetensors_dtype_from_name(const std::string& name) {
  for (const auto& info : kDTypes) {
    if (name == info.name) return info.dtype;
  }
  return std::nullopt;
}

uint64_t safetensors_dtype_size(SafetensorsDType dtype) { return dtype_info(dtype).size; }

std::string safetensors_dtype_names() {
  std::string names;
  for (const auto& info : kDTypes) names += (names.empty() ? "" : ", ") + std::string(info.name);
  return names;
}

std::optional<uint64_t> safetensors_byte_size(SafetensorsDType dtype, const std::vector<int64_t>& shape) {
  // A zero dim makes the product 0 whatever the other dims are, so check it before any
  // overflow: [0, 2^62, 2^62] is a valid empty tensor.
  for (const int64_t dim : shape) {
    if (dim < 0) return std::nullopt;
    if (dim == 0) return 0;
  }
  uint64_t bytes = safetensors_dtype_size(dtype);
  for (const int64_t dim : shape) {
    if (bytes > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(dim)) return std::nullopt;
    bytes *= static_cast<uint64_t>(dim);
  }
  return bytes;
}

std::string safetensors_shape_string(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

const char* safetensors_error_kind_name(SafetensorsErrorKind kind) {
  switch (kind) {
    case SafetensorsErrorKind::header_too_large: return "header_too_large";
    case SafetensorsErrorKind::not_safetensors: return "not_safetensors";
    case SafetensorsErrorKind::truncated: return "truncated";
    case SafetensorsErrorKind::invalid_json: return "invalid_json";
    case SafetensorsErrorKind::bad_field: return "bad_field";
    case SafetensorsErrorKind::unknown_dtype: return "unknown_dtype";
    case SafetensorsErrorKind::bad_shape: return "bad_shape";
    case SafetensorsErrorKind::reversed_offsets: return "reversed_offsets";
    case SafetensorsErrorKind::offsets_out_of_range: return "offsets_out_of_range";
    case SafetensorsErrorKind::size_mismatch: return "size_mismatch";
    case SafetensorsErrorKind::overlapping: return "overlapping";
    case SafetensorsErrorKind::not_covering: return "not_covering";
    case SafetensorsErrorKind::bad_metadata: return "bad_metadata";
    case SafetensorsErrorKind::missing_tensor: return "missing_tensor";
    case SafetensorsErrorKind::file_not_found: return "file_not_found";
    case SafetensorsErrorKind::io_error: return "io_error";
    case SafetensorsErrorKind::invalid_argument: return "invalid_argument";
    case SafetensorsErrorKind::unexpected_tensor: return "unexpected_tensor";
    case SafetensorsErrorKind::shape_mismatch: return "shape_mismatch";
    case SafetensorsErrorKind::dtype_mismatch: return "dtype_mismatch";
  }
  return "unknown";
}

const SafetensorsEntry* SafetensorsHeader::find(const std::string& name) const {
  for (const auto& entry : entries) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

const SafetensorsEntry& SafetensorsHeader::at(const std::string& name) const {
  if (const auto* entry = find(name)) return *entry;
  fail_tensor(SafetensorsErrorKind::missing_tensor, source_name, name,
              "not in the file (it holds " + std::to_string(entries.size()) + " tensors)");
}

uint64_t parse_safetensors_header_size(const uint8_t* bytes, uint64_t file_size, const std::string& source_name) {
  if (file_size < 8) {
    fail(SafetensorsErrorKind::truncated, source_name,
         "file is " + std::to_string(file_size) +
             " bytes, too short for the 8-byte header size field of a safetensors file");
  }
  uint64_t header_size = 0;  // decoded byte by byte: correct on any host byte order
  for (int i = 0; i < 8; ++i) header_size |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  // Only an impossible size field is blamed on another format, so no valid file can
  // ever be refused for its first bytes.
  const bool impossible = header_size > kSafetensorsMaxHeaderBytes || header_size > file_size - 8;
  if (const char* format = impossible ? foreign_format(bytes, 8) : nullptr) {
    fail(SafetensorsErrorKind::not_safetensors, source_name,
         std::string("not a safetensors file but ") + format +
             "; convert it once with any python3 that has torch: "
             "/usr/bin/python3 scripts/convert_torchvision_weights.py IN.pth OUT.safetensors");
  }
  if (header_size > kSafetensorsMaxHeaderBytes) {
    fail(SafetensorsErrorKind::header_too_large, source_name,
         "header size field says " + std::to_string(header_size) + " bytes, more than the limit of " +
             std::to_string(kSafetensorsMaxHeaderBytes) + " (not a safetensors file, or a corrupt one)");
  }
  if (header_size > file_size - 8) {
    fail(SafetensorsErrorKind::truncated, source_name,
         "header size field says " + std::to_string(header_size) + " bytes, but the file holds only " +
             std::to_string(file_size - 8) + " after the 8-byte size field (truncated, or not a safetensors file)");
  }
  return header_size;
}

SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, uint64_t file_size, const std::string& source_name) {
  const uint64_t header_size = parse_safetensors_header_size(bytes, file_size, source_name);
  const char* json_begin = reinterpret_cast<const char*>(bytes) + 8;
  // Trailing spaces (the writers' alignment padding) are JSON whitespace: parse accepts them.
  const json root = parse_json_rejecting_duplicates(json_begin, json_begin + header_size, source_name);
  if (!root.is_object()) {
    fail(SafetensorsErrorKind::invalid_json, source_name,
         std::string("header JSON must be an object mapping tensor names to {dtype, shape, data_offsets}, found ") +
             root.type_name());
  }

  SafetensorsHeader header;
  header.source_name = source_name;
  header.data_offset = 8 + header_size;
  header.data_size = file_size - header.data_offset;
  for (const auto& [name, value] : root.items()) {
    if (name == "__metadata__") {
      header.metadata = parse_metadata(value, source_name);
    } else {
      header.entries.push_back(parse_entry(name, value, source_name));
    }
  }
  // Stable: ties (empty tensors at one offset) keep the JSON object's name order.
  std::stable_sort(header.entries.begin(), header.entries.end(), [](const auto& a, const auto& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  check_layout(header.entries, header.data_size, source_name);
  return header;
}

std::string serialize_safetensors_header(const std::vector<SafetensorsEntry>& entries,
                                         const std::map<std::string, std::string>& metadata,
                                         const std::string& destination_name) {
  // ordered_json keeps insertion order (metadata first, then the caller's order) but, like
  // any map, would merge equal names silently, so check names first.
  std::set<std::string> names;
  uint64_t data_size = 0;
  for (const auto& entry : entries) {
    if (entry.name == "__metadata__" || !names.insert(entry.name).second) {
      fail_tensor(SafetensorsErrorKind::invalid_argument, destination_name, entry.name,
                  entry.name == "__metadata__" ? "the name is reserved for the metadata object"
                                               : "the name appears twice in the tensors to write");
    }
    data_size = std::max(data_size, entry.end);
  }

  nlohmann::ordered_json root = nlohmann::ordered_json::object();
  if (!metadata.empty()) root["__metadata__"] = metadata;
  for (const auto& entry : entries) {
    nlohmann::ordered_json item = nlohmann::ordered_json::object();
    item["dtype"] = safetensors_dtype_name(entry.dtype);
    item["shape"] = entry.shape;
    item["data_offsets"] = nlohmann::ordered_json::array({entry.begin, entry.end});
    root[entry.name] = std::move(item);
  }
  std::string text;
  try {
    text = root.dump();
  } catch (const nlohmann::ordered_json::type_error& error) {  // a name or value that is not UTF-8
    fail(SafetensorsErrorKind::invalid_argument, destination_name,
         std::string("cannot write header: ") + error.what());
  }
  text.append((8 - (8 + text.size()) % 8) % 8, ' ');

  std::string result(8, '\0');
  for (int i = 0; i < 8; ++i) result[i] = static_cast<char>((static_cast<uint64_t>(text.size()) >> (8 * i)) & 0xff);
  result += text;
  // Never emit what the reader rejects (gaps, overlaps, size mismatches, > 100 MB).
  parse_safetensors_header(reinterpret_cast<const uint8_t*>(result.data()), result.size() + data_size,
                           destination_name);
  return result;
}

}  // namespace wise
