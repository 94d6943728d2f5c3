// libFuzzer target: the input is a whole safetensors file.
//
// Contract under test: parse_safetensors_header either returns a header or throws
// SafetensorsError; any other exception, crash, sanitizer report or hang is a bug.
// On success a second property must hold: serializing the parsed entries and metadata and
// parsing that again gives the same header (the writer emits only what the reader
// accepts, and nothing is lost between them).
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>

#include "weights/safetensors_format.h"

namespace {

bool same_entries(const wise::SafetensorsHeader& a, const wise::SafetensorsHeader& b) {
  if (a.entries.size() != b.entries.size() || a.metadata != b.metadata || a.data_size != b.data_size) return false;
  for (const auto& entry : a.entries) {
    const wise::SafetensorsEntry* other = b.find(entry.name);
    if (!other || other->dtype != entry.dtype || other->shape != entry.shape || other->begin != entry.begin ||
        other->end != entry.end) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  wise::SafetensorsHeader header;
  try {
    header = wise::parse_safetensors_header(data, size, "fuzz input");
  } catch (const wise::SafetensorsError&) {
    return 0;  // a rejected file: the expected outcome for most inputs
  }

  // Round trip. Serializing a header the parser accepted must not throw, so no catch here.
  const std::string again = wise::serialize_safetensors_header(header.entries, header.metadata, "fuzz round trip");
  const auto reparsed = wise::parse_safetensors_header(reinterpret_cast<const uint8_t*>(again.data()),
                                                       again.size() + header.data_size, "fuzz round trip");
  if (!same_entries(header, reparsed) || reparsed.data_offset % 8 != 0) {
    std::fprintf(stderr, "round trip changed the header (%zu entries)\n", header.entries.size());
    std::abort();
  }
  return 0;
}
