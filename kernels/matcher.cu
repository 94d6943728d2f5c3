// Matcher and balanced sampler (see matcher.h): the launches. One source for CPU and CUDA.
#include "kernels/matcher.h"

#include "kernels/launch.h"
#include "kernels/memory.h"
#include "kernels/philox.h"
#include "kernels/sort.h"

namespace wise::kernels {

void match_proposals(Device device, const float* iou, int64_t num_gt, int64_t num_proposals,
                     float low_threshold, float high_threshold, bool allow_low_quality_matches,
                     float* workspace, int64_t* matches) {
  if (num_proposals <= 0) return;
  const float* highest = nullptr;
  if (allow_low_quality_matches && num_gt > 0) {
    parallel_for(device, num_gt, [=] WISE_HD(int64_t g) {
      matcher_highest_element(g, iou, num_proposals, workspace);
    }, num_proposals);
    highest = workspace;
  }
  parallel_for(device, num_proposals, [=] WISE_HD(int64_t p) {
    matcher_match_element(p, iou, num_gt, num_proposals, low_threshold, high_threshold, highest,
                          matches);
  }, num_gt + 1);
}

namespace {

// Chooses up to `limit` of the labels equal to `wanted` (or >= 1 when wanted is 1) by
// largest Philox key and sets their mask bytes; returns how many it chose.
int64_t sample_subset(Device device, const int64_t* labels, int64_t n, bool positives,
                      int64_t limit, uint64_t seed, uint64_t offset, SamplerWorkspace workspace,
                      uint8_t* mask) {
  float* keys = workspace.keys;
  int64_t* order = workspace.order;
  int64_t* counts = workspace.counts;
  parallel_for(device, n, [=] WISE_HD(int64_t i) {
    const bool candidate = positives ? labels[i] >= 1 : labels[i] == 0;
    keys[i] = candidate
                  ? uniform_from_bits(philox_random(seed, offset + static_cast<uint64_t>(i)).x[0])
                  : -1.0f;  // below every key in [0, 1): sorted after the candidates
    order[i] = i;
    counts[i] = candidate ? 1 : 0;
    mask[i] = 0;
  });
  inclusive_scan(device, counts, counts, n);
  int64_t available = 0;
  copy_bytes(&available, Device::cpu, counts + n - 1, device, sizeof(int64_t));
  const int64_t chosen = available < limit ? available : limit;
  if (chosen <= 0) return 0;
  stable_sort_by_key_descending(device, keys, order, n);
  // order is a permutation: the writes are disjoint.
  parallel_for(device, chosen, [=] WISE_HD(int64_t k) { mask[order[k]] = 1; });
  return chosen;
}

}  // namespace

SampledCounts sample_positive_negative(Device device, const int64_t* labels, int64_t n,
                                       int64_t batch_size_per_image, double positive_fraction,
                                       uint64_t seed, uint64_t offset, SamplerWorkspace workspace,
                                       uint8_t* positive_mask, uint8_t* negative_mask) {
  SampledCounts counts;
  if (n <= 0) return counts;
  // torchvision: int(batch_size_per_image * positive_fraction), truncated.
  const int64_t positive_limit =
      static_cast<int64_t>(static_cast<double>(batch_size_per_image) * positive_fraction);
  counts.positives = sample_subset(device, labels, n, true, positive_limit, seed, offset,
                                   workspace, positive_mask);
  counts.negatives =
      sample_subset(device, labels, n, false, batch_size_per_image - counts.positives, seed,
                    offset + static_cast<uint64_t>(n), workspace, negative_mask);
  return counts;
}

}  // namespace wise::kernels
