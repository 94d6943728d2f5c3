// Selective search's hierarchical grouping with masks (see selective_search.h).
#include "proposals/selective_search.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <queue>
#include <stdexcept>
#include <unordered_map>

#include "proposals/graph_segmentation.h"
#include "proposals/packed_mask.h"

namespace wise::proposals {
namespace {

// A region of one hierarchy, as it leaves the grouping.
struct Candidate {
  data::Rle mask;
  std::array<int32_t, 4> box{};  // x1, y1, x2, y2 inclusive
  RegionShape shape;
  double rank_value = 0;         // Uijlings: hierarchy position x random
};

// Two adjacent regions of a hierarchy: the edges they share and their similarity.
struct Adjacency {
  int32_t a = 0, b = 0;
  int64_t shared_edges = 0;
  double shared_contrast = 0;
  bool alive = true;
};

uint64_t pair_key(int32_t a, int32_t b) {
  if (a > b) std::swap(a, b);
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

// splitmix64 of (seed, hierarchy, region) -> [0, 1): Uijlings' random factor, replayable.
double unit_random(uint64_t seed, uint64_t hierarchy, uint64_t region) {
  uint64_t z = seed ^ (hierarchy * 0x9e3779b97f4a7c15ull) ^ (region * 0xd1b54a32d192ed2dull);
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

// The initial regions' edge sums and adjacencies, read off the contrast edge map.
void initial_shapes(const Segmentation& segmentation, const EdgeContrast& contrast, std::vector<RegionShape>& shapes,
                    std::vector<Adjacency>& adjacencies) {
  const int64_t H = segmentation.height, W = segmentation.width;
  shapes.assign(static_cast<size_t>(segmentation.count), RegionShape{});
  std::unordered_map<uint64_t, size_t> index_of;
  auto edge = [&](int32_t la, int32_t lb, float value) {
    if (la == lb) {
      ++shapes[la].inside_edges;
      shapes[la].inside_contrast += value;
      return;
    }
    for (int32_t l : {la, lb}) {
      ++shapes[l].contour_edges;
      shapes[l].contour_contrast += value;
    }
    auto [found, inserted] = index_of.emplace(pair_key(la, lb), adjacencies.size());
    if (inserted) adjacencies.push_back({std::min(la, lb), std::max(la, lb), 0, 0.0, true});
    ++adjacencies[found->second].shared_edges;
    adjacencies[found->second].shared_contrast += value;
  };
  const std::vector<int32_t>& labels = segmentation.labels;
  for (int64_t y = 0; y < H; ++y) {
    for (int64_t x = 0; x < W; ++x) {
      const int32_t label = labels[static_cast<size_t>(y * W + x)];
      RegionShape& shape = shapes[label];
      ++shape.area;
      shape.border_edges += (x == 0) + (x == W - 1) + (y == 0) + (y == H - 1);
      if (x + 1 < W) edge(label, labels[static_cast<size_t>(y * W + x + 1)], contrast.horizontal[static_cast<size_t>(y * (W - 1) + x)]);
      if (y + 1 < H) edge(label, labels[static_cast<size_t>((y + 1) * W + x)], contrast.vertical[static_cast<size_t>(y * W + x)]);
    }
  }
}

// Uijlings Alg. 1 on one segmentation with one similarity set; appends every region.
void group_hierarchy(const Segmentation& segmentation, const PixelBins& bins, const EdgeContrast& contrast,
                     unsigned terms, uint64_t seed, uint64_t hierarchy, std::vector<Candidate>& out) {
  const int64_t H = segmentation.height, W = segmentation.width, image_size = H * W;
  const int32_t initial = segmentation.count;
  const int32_t total = 2 * initial - 1;  // the grid is connected: it ends in one region

  std::vector<RegionDescriptor> descriptors = describe_regions(bins, segmentation.labels, initial);
  descriptors.resize(static_cast<size_t>(total));
  std::vector<RegionShape> shapes;
  std::vector<Adjacency> adjacencies;
  initial_shapes(segmentation, contrast, shapes, adjacencies);
  shapes.resize(static_cast<size_t>(total));
  std::vector<PackedMask> masks(static_cast<size_t>(total));
  for (int32_t r = 0; r < initial; ++r) masks[r] = packed_empty(H, W);
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) packed_set(masks[segmentation.labels[static_cast<size_t>(y * W + x)]], y, x);
  std::vector<std::vector<size_t>> neighbours(static_cast<size_t>(total));
  // Max-heap of (similarity, -adjacency index): equal similarities merge in creation
  // order, so the hierarchy is deterministic.
  using Entry = std::pair<float, int64_t>;
  std::priority_queue<Entry> heap;
  auto connect = [&](size_t index) {
    const Adjacency& adjacency = adjacencies[index];
    neighbours[adjacency.a].push_back(index);
    neighbours[adjacency.b].push_back(index);
    heap.push({region_similarity(descriptors[adjacency.a], descriptors[adjacency.b], terms, image_size),
               -static_cast<int64_t>(index)});
  };
  for (size_t i = 0; i < adjacencies.size(); ++i) connect(i);

  // Uijlings Sec. 3.3: position 1 is the last region made (the whole image).
  auto emit = [&](int32_t r) {
    const RegionDescriptor& descriptor = descriptors[r];
    const double position = static_cast<double>(total - r);
    out.push_back({packed_to_rle(masks[r]), descriptor.box, shapes[r],
                   position * unit_random(seed, hierarchy, static_cast<uint64_t>(r))});
  };
  for (int32_t r = 0; r < initial; ++r) emit(r);

  int32_t next = initial;
  while (!heap.empty()) {
    const size_t index = static_cast<size_t>(-heap.top().second);
    heap.pop();
    if (!adjacencies[index].alive) continue;
    const Adjacency merging = adjacencies[index];
    const int32_t r = next++;
    descriptors[r] = merge_descriptors(descriptors[merging.a], descriptors[merging.b]);
    shapes[r] = region_shape_merge(shapes[merging.a], shapes[merging.b], merging.shared_edges, merging.shared_contrast);
    masks[r] = std::move(masks[merging.a]);
    packed_or(masks[r], masks[merging.b]);
    // The new region's adjacencies: each neighbour c of a or b, with the edges it shared
    // with either (summed), in neighbour order so that the result is deterministic.
    std::map<int32_t, std::pair<int64_t, double>> around;
    for (int32_t part : {merging.a, merging.b}) {
      for (size_t n : neighbours[part]) {
        Adjacency& adjacency = adjacencies[n];
        if (!adjacency.alive) continue;
        adjacency.alive = false;
        if (n == index) continue;
        const int32_t other = adjacency.a == part ? adjacency.b : adjacency.a;
        around[other].first += adjacency.shared_edges;
        around[other].second += adjacency.shared_contrast;
      }
      neighbours[part].clear();
      masks[part] = PackedMask{};
      descriptors[part] = RegionDescriptor{};
    }
    for (const auto& [other, shared] : around) {
      adjacencies.push_back({other, r, shared.first, shared.second, true});
      connect(adjacencies.size() - 1);
    }
    emit(r);
  }
}

}  // namespace

std::string similarity_set_name(unsigned terms) {
  std::string name;
  const std::pair<unsigned, const char*> parts[] = {{kColour, "C"}, {kTexture, "T"}, {kSize, "S"}, {kFill, "F"}};
  for (const auto& [term, letter] : parts) {
    if (!(terms & term)) continue;
    if (!name.empty()) name += "+";
    name += letter;
  }
  return name;
}

unsigned parse_similarity_set(const std::string& text) {
  unsigned terms = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == 'C') terms |= kColour;
    else if (c == 'T') terms |= kTexture;
    else if (c == 'S') terms |= kSize;
    else if (c == 'F') terms |= kFill;
    else if (c != '+')
      throw std::invalid_argument("similarity set \"" + text + "\": expected letters C, T, S, F joined by +");
  }
  if (terms == 0) throw std::invalid_argument("similarity set \"" + text + "\": expected at least one of C, T, S, F");
  return terms;
}

std::string describe_options(const SelectiveSearchOptions& options) {
  // %.9g prints every float exactly (9 significant digits round-trip a float).
  std::string text = "selective_search colour_spaces=";
  for (ColourSpace space : options.colour_spaces) text += std::string(colour_space_name(space)) + ",";
  char number[32];
  text += " ks=";
  for (float k : options.ks) {
    std::snprintf(number, sizeof number, "%.9g,", static_cast<double>(k));
    text += number;
  }
  text += " similarity_sets=";
  for (unsigned terms : options.similarity_sets) text += similarity_set_name(terms) + ",";
  std::snprintf(number, sizeof number, "%.9g", static_cast<double>(options.sigma));
  text += std::string(" sigma=") + number + " min_size=" + std::to_string(options.min_size) +
          " objectness=" + objectness_method_name(options.objectness) + " seed=" + std::to_string(options.seed);
  return text;
}

void check_options(const SelectiveSearchOptions& options) {
  if (options.colour_spaces.empty()) throw std::invalid_argument("selective search: colour_spaces is empty, expected at least one");
  if (options.ks.empty()) throw std::invalid_argument("selective search: ks is empty, expected at least one scale");
  for (float k : options.ks)
    if (!(k > 0)) throw std::invalid_argument("selective search: k " + std::to_string(k) + ", expected > 0");
  if (options.similarity_sets.empty())
    throw std::invalid_argument("selective search: similarity_sets is empty, expected at least one");
  for (unsigned terms : options.similarity_sets)
    if ((terms & (kColour | kTexture | kSize | kFill)) == 0 || (terms & ~15u))
      throw std::invalid_argument("selective search: similarity set " + std::to_string(terms) + ", expected a non-empty subset of C+T+S+F");
  if (options.min_size < 1)
    throw std::invalid_argument("selective search: min_size " + std::to_string(options.min_size) + ", expected >= 1");
  if (!(options.sigma >= 0)) throw std::invalid_argument("selective search: sigma must be >= 0");
}

std::vector<Proposal> selective_search(const data::Image& image, const SelectiveSearchOptions& options) {
  check_options(options);
  if (image.channels != 3) {
    throw std::invalid_argument("selective search: expected an RGB image, got " + std::to_string(image.channels) + " channels");
  }
  const EdgeContrast contrast = compute_edge_contrast(image);
  std::vector<Candidate> candidates;
  uint64_t hierarchy = 0;
  for (ColourSpace space : options.colour_spaces) {
    const std::vector<float> converted = convert_colour_space(image, space);
    const GridGraph graph = build_grid_graph(converted.data(), image.height, image.width, 3, options.sigma);
    const PixelBins bins = compute_pixel_bins(converted.data(), image.height, image.width);
    for (float k : options.ks) {
      const Segmentation segmentation = segment_graph(graph, k, options.min_size);
      for (unsigned terms : options.similarity_sets) {
        group_hierarchy(segmentation, bins, contrast, terms, options.seed, hierarchy++, candidates);
      }
    }
  }
  const int64_t hierarchies = static_cast<int64_t>(hierarchy);

  // Identical masks across hierarchies: one proposal, found_in = the hierarchies that
  // made it (a hierarchy never makes one mask twice: its regions are distinct sets).
  struct Group {
    size_t first = 0;
    int64_t found_in = 0;
    double best_rank = 0;
  };
  std::vector<Group> groups;
  std::unordered_map<uint64_t, std::vector<size_t>> by_hash;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const data::Rle& mask = candidates[i].mask;
    std::vector<size_t>& bucket = by_hash[rle_hash(mask)];
    auto same = std::find_if(bucket.begin(), bucket.end(),
                             [&](size_t g) { return candidates[groups[g].first].mask.counts == mask.counts; });
    if (same == bucket.end()) {
      bucket.push_back(groups.size());
      groups.push_back({i, 1, candidates[i].rank_value});
    } else {
      ++groups[*same].found_in;
      groups[*same].best_rank = std::min(groups[*same].best_rank, candidates[i].rank_value);
    }
  }
  std::vector<Proposal> proposals;
  proposals.reserve(groups.size());
  for (const Group& group : groups) {
    Candidate& candidate = candidates[group.first];
    const auto& box = candidate.box;
    proposals.push_back({std::move(candidate.mask),
                         objectness(options.objectness, candidate.shape, group.found_in, hierarchies, group.best_rank),
                         {static_cast<double>(box[0]), static_cast<double>(box[1]),
                          static_cast<double>(box[2] - box[0] + 1), static_cast<double>(box[3] - box[1] + 1)}});
  }
  return deduplicate_and_sort(std::move(proposals));
}

}  // namespace wise::proposals
