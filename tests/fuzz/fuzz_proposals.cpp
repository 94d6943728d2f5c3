// libFuzzer target: a precomputed proposal file (proposals/precomputed_proposals.h), read
// for an image whose size the first two bytes choose (1..64 each).
//
// Contract under test: read_proposals_from_string returns proposals or throws
// ProposalFileError; anything else is a bug. Every proposal's mask has the image's size
// and runs that sum to it, its objectness is in (0, 1], and writing the list and reading
// it back gives the same masks and objectness.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "proposals/precomputed_proposals.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int64_t height = 1 + data[0] % 64, width = 1 + data[1] % 64;
  const std::string text(reinterpret_cast<const char*>(data + 2), size - 2);
  std::vector<wise::proposals::Proposal> proposals;
  try {
    proposals = wise::proposals::read_proposals_from_string(text, "fuzz input", height, width);
  } catch (const wise::proposals::ProposalFileError&) {
    return 0;
  }
  for (const auto& proposal : proposals) {
    wise::data::rle_check(proposal.mask, "fuzz proposal");  // throws: a bug
    if (proposal.mask.height != height || proposal.mask.width != width || !(proposal.objectness > 0) ||
        !(proposal.objectness <= 1)) {
      std::fprintf(stderr, "proposal of %lld x %lld, objectness %g\n", static_cast<long long>(proposal.mask.height),
                   static_cast<long long>(proposal.mask.width), static_cast<double>(proposal.objectness));
      std::abort();
    }
  }
  const auto reread = wise::proposals::read_proposals_from_string(wise::proposals::proposals_to_string(proposals),
                                                                  "fuzz round trip", height, width);
  bool same = reread.size() == proposals.size();
  for (size_t i = 0; same && i < proposals.size(); ++i) {
    same = reread[i].mask.counts == proposals[i].mask.counts && reread[i].objectness == proposals[i].objectness;
  }
  if (!same) {
    std::fprintf(stderr, "round trip changed the proposals (%zu of them)\n", proposals.size());
    std::abort();
  }
  return 0;
}
