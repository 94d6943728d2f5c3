// Non-maximum suppression (see nms.h): sort, gather, blocked bitmask, host sweep.
#include "kernels/nms.h"

#include <algorithm>
#include <cmath>
#include <utility>

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

// Host views of the buffers the host part of nms reads or writes. On the CPU a view is
// the buffer itself (no copy); on CUDA it is a copy, made by the one function here per
// direction, so the steps below carry no device bookkeeping of their own.
//
// host_view: `count` elements of device memory readable on the host (copied into
// `storage` unless the device is the CPU).
template <class T>
const T* host_view(Device device, const T* data, int64_t count, std::vector<T>& storage) {
  if (device == Device::cpu) return data;
  storage.resize(static_cast<size_t>(count));
  copy_bytes(storage.data(), Device::cpu, data, device, sizeof(T) * count);
  return storage.data();
}

// device_view: `count` host elements readable by the device's kernels (copied into
// `device_buffer` unless the device is the CPU).
template <class T>
const T* device_view(Device device, const T* host, int64_t count, T* device_buffer) {
  if (device == Device::cpu) return host;
  copy_bytes(device_buffer, device, host, Device::cpu, sizeof(T) * count);
  return device_buffer;
}

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
  std::vector<int64_t> keys_copy;
  const int64_t* sorted_keys = host_view(device, keys, candidates, keys_copy);
  row_end.resize(static_cast<size_t>(candidates));
  for (int64_t row = candidates - 1; row >= 0; --row) {
    const bool last_of_group = row == candidates - 1 || sorted_keys[row] != sorted_keys[row + 1];
    row_end[row] = last_of_group ? row + 1 : row_end[row + 1];
  }
}

// The rows of the mask: the candidates in score order, or, batched, grouped by
// category with each row's range end.
struct NmsRows {
  NmsRows() = default;
  NmsRows(NmsRows&&) = default;  // moved, never copied: row_end may point into host_row_end
  NmsRows(const NmsRows&) = delete;
  int64_t candidates = 0;
  bool grouped = false;
  std::vector<int64_t> host_row_end;  // grouped: each row's range end (host)
  const int64_t* row_end = nullptr;   // the same on the device; null when not grouped
  // The range end of `row`'s category group (candidates without categories).
  int64_t end_of(int64_t row) const { return grouped ? host_row_end[row] : candidates; }
};

// 1. Sort by score; batched: group the candidates by category.
NmsRows sort_rows(Device device, const float* scores, const int64_t* categories, int64_t n,
                  int64_t candidates, const NmsBuffers& buffers) {
  NmsRows rows;
  rows.candidates = candidates;
  rows.grouped = categories != nullptr;
  sort_by_score(device, scores, n, buffers.sort_keys, buffers.order);
  if (rows.grouped) {
    group_by_category(device, categories, buffers.order, candidates, buffers, rows.host_row_end);
    rows.row_end = device_view(device, rows.host_row_end.data(), candidates, buffers.row_end);
  }
  return rows;
}

// 2. Gather the rows' boxes: row i is score position ranks[i] (grouped) or i. Rows
// from `candidates` up to a multiple of 64 are padding (zeros), which the mask element
// reads but masks out.
void gather_row_boxes(Device device, const float* boxes, const NmsRows& rows, const NmsBuffers& buffers) {
  const int64_t candidates = rows.candidates;
  const int64_t* order = buffers.order;
  const int64_t* ranks = rows.grouped ? buffers.ranks : nullptr;
  float* sorted_boxes = buffers.sorted_boxes;
  parallel_for(device, nms_words(candidates) * kNmsWordBits, [=] WISE_HD(int64_t i) {
    const bool real = i < candidates;
    const int64_t input = real ? order[ranks != nullptr ? ranks[i] : i] : 0;
    for (int c = 0; c < 4; ++c) sorted_boxes[4 * i + c] = real ? boxes[4 * input + c] : 0.0f;
  });
}

// 3. The mask words of rows [row_begin, row_begin + block) into `mask` (the block's
// rows x words). Rows already removed, and words outside a row's range, are not
// written: the sweep never reads them.
void compute_mask_block(Device device, const NmsRows& rows, int64_t row_begin, int64_t block,
                        const float* sorted_boxes, const uint64_t* removed, float threshold,
                        uint64_t* mask) {
  const int64_t candidates = rows.candidates, words = nms_words(candidates);
  if (rows.grouped) {
    // One element per row: a category group spans a few words, so a (row, word)
    // grid would be mostly empty.
    const int64_t* row_end = rows.row_end;
    parallel_for(
        device, block,
        [=] WISE_HD(int64_t local_row) {
          const int64_t row = row_begin + local_row;
          if ((removed[row / kNmsWordBits] >> (row % kNmsWordBits)) & 1u) return;
          const int64_t end = row_end[row];
          for (int64_t word = row / kNmsWordBits; word <= (end - 1) / kNmsWordBits; ++word)
            mask[local_row * words + word] = nms_suppression_word(sorted_boxes, row, end, word, threshold);
        },
        kNmsWordBits);
    return;
  }
  // One element per (row, word). Local rows are visited as 0, last, 1, last-1, ...
  // so that the static CPU schedule gives each thread equal work (row i has words
  // i / 64 .. words-1 to compute).
  parallel_for(
      device, block * words,
      [=] WISE_HD(int64_t index) {
        const int64_t slot = index / words, word = index % words;
        const int64_t local_row = slot % 2 == 0 ? slot / 2 : block - 1 - slot / 2;
        const int64_t row = row_begin + local_row;
        if (word < row / kNmsWordBits) return;
        if ((removed[row / kNmsWordBits] >> (row % kNmsWordBits)) & 1u) return;
        mask[local_row * words + word] = nms_suppression_word(sorted_boxes, row, candidates, word, threshold);
      },
      kNmsWordBits);
}

// 4. The sequential sweep over the block's rows (host): keep a row unless an earlier
// kept row removed it, and OR its mask words into `removed`.
void sweep_mask_block(const NmsRows& rows, int64_t row_begin, int64_t block, const uint64_t* mask,
                      std::vector<uint64_t>& removed, std::vector<int64_t>& kept_rows) {
  const int64_t words = nms_words(rows.candidates);
  for (int64_t local_row = 0; local_row < block; ++local_row) {
    const int64_t row = row_begin + local_row;
    if ((removed[row / kNmsWordBits] >> (row % kNmsWordBits)) & 1u) continue;
    kept_rows.push_back(row);
    const uint64_t* bits = mask + local_row * words;
    const int64_t last_word = (rows.end_of(row) - 1) / kNmsWordBits;
    for (int64_t word = row / kNmsWordBits; word <= last_word; ++word) removed[word] |= bits[word];
  }
}

// 5. The keep list in score order (input indices): grouped rows go back to their
// score ranks.
void keep_in_score_order(Device device, const NmsRows& rows, const NmsBuffers& buffers,
                         std::vector<int64_t> kept_rows, std::vector<int64_t>& keep) {
  std::vector<int64_t> order_copy, ranks_copy;
  if (rows.grouped) {
    const int64_t* ranks = host_view<int64_t>(device, buffers.ranks, rows.candidates, ranks_copy);
    for (int64_t& row : kept_rows) row = ranks[row];
    std::sort(kept_rows.begin(), kept_rows.end());
  }
  const int64_t* order = host_view<int64_t>(device, buffers.order, rows.candidates, order_copy);
  keep.reserve(kept_rows.size());
  for (int64_t position : kept_rows) keep.push_back(order[position]);
}

}  // namespace

int64_t nms(Device device, const float* boxes, const float* scores, const int64_t* categories,
            int64_t n, double iou_threshold, int64_t top_k, int64_t mask_budget_bytes,
            const NmsBuffers& buffers, std::vector<int64_t>& keep) {
  keep.clear();
  const int64_t candidates = nms_candidates(n, top_k);
  if (candidates <= 0) return 0;
  require_device(device, "nms");
  const NmsRows rows = sort_rows(device, scores, categories, n, candidates, buffers);
  gather_row_boxes(device, boxes, rows, buffers);

  // The mask in blocks of rows: compute a block (device), sweep it (host), go on.
  const int64_t words = nms_words(candidates);
  const int64_t block_rows = nms_block_rows(candidates, mask_budget_bytes);
  const float threshold = nms_float_threshold(iou_threshold);
  std::vector<uint64_t> removed(static_cast<size_t>(words), 0);
  std::vector<uint64_t> mask_copy;
  std::vector<int64_t> kept_rows;
  for (int64_t row_begin = 0; row_begin < candidates; row_begin += block_rows) {
    const int64_t block = min_of(block_rows, candidates - row_begin);
    const uint64_t* device_removed = device_view(device, removed.data(), words, buffers.removed);
    compute_mask_block(device, rows, row_begin, block, buffers.sorted_boxes, device_removed, threshold,
                       buffers.mask);
    const uint64_t* host_mask = host_view<uint64_t>(device, buffers.mask, block * words, mask_copy);
    sweep_mask_block(rows, row_begin, block, host_mask, removed, kept_rows);
  }
  keep_in_score_order(device, rows, buffers, std::move(kept_rows), keep);
  return static_cast<int64_t>(keep.size());
}

}  // namespace wise::kernels
