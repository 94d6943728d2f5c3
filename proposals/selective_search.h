// Selective search for mask proposals, after Uijlings, van de Sande, Gevers & Smeulders,
// "Selective Search for Object Recognition", IJCV 2013, keeping every region's pixels as
// a mask (the paper keeps boxes; WISE needs masks).
//
// For each colour space (colour_space.h) and each scale k, the image is segmented with
// Felzenszwalb-Huttenlocher (graph_segmentation.h); for each similarity set, the initial
// regions are grouped greedily: the most similar pair of adjacent regions (region_features.h)
// is merged, the merged region's similarities to its neighbours are computed, until one
// region covers the image (Uijlings Alg. 1). Every region of every hierarchy -- initial
// and merged -- is a proposal, its mask the union of its parts' (an OR of packed bits).
// Across the hierarchies, identical masks are one proposal; how many hierarchies found it
// feeds its objectness (objectness.h), which orders the list.
//
// The default diversification is Uijlings' "fast" mode narrowed to what 192x192 shapes
// images need (proposals/README.md measures the choices): HSV and Lab, k = 50 and 100,
// similarity sets C+T+S+F and T+S+F, that is 8 hierarchies. Everything is deterministic
// and sequential per image; callers parallelise across images (proposal_run.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/image.h"
#include "proposals/colour_space.h"
#include "proposals/objectness.h"
#include "proposals/proposal.h"
#include "proposals/region_features.h"

namespace wise::proposals {

struct SelectiveSearchOptions {
  std::vector<ColourSpace> colour_spaces{ColourSpace::hsv, ColourSpace::lab};
  std::vector<float> ks{50.0f, 100.0f};  // FH's scale, on 0-255 channels
  std::vector<unsigned> similarity_sets{kColour | kTexture | kSize | kFill, kTexture | kSize | kFill};
  float sigma = 0.8f;        // FH's blur (FH Sec. 5 and Uijlings use 0.8)
  int64_t min_size = 20;     // FH's post-processing: smaller components are merged away
  ObjectnessMethod objectness = ObjectnessMethod::combined;
  uint64_t seed = 0;         // the random factor of ObjectnessMethod::uijlings_rank
};

// Every field, in a canonical text (what the cache key hashes, proposal_cache.h): two
// option sets give the same text exactly when they give the same proposals.
std::string describe_options(const SelectiveSearchOptions& options);

// Throws std::invalid_argument naming the field for an empty list, k <= 0, min_size < 1,
// a similarity set with no terms.
void check_options(const SelectiveSearchOptions& options);

// image: RGB. Deduplicated, sorted by objectness descending (proposal.h).
std::vector<Proposal> selective_search(const data::Image& image, const SelectiveSearchOptions& options);

// "C+T+S+F"-style names of a similarity set, and back (throws naming the text).
std::string similarity_set_name(unsigned terms);
unsigned parse_similarity_set(const std::string& text);

}  // namespace wise::proposals
