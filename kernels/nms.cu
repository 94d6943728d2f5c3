// Non-maximum suppression (see nms.h): sort, gather, blocked bitmask, host sweep.
#include "kernels/nms.h"

#include <cmath>

#include "kernels/check.h"
#include "kernels/launch.h"
#include "kernels/memory.h"
#include "kernels/sort.h"

namespace wise::kernels {

float nms_float_threshold(double iou_threshold) {
  float threshold = static_cast<float>(iou_threshold);
  // The largest float <= the double: then x > it exactly when x > the double.
  if (static_cast<double>(threshold) > iou_threshold)
    threshold = std::nextafter(threshold, -INFINITY);
  return threshold;
}

int64_t nms_block_rows(int64_t candidates, int64_t mask_budget_bytes) {
  const int64_t all_rows = nms_words(candidates) * kNmsWordBits;
  const int64_t row_bytes = max_of(nms_words(candidates), int64_t{1}) * int64_t{8};
  const int64_t rows = mask_budget_bytes / row_bytes / kNmsWordBits * kNmsWordBits;
  return max_of(min_of(rows, all_rows), kNmsWordBits);
}

namespace {

// order = the input indices sorted by score descending, ties by index ascending,
// NaN scores first (torch.sort's order). Thrust's comparison sort needs a strict
// weak order, which NaN breaks, so: sort with NaN keys read as 0, then stably move
// the NaN scores to the front (the second sort's keys are 1 for NaN, 0 otherwise).
void sort_by_score(Device device, const float* scores, int64_t n, float* keys, int64_t* order) {
  parallel_for(device, n, [=] WISE_HD(int64_t i) {
    keys[i] = scores[i] != scores[i] ? 0.0f : scores[i];
    order[i] = i;
  });
  stable_sort_by_key_descending(device, keys, order, n);
  parallel_for(device, n, [=] WISE_HD(int64_t i) {
    keys[i] = scores[order[i]] != scores[order[i]] ? 1.0f : 0.0f;
  });
  stable_sort_by_key_descending(device, keys, order, n);
}

}  // namespace

int64_t nms(Device device, const float* boxes, const float* scores, const int64_t* categories,
            int64_t n, double iou_threshold, int64_t top_k, int64_t mask_budget_bytes,
            const NmsBuffers& buffers, std::vector<int64_t>& keep) {
  keep.clear();
  const int64_t candidates = nms_candidates(n, top_k);
  if (candidates <= 0) return 0;
  require_device(device, "nms");
  const int64_t words = nms_words(candidates);
  const int64_t block_rows = nms_block_rows(candidates, mask_budget_bytes);
  const float threshold = nms_float_threshold(iou_threshold);

  // 1. Sort, and gather the candidates' boxes (and categories) in sorted order.
  sort_by_score(device, scores, n, buffers.sort_keys, buffers.order);
  const int64_t* order = buffers.order;
  float* sorted_boxes = buffers.sorted_boxes;
  int64_t* sorted_categories = categories != nullptr ? buffers.sorted_categories : nullptr;
  // Rows from `candidates` up to a multiple of 64 are padding (zeros), which the mask
  // element reads but masks out.
  parallel_for(device, words * kNmsWordBits, [=] WISE_HD(int64_t i) {
    const bool real = i < candidates;
    for (int c = 0; c < 4; ++c) sorted_boxes[4 * i + c] = real ? boxes[4 * order[i] + c] : 0.0f;
    if (sorted_categories != nullptr) sorted_categories[i] = real ? categories[order[i]] : 0;
  });

  // Host views: the order, the mask block being swept and the removed words. On the
  // CPU they are the buffers themselves; on CUDA, copies.
  const bool on_host = device == Device::cpu;
  std::vector<int64_t> order_copy;
  std::vector<uint64_t> mask_copy;
  std::vector<uint64_t> removed_words(static_cast<size_t>(words), 0);
  const int64_t* host_order = order;
  if (!on_host) {
    order_copy.resize(static_cast<size_t>(candidates));
    copy_bytes(order_copy.data(), Device::cpu, order, device, sizeof(int64_t) * candidates);
    host_order = order_copy.data();
    mask_copy.resize(static_cast<size_t>(block_rows * words));
  }
  uint64_t* mask = buffers.mask;
  const uint64_t* removed = on_host ? removed_words.data() : buffers.removed;

  for (int64_t row_begin = 0; row_begin < candidates; row_begin += block_rows) {
    const int64_t rows = min_of(block_rows, candidates - row_begin);
    if (!on_host) {
      copy_bytes(buffers.removed, device, removed_words.data(), Device::cpu,
                 sizeof(uint64_t) * words);
    }
    // 2. The block's mask words. Local rows are visited as 0, last, 1, last-1, ... so
    // that the static CPU schedule gives each thread equal work (row i has words
    // i / 64 .. words-1 to compute). Words left of the diagonal and rows already
    // removed are not written: the sweep never reads them.
    parallel_for(
        device, rows * words,
        [=] WISE_HD(int64_t index) {
          const int64_t slot = index / words, word = index % words;
          const int64_t local_row = slot % 2 == 0 ? slot / 2 : rows - 1 - slot / 2;
          const int64_t row = row_begin + local_row;
          if (word < row / kNmsWordBits) return;
          if ((removed[row / kNmsWordBits] >> (row % kNmsWordBits)) & 1u) return;
          mask[local_row * words + word] = nms_suppression_word(sorted_boxes, sorted_categories,
                                                                candidates, row, word, threshold);
        },
        kNmsWordBits);
    const uint64_t* host_mask = mask;
    if (!on_host) {
      copy_bytes(mask_copy.data(), Device::cpu, mask, device, sizeof(uint64_t) * rows * words);
      host_mask = mask_copy.data();
    }
    // 3. The sequential sweep over the block's rows.
    for (int64_t local_row = 0; local_row < rows; ++local_row) {
      const int64_t row = row_begin + local_row;
      if ((removed_words[row / kNmsWordBits] >> (row % kNmsWordBits)) & 1u) continue;
      keep.push_back(host_order[row]);
      const uint64_t* bits = host_mask + local_row * words;
      for (int64_t word = row / kNmsWordBits; word < words; ++word)
        removed_words[word] |= bits[word];
    }
  }
  return static_cast<int64_t>(keep.size());
}

}  // namespace wise::kernels
