// Non-maximum suppression: greedy IoU suppression with torchvision's keep order.
//
// Greedy NMS (as torchvision.ops.nms): visit the boxes by score, highest first, ties
// by index ascending (a stable sort, so the order is the same on both devices); keep
// a box unless an earlier kept box has IoU > iou_threshold with it (strictly
// greater). The IoU is box_iou_pair (kernels/box_ops.h), so a NaN IoU (a NaN
// coordinate, two zero-area boxes) never suppresses. NaN scores sort first, as in
// torch.sort(descending=True), in index order.
//
// Algorithm: the bitmask scheme of torchvision's CUDA nms (after Faster R-CNN's
// py-faster-rcnn gpu_nms). For the boxes in sorted order, the element (row i, word j)
// computes one 64-bit word: bit b is set when sorted box 64 j + b comes after i and
// has IoU > threshold with box i. The element is written once (WISE_HD) and launched
// with OpenMP on the CPU and CUDA on the GPU; each writes its own word (a gather, no
// atomics), so the mask is deterministic. A sequential sweep on the host then walks
// the rows in order, keeping row i unless a kept earlier row suppressed it, and ORs
// its row into the `removed` words. Both devices therefore keep exactly the same list.
// Unlike torchvision's CPU loop (kept boxes x the not-yet-suppressed ones after them,
// scalar, one thread), we compute every pair after the diagonal, but the 64-column
// loop is branch-free over padded boxes, so g++ vectorises it (16 IoUs per AVX-512
// instruction). Timings against torchvision: benchmarks/results/ (kernels-vs-torch).
//
// Memory: a full mask is n * ceil(n / 64) words, 1.25 GB for 100k boxes. We build it
// in blocks of rows (block_rows * words * 8 <= mask_budget_bytes, 64 MiB by default):
// compute a block, sweep it, go on. A row of a later block only needs the boxes, not
// the sweep, so blocking changes nothing in the result; and rows already removed when
// their block starts are skipped entirely, which with many overlapping boxes (RPN
// proposals) saves most of the work. Up to ~23k boxes the mask fits one block.
//
// Batched (per-class) NMS: boxes of different categories never suppress each other.
// torchvision's batched_nms offsets each class's boxes by class * (max + 1) so one
// nms separates them (or, above 4000 boxes on the CPU, loops over the classes); the
// offset rounds the coordinates (a float at 90 000 has a step of 1/128), which can
// flip a decision at the threshold. We instead group the score-sorted candidates by
// category (a stable sort by category, so each group stays in score order): each
// category is then a contiguous range of rows [row, row_end) and a row's mask words
// stop at its range's end, so 80 classes cost about 1/80 of one n-box NMS instead of
// the same. The kept rows are put back in score order (by their rank in the score
// sort) at the end. The result is torchvision's keep list wherever its offsets do
// not round (and its per-class "vanilla" path followed by a stable score sort
// everywhere).
//
// Top-k pre-selection: only the top_k first boxes of the sorted order take part.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/box_ops.h"
#include "kernels/device.h"
#include "kernels/host_device.h"

namespace wise::kernels {

inline constexpr int64_t kNmsWordBits = 64;
inline constexpr int64_t kNmsDefaultMaskBudgetBytes = int64_t{64} << 20;

// Word `word` of row `row` of the suppression mask over sorted boxes (padded to
// nms_words(n) * 64 rows; the padding is read, never used): bit b is set when box
// c = 64 word + b satisfies row < c < row_end and IoU(row, c) > iou_threshold.
// row_end is the end of the row's category group (n without categories).
WISE_HD inline uint64_t nms_suppression_word(const float* sorted_boxes, int64_t row,
                                             int64_t row_end, int64_t word,
                                             float iou_threshold) {
  // Branch-free over the 64 columns (the boxes are padded to a multiple of 64 rows,
  // and columns outside (row, row_end) are masked out), so the CPU compiler
  // vectorises the loop and GPU threads do not diverge.
  const float* box = sorted_boxes + 4 * row;
  const int64_t first = word * kNmsWordBits;
  uint64_t bits = 0;
  for (int64_t bit = 0; bit < kNmsWordBits; ++bit) {
    const int64_t column = first + bit;
    const bool candidate = (column > row) & (column < row_end);
    const bool overlaps = box_iou_pair(box, sorted_boxes + 4 * column) > iou_threshold;
    bits |= static_cast<uint64_t>(candidate & overlaps) << bit;
  }
  return bits;
}

// The float t with (float x > t) <=> ((double) x > iou_threshold) for every float x:
// torchvision compares its float IoU with a double threshold (0.3f > 0.3).
float nms_float_threshold(double iou_threshold);

// Boxes taking part: n, or top_k when 0 <= top_k < n.
inline int64_t nms_candidates(int64_t n, int64_t top_k) {
  return top_k >= 0 && top_k < n ? top_k : n;
}
inline int64_t nms_words(int64_t candidates) { return ceil_div(candidates, kNmsWordBits); }
// Rows per mask block: a multiple of 64, at least 64, within the budget where possible.
int64_t nms_block_rows(int64_t candidates, int64_t mask_budget_bytes);

// Scratch on the device of the call, for n boxes with `candidates` taking part.
struct NmsBuffers {
  float* sort_keys = nullptr;        // n
  int64_t* order = nullptr;          // n
  float* sorted_boxes = nullptr;     // nms_words(candidates) * 64 * 4 (padded)
  uint64_t* mask = nullptr;          // nms_block_rows(...) * nms_words(candidates)
  uint64_t* removed = nullptr;       // nms_words(candidates); CUDA only (CPU: may be null)
  // With categories only:
  int64_t* category_keys = nullptr;  // candidates: the categories, sorted to group them
  int64_t* ranks = nullptr;          // candidates: each grouped row's rank in the score sort
  int64_t* row_end = nullptr;        // candidates: the end of each row's category group
};

// Greedy NMS of boxes (n, 4) by scores (n); categories (n) or null (one class).
// Fills keep (host) with indices into the input, in keep order, and returns its size.
int64_t nms(Device device, const float* boxes, const float* scores, const int64_t* categories,
            int64_t n, double iou_threshold, int64_t top_k, int64_t mask_budget_bytes,
            const NmsBuffers& buffers, std::vector<int64_t>& keep);

}  // namespace wise::kernels
