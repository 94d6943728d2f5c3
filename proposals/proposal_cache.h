// The per-image disk cache of computed proposals: a file per (image, configuration) whose
// name carries a key of everything the proposals depend on, so that no one ever has to
// invalidate it by hand (issue 21's brief: a cache never relies on the user remembering).
//
// key = 128-bit hash (two independent 64-bit hashes, hex) of
//   - the method's source: the SHA-256 of every file in proposals/, computed by the build
//     whenever one changes (cmake/proposals_source_hash.cmake), so a code change is a miss
//     without anyone bumping a version;
//   - the method's description: every option in canonical text (describe_options);
//   - the image as decoded: height, width, channels and every pixel byte (decoded, not the
//     file's bytes: a re-encoded PNG with the same pixels rightly hits).
// The file is `<cache folder>/<image_id>-<key>.json` in the proposal-file format
// (precomputed_proposals.h), written atomically; a changed option, image or source gives
// another name, i.e. a miss, and stale files are merely unused (delete the folder to
// reclaim space). A file that exists but does not read (a foreign file under a key's
// name) is recomputed and overwritten rather than trusted or fatal.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "data/image.h"
#include "proposals/proposal.h"

namespace wise::proposals {

// The build's hash of the proposals/ sources (64 hex digits).
const char* proposals_source_hash();

// 32 hex digits.
std::string proposal_cache_key(const std::string& method_description, const data::Image& image);
std::string proposal_cache_path(const std::string& folder, int64_t image_id, const std::string& key);

// nullopt when the file is missing or does not read as proposals of this image's size.
std::optional<std::vector<Proposal>> read_cached_proposals(const std::string& path, int64_t height, int64_t width);
void write_cached_proposals(const std::string& path, const std::vector<Proposal>& proposals);

}  // namespace wise::proposals
