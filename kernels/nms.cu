// Non-maximum suppression (see nms.h): sort, gather, blocked bitmask, host sweep.
#include "kernels/nms.h"

#include <algorithm>
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

// Batched NMS: ranks = the first `candidates` score positions, stably sorted by
// category (so score order holds inside each group); row_end (host) = for each
// grouped row, the end of its category's range.
void group_by_category(Device device, const int64_t* categories, const int64_t* order,
                       int64_t candidates, const NmsBuffers& buffers,
                       std::vector<int64_t>& row_end) {
  int64_t* keys = buffers.category_keys;
  int64_t* ranks = buffers.ranks;
  parallel_for(device, candidates, [=] WISE_HD(int64_t i) {
    keys[i] = categories[order[i]];
    ranks[i] = i;
  });
  stable_sort_by_key_ascending(device, keys, ranks, candidates);
  std::vector<int64_t> sorted_keys(static_cast<size_t>(candidates));
  copy_bytes(sorted_keys.data(), Device::cpu, keys, device, sizeof(int64_t) * candidates);
  row_end.resize(static_cast<size_t>(candidates));
  for (int64_t row = candidates - 1; row >= 0; --row) {
    const bool last_of_group = row == candidates - 1 || sorted_keys[row] != sorted_keys[row + 1];
    row_end[row] = last_of_group ? row + 1 : row_end[row + 1];
  }
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
  const bool grouped = categories != nullptr;

  // 1. Sort by score; batched: group the candidates by category.
  sort_by_score(device, scores, n, buffers.sort_keys, buffers.order);
  std::vector<int64_t> host_row_end;
  if (grouped) group_by_category(device, categories, buffers.order, candidates, buffers, host_row_end);
  const int64_t* row_end = nullptr;  // on the device; null: every row ends at `candidates`
  if (grouped) {
    row_end = host_row_end.data();
    if (device != Device::cpu) {
      copy_bytes(buffers.row_end, device, host_row_end.data(), Device::cpu,
                 sizeof(int64_t) * candidates);
      row_end = buffers.row_end;
    }
  }

  // 2. Gather the rows' boxes: row i is score position ranks[i] (grouped) or i.
  // Rows from `candidates` up to a multiple of 64 are padding (zeros), which the mask
  // element reads but masks out.
  const int64_t* order = buffers.order;
  const int64_t* ranks = grouped ? buffers.ranks : nullptr;
  float* sorted_boxes = buffers.sorted_boxes;
  parallel_for(device, words * kNmsWordBits, [=] WISE_HD(int64_t i) {
    const bool real = i < candidates;
    const int64_t input = real ? order[ranks != nullptr ? ranks[i] : i] : 0;
    for (int c = 0; c < 4; ++c) sorted_boxes[4 * i + c] = real ? boxes[4 * input + c] : 0.0f;
  });

  // Host views: the order, the ranks, the mask block being swept and the removed
  // words. On the CPU they are the buffers themselves; on CUDA, copies.
  const bool on_host = device == Device::cpu;
  std::vector<int64_t> order_copy, ranks_copy;
  std::vector<uint64_t> mask_copy;
  std::vector<uint64_t> removed_words(static_cast<size_t>(words), 0);
  const int64_t* host_order = order;
  const int64_t* host_ranks = ranks;
  if (!on_host) {
    order_copy.resize(static_cast<size_t>(candidates));
    copy_bytes(order_copy.data(), Device::cpu, order, device, sizeof(int64_t) * candidates);
    host_order = order_copy.data();
    if (grouped) {
      ranks_copy.resize(static_cast<size_t>(candidates));
      copy_bytes(ranks_copy.data(), Device::cpu, ranks, device, sizeof(int64_t) * candidates);
      host_ranks = ranks_copy.data();
    }
    mask_copy.resize(static_cast<size_t>(block_rows * words));
  }
  uint64_t* mask = buffers.mask;
  const uint64_t* removed = on_host ? removed_words.data() : buffers.removed;
  auto last_word = [&](int64_t row) {  // the row's mask words are row / 64 .. last_word
    return ((grouped ? host_row_end[row] : candidates) - 1) / kNmsWordBits;
  };
  std::vector<int64_t> kept_rows;

  for (int64_t row_begin = 0; row_begin < candidates; row_begin += block_rows) {
    const int64_t rows = min_of(block_rows, candidates - row_begin);
    if (!on_host) {
      copy_bytes(buffers.removed, device, removed_words.data(), Device::cpu,
                 sizeof(uint64_t) * words);
    }
    // 3. The block's mask words. Rows already removed, and words outside a row's
    // range, are not written: the sweep never reads them.
    if (grouped) {
      // One element per row: a category group spans a few words, so a (row, word)
      // grid would be mostly empty.
      parallel_for(
          device, rows,
          [=] WISE_HD(int64_t local_row) {
            const int64_t row = row_begin + local_row;
            if ((removed[row / kNmsWordBits] >> (row % kNmsWordBits)) & 1u) return;
            const int64_t end = row_end[row];
            for (int64_t word = row / kNmsWordBits; word <= (end - 1) / kNmsWordBits; ++word)
              mask[local_row * words + word] =
                  nms_suppression_word(sorted_boxes, row, end, word, threshold);
          },
          kNmsWordBits);
    } else {
      // One element per (row, word). Local rows are visited as 0, last, 1, last-1, ...
      // so that the static CPU schedule gives each thread equal work (row i has words
      // i / 64 .. words-1 to compute).
      parallel_for(
          device, rows * words,
          [=] WISE_HD(int64_t index) {
            const int64_t slot = index / words, word = index % words;
            const int64_t local_row = slot % 2 == 0 ? slot / 2 : rows - 1 - slot / 2;
            const int64_t row = row_begin + local_row;
            if (word < row / kNmsWordBits) return;
            if ((removed[row / kNmsWordBits] >> (row % kNmsWordBits)) & 1u) return;
            mask[local_row * words + word] =
                nms_suppression_word(sorted_boxes, row, candidates, word, threshold);
          },
          kNmsWordBits);
    }
    const uint64_t* host_mask = mask;
    if (!on_host) {
      copy_bytes(mask_copy.data(), Device::cpu, mask, device, sizeof(uint64_t) * rows * words);
      host_mask = mask_copy.data();
    }
    // 4. The sequential sweep over the block's rows.
    for (int64_t local_row = 0; local_row < rows; ++local_row) {
      const int64_t row = row_begin + local_row;
      if ((removed_words[row / kNmsWordBits] >> (row % kNmsWordBits)) & 1u) continue;
      kept_rows.push_back(row);
      const uint64_t* bits = host_mask + local_row * words;
      for (int64_t word = row / kNmsWordBits; word <= last_word(row); ++word)
        removed_words[word] |= bits[word];
    }
  }

  // 5. The keep list in score order: grouped rows go back to their score ranks.
  if (grouped) {
    for (int64_t& row : kept_rows) row = host_ranks[row];
    std::sort(kept_rows.begin(), kept_rows.end());
  }
  keep.reserve(kept_rows.size());
  for (int64_t position : kept_rows) keep.push_back(host_order[position]);
  return static_cast<int64_t>(keep.size());
}

}  // namespace wise::kernels
