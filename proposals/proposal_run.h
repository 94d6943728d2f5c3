// Proposals for a dataset's images: the library behind apps/make_proposals. For each image
// of a shard (shard.h), its proposals come from a precomputed folder
// (precomputed_proposals.h) or from selective search through the disk cache
// (proposal_cache.h); with ground truth, each image's ABO / recall terms are added to a
// ProposalQuality (proposal_quality.h). Images run in parallel under OpenMP, one image
// per thread (selective search itself is sequential), and the sums are made in image
// order afterwards, so the report does not depend on the thread count.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "proposals/proposal.h"
#include "proposals/proposal_quality.h"
#include "proposals/selective_search.h"
#include "proposals/shard.h"

namespace wise::proposals {

struct ProposalRunOptions {
  std::string images;       // the folder dataset.images[].file_name is relative to ("": paths)
  std::string cache;        // the cache folder (created if missing); empty: no cache
  std::string precomputed;  // a folder of <image_id>.json files: read, not computed
  SelectiveSearchOptions selective_search;
  Shard shard;
  int64_t limit = 0;        // at most this many images of the shard, in order (0: all)
};

// The images of the dataset a run processes: the shard's, cut at `limit`.
std::vector<size_t> selected_images(const data::Dataset& dataset, const Shard& shard, int64_t limit);

struct ImageProposals {
  std::vector<Proposal> proposals;
  bool computed = false;   // false: read from the cache or the precomputed folder
  double milliseconds = 0; // selective search's time when computed
};

// One image's proposals as a run would make them (cache included).
ImageProposals proposals_for_image(const data::ImageInfo& image, const ProposalRunOptions& options);

// Several images' proposals, one image per OpenMP thread, in the order given. Throws the
// first failing image's error (its file named) after the others finished.
std::vector<ImageProposals> proposals_for_images(const std::vector<const data::ImageInfo*>& images,
                                                 const ProposalRunOptions& options);

// Every selected image; ground-truth annotations (non-crowd) are measured against.
// Throws the first failing image's error (its file named) after the others finished.
ProposalQuality run_proposals(const data::Dataset& dataset, const ProposalRunOptions& options);

}  // namespace wise::proposals
