// A binary mask as bits in COCO's pixel order: pixel (y, x) is bit p % 64 of word p / 64
// with p = x * height + y (column-major, as data/rle.h's runs), the last word's tail zero.
//
// Why this layout: selective search unions region masks once per merge (an OR over
// H W / 64 words), the proposals leave as COCO RLE (runs in column-major order), and
// mask IoU goes through nn/masks.h's packed kernel, whose words hold bit p % 64 of word
// p / 64 for some pixel order p. IoU does not depend on which order, so masks packed
// here column-major are handed to mask_iou_packed as they are (masks_to_packed_tensor),
// and converting to and from RLE is a walk over runs instead of a transpose of pixels.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "data/rle.h"
#include "nn/tensor.h"

namespace wise::proposals {

struct PackedMask {
  int64_t height = 0;
  int64_t width = 0;
  std::vector<uint64_t> words;  // ceil(height * width / 64)
};

int64_t packed_words(int64_t height, int64_t width);
PackedMask packed_empty(int64_t height, int64_t width);

inline void packed_set(PackedMask& mask, int64_t y, int64_t x) {
  const int64_t p = x * mask.height + y;
  mask.words[p >> 6] |= uint64_t{1} << (p & 63);
}

// target |= source (same size; checked).
void packed_or(PackedMask& target, const PackedMask& source);
int64_t packed_area(const PackedMask& mask);

// The RLE's runs written as bits, and back; packed_to_rle(packed_from_rle(r)) == r for
// every valid r.
PackedMask packed_from_rle(const data::Rle& rle);
data::Rle packed_to_rle(const PackedMask& mask);

// n masks of one size -> packed (n, words) int64 and areas (n) int64 on the CPU, the
// operands of nn/masks.h's mask_iou_packed. Throws wise::Error naming the first mask
// whose size differs.
void masks_to_packed_tensor(const std::vector<PackedMask>& masks, Tensor& packed, Tensor& areas);

}  // namespace wise::proposals
