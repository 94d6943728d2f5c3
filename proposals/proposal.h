// A mask proposal: a candidate object mask with an objectness in (0, 1] and its box --
// what selective search (selective_search.h) makes and what precomputed proposal files
// (SharpMask, MCG, COB: precomputed_proposals.h) hold. WISE's pseudo masks pick among
// the proposals that contain a peak by their objectness (Eq. 1).
//
// A proposal list is always deduplicated (one entry per distinct mask) and sorted by
// objectness descending; equal scores keep their first-seen order, so a list is a pure
// function of its input order and every stage reading it sees the same "top 100".
#pragma once

#include <array>
#include <vector>

#include "data/rle.h"

namespace wise::proposals {

struct Proposal {
  data::Rle mask;               // image-sized, COCO RLE
  float objectness = 0;         // in (0, 1]
  std::array<double, 4> box{};  // [x, y, w, h], the mask's tight box (data::rle_to_bbox)
};

// Identical masks (same size and runs) kept once, with the highest objectness among
// them; then a stable sort by objectness descending.
std::vector<Proposal> deduplicate_and_sort(std::vector<Proposal> proposals);

// 64-bit FNV-1a of an RLE's size and runs: the bucket key of deduplication.
uint64_t rle_hash(const data::Rle& rle);

}  // namespace wise::proposals
