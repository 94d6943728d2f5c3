// Proposal files: COCO-RLE JSON lists of {segmentation, score}, one file per image --
// what SharpMask, MCG and COB users have (WISE's released code trained from SharpMask
// proposals in this form), and what wise's own cache writes (proposal_cache.h).
//
// Layout: a folder holding `<image_id>.json` for each image (the COCO image id, decimal),
// each file a JSON array
//   [{"segmentation": {"size": [height, width], "counts": "<compressed RLE>" or [runs]},
//     "score": 0.93}, ...]
// Other fields of an entry (bbox, area, category_id) are ignored: the box is recomputed
// from the mask. Rules, each a named error (ProposalFileError: file, JSON path, expected
// vs found): the top level is an array; every entry is an object with a segmentation
// whose size equals the image's and whose runs sum to height * width, and a score that is
// a number in (0, 1] (scores from elsewhere, e.g. MCG's unbounded ones, must be mapped
// into (0, 1] first: Eq. 1 samples proportionally to them). The list read is deduplicated
// and sorted by score descending (proposal.h), whatever order the file has.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "proposals/proposal.h"

namespace wise::proposals {

class ProposalFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `<folder>/<image_id>.json`.
std::string proposal_file_path(const std::string& folder, int64_t image_id);

// The file of an image of height x width; throws ProposalFileError (also for a missing
// file, naming it).
std::vector<Proposal> read_proposal_file(const std::string& path, int64_t height, int64_t width);
// The same on JSON text; `source` stands for the file name in errors.
std::vector<Proposal> read_proposals_from_string(const std::string& json_text, const std::string& source,
                                                 int64_t height, int64_t width);

// The list as the JSON array above (compressed RLE, scores as floats round-trip).
std::string proposals_to_string(const std::vector<Proposal>& proposals);
// Written atomically (data/atomic_file.h).
void write_proposal_file(const std::string& path, const std::vector<Proposal>& proposals);

}  // namespace wise::proposals
