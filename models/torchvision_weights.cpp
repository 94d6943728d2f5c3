#include "models/torchvision_weights.h"

#include "weights/safetensors_file.h"

namespace wise {

namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

bool is_ignored_torchvision_key(const std::string& key) {
  return key.rfind("fc.", 0) == 0 || key == "num_batches_tracked" || ends_with(key, ".num_batches_tracked");
}

LoadReport load_torchvision_weights(const std::string& path, ParameterBuffer& buffer,
                                    const std::string& prefix, const std::string& head) {
  WISE_CHECK(buffer.allocated(), "load_torchvision_weights(", path,
             "): allocate the ParameterBuffer before loading into it");
  // Targets under their file names (the prefix stripped).
  NamedTensors targets;
  for (const auto& [name, value] : buffer.named_values_to_write()) {
    if (name.rfind(prefix, 0) != 0) continue;
    if (!head.empty() && name.rfind(prefix + head, 0) == 0) continue;  // the head: not loaded
    targets.emplace_back(name.substr(prefix.size()), value);
  }
  WISE_CHECK(!targets.empty(), "load_torchvision_weights(", path, "): no parameter of the buffer starts with \"",
             prefix, "\" (", buffer.size(), " parameters declared)");

  // load_into skips by prefix; a key is a prefix of itself, so the ignored keys
  // of this file (fc.* and every *.num_batches_tracked) are listed by name.
  LoadOptions options;
  options.ignore_prefixes.push_back("fc.");
  if (!head.empty()) options.ignore_prefixes.push_back(head);
  for (const SafetensorsEntry& entry : read_safetensors_header(path).entries) {
    if (is_ignored_torchvision_key(entry.name)) options.ignore_prefixes.push_back(entry.name);
  }
  return load_into(path, targets, options);
}

}  // namespace wise
