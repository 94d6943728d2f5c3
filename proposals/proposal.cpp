// Deduplication and order of proposal lists (see proposal.h).
#include "proposals/proposal.h"

#include <algorithm>
#include <unordered_map>

namespace wise::proposals {

uint64_t rle_hash(const data::Rle& rle) {
  uint64_t hash = 1469598103934665603ull;
  auto mix = [&](uint64_t value) {
    for (int byte = 0; byte < 8; ++byte) {
      hash ^= (value >> (8 * byte)) & 0xff;
      hash *= 1099511628211ull;
    }
  };
  mix(static_cast<uint64_t>(rle.height));
  mix(static_cast<uint64_t>(rle.width));
  for (uint32_t count : rle.counts) mix(count);
  return hash;
}

std::vector<Proposal> deduplicate_and_sort(std::vector<Proposal> proposals) {
  std::vector<Proposal> unique;
  unique.reserve(proposals.size());
  std::unordered_map<uint64_t, std::vector<size_t>> by_hash;  // hash -> indices into unique
  for (Proposal& proposal : proposals) {
    std::vector<size_t>& bucket = by_hash[rle_hash(proposal.mask)];
    auto same = std::find_if(bucket.begin(), bucket.end(), [&](size_t index) {
      const data::Rle& other = unique[index].mask;
      return other.height == proposal.mask.height && other.width == proposal.mask.width &&
             other.counts == proposal.mask.counts;
    });
    if (same == bucket.end()) {
      bucket.push_back(unique.size());
      unique.push_back(std::move(proposal));
    } else {
      unique[*same].objectness = std::max(unique[*same].objectness, proposal.objectness);
    }
  }
  std::stable_sort(unique.begin(), unique.end(),
                   [](const Proposal& a, const Proposal& b) { return a.objectness > b.objectness; });
  return unique;
}

}  // namespace wise::proposals
