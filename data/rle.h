// Run-length encoded binary masks, exactly as COCO's pycocotools encodes them.
//
// A mask of height x width is flattened column-major (Fortran order: down the first
// column, then the second, ...) and stored as alternating run lengths that always start
// with a run of zeros (a mask whose first pixel is 1 starts with a 0-length run). COCO
// JSON writes the runs either as a list of integers ("uncompressed RLE") or as the
// compressed string form described at rle_to_string. Our own images are row-major, so
// the encode/decode functions take row-major pixel buffers and do the transposition.
//
// RLE is the interchange form of masks between wise's stages (pseudo masks, predictions,
// ground truth): compact for mostly-empty masks and cheap to compare. Dense bitmaps are
// made with rle_decode when a kernel (mask IoU, RoIAlign of targets) needs pixels.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace wise::data {

struct Rle {
  int64_t height = 0;
  int64_t width = 0;
  std::vector<uint32_t> counts;  // alternating runs, zeros first; they sum to height * width
};

// mask: height * width bytes, row-major, any non-zero byte is foreground.
Rle rle_encode(const uint8_t* mask, int64_t height, int64_t width);
Rle rle_encode(const std::vector<uint8_t>& mask, int64_t height, int64_t width);
// An all-zero mask of the given size.
Rle rle_empty(int64_t height, int64_t width);

// Writes height * width bytes (0 or 1), row-major. Throws if the runs do not sum to
// height * width.
void rle_decode(const Rle& rle, uint8_t* mask);
std::vector<uint8_t> rle_decode(const Rle& rle);

// The mask as bits in the runs' own (column-major) order: pixel p = x * height + y is bit
// p % 64 of words[p / 64]; writes all ceil(height * width / 64) words, the last word's
// tail zero, and returns the foreground count. A walk over runs, whole words at a time:
// no transpose, so mask IoU (nn/masks.h, which any one pixel order serves) reads RLE
// masks for the cost of their runs rather than of their pixels. Throws as rle_decode.
uint64_t rle_to_bits(const Rle& rle, uint64_t* words);

// Foreground pixel count (pycocotools' maskUtils.area).
uint64_t rle_area(const Rle& rle);
// Tight box [x, y, w, h] of the foreground in pixels, pycocotools' maskUtils.toBbox
// ([0, 0, 0, 0] for an empty mask).
std::array<double, 4> rle_to_bbox(const Rle& rle);

// pycocotools' compressed string (rleToString): for run i, x = counts[i], minus
// counts[i - 2] when i > 2; x is written in 5-bit groups, low bits first, each group
// + 48 as a character, 0x20 set on every group but the last, whose 0x10 bit is the
// sign. rle_from_string is its inverse and checks that the runs sum to height * width,
// naming `what` (e.g. "annotation 17 segmentation") in the error otherwise.
std::string rle_to_string(const Rle& rle);
Rle rle_from_string(const std::string& counts, int64_t height, int64_t width,
                    const std::string& what = "RLE");

// Checks that the runs sum to height * width; throws naming `what` otherwise.
void rle_check(const Rle& rle, const std::string& what = "RLE");

}  // namespace wise::data
