// Reading and writing proposal files (see precomputed_proposals.h).
#include "proposals/precomputed_proposals.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "data/atomic_file.h"
#include "data/json_text.h"

namespace wise::proposals {
namespace {

using Json = nlohmann::json;

std::string describe(const Json& value) { return data::describe_json(value); }

struct Reader {
  std::string source;
  int64_t height = 0, width = 0;

  [[noreturn]] void fail(const std::string& path, const std::string& message) const {
    throw ProposalFileError(source + ": " + (path.empty() ? "" : path + ": ") + message);
  }

  const Json& field(const Json& object, const std::string& path, const char* key, const char* expected) const {
    if (!object.is_object()) fail(path, "found " + describe(object) + ", expected an object");
    const auto found = object.find(key);
    if (found == object.end()) fail(path + "." + key, std::string("missing, expected ") + expected);
    return *found;
  }

  int64_t integer(const Json& value, const std::string& path) const {
    if (!value.is_number_integer()) fail(path, "found " + describe(value) + ", expected an integer");
    return value.get<int64_t>();
  }

  data::Rle segmentation(const Json& entry, const std::string& path) const {
    const Json& value = field(entry, path, "segmentation", "an RLE {\"size\": [h, w], \"counts\": ...}");
    const std::string segmentation_path = path + ".segmentation";
    if (value.is_array()) {
      fail(segmentation_path, "found polygons, expected an RLE {\"size\": [h, w], \"counts\": ...} (proposals are masks)");
    }
    const Json& size = field(value, segmentation_path, "size", "[height, width]");
    const std::string size_path = segmentation_path + ".size";
    if (!size.is_array() || size.size() != 2) fail(size_path, "found " + describe(size) + ", expected [height, width]");
    const int64_t h = integer(size[0], size_path + "[0]"), w = integer(size[1], size_path + "[1]");
    if (h != height || w != width) {
      fail(size_path, "found [" + std::to_string(h) + ", " + std::to_string(w) + "], expected [" +
                          std::to_string(height) + ", " + std::to_string(width) + "] (the image's size)");
    }
    const Json& counts = field(value, segmentation_path, "counts", "a compressed RLE string or a list of runs");
    const std::string counts_path = segmentation_path + ".counts";
    try {
      if (counts.is_string()) return data::rle_from_string(counts.get<std::string>(), h, w, source + ": " + counts_path);
      if (!counts.is_array()) fail(counts_path, "found " + describe(counts) + ", expected a compressed RLE string or a list of runs");
      data::Rle rle{h, w, {}};
      for (size_t i = 0; i < counts.size(); ++i) {
        const std::string run_path = counts_path + "[" + std::to_string(i) + "]";
        const int64_t run = integer(counts[i], run_path);
        if (run < 0 || run > int64_t{0xffffffff}) fail(run_path, "found " + std::to_string(run) + ", expected a run length in [0, 2^32)");
        rle.counts.push_back(static_cast<uint32_t>(run));
      }
      data::rle_check(rle, source + ": " + counts_path);
      return rle;
    } catch (const std::invalid_argument& error) {
      throw ProposalFileError(error.what());
    }
  }

  float score(const Json& entry, const std::string& path) const {
    const Json& value = field(entry, path, "score", "a number in (0, 1]");
    if (!value.is_number()) fail(path + ".score", "found " + describe(value) + ", expected a number in (0, 1]");
    const double score = value.get<double>();
    if (!(score > 0 && score <= 1)) {
      fail(path + ".score", "found " + describe(value) +
                                ", expected a number in (0, 1] (map unbounded scores into (0, 1] first: "
                                "pseudo masks are sampled in proportion to them)");
    }
    return static_cast<float>(score);
  }
};

}  // namespace

std::string proposal_file_path(const std::string& folder, int64_t image_id) {
  return folder + "/" + std::to_string(image_id) + ".json";
}

std::vector<Proposal> read_proposals_from_string(const std::string& json_text, const std::string& source,
                                                 int64_t height, int64_t width) {
  const Reader reader{source, height, width};
  Json root;
  try {
    root = data::parse_json_bounded(json_text);
  } catch (const data::JsonTextError& error) {
    reader.fail("", std::string("not valid JSON: ") + error.what());
  }
  if (!root.is_array()) reader.fail("", "found " + describe(root) + ", expected an array of {segmentation, score}");
  std::vector<Proposal> proposals;
  proposals.reserve(root.size());
  for (size_t i = 0; i < root.size(); ++i) {
    const std::string path = "[" + std::to_string(i) + "]";
    Proposal proposal;
    proposal.mask = reader.segmentation(root[i], path);
    proposal.objectness = reader.score(root[i], path);
    proposal.box = data::rle_to_bbox(proposal.mask);
    proposals.push_back(std::move(proposal));
  }
  return deduplicate_and_sort(std::move(proposals));
}

std::vector<Proposal> read_proposal_file(const std::string& path, int64_t height, int64_t width) {
  std::string text;
  try {
    text = data::read_whole_file(path);
  } catch (const std::exception& error) {
    throw ProposalFileError(error.what());
  }
  return read_proposals_from_string(text, path, height, width);
}

std::string proposals_to_string(const std::vector<Proposal>& proposals) {
  nlohmann::ordered_json root = nlohmann::ordered_json::array();
  for (const Proposal& proposal : proposals) {
    nlohmann::ordered_json entry;
    entry["segmentation"] = {{"size", {proposal.mask.height, proposal.mask.width}},
                             {"counts", data::rle_to_string(proposal.mask)}};
    entry["score"] = proposal.objectness;  // a float: nlohmann writes the shortest round-trip
    root.push_back(std::move(entry));
  }
  return root.dump() + "\n";
}

void write_proposal_file(const std::string& path, const std::vector<Proposal>& proposals) {
  data::write_file_atomically(path, proposals_to_string(proposals), /*sync=*/false);
}

}  // namespace wise::proposals
