// Mask operations: pairwise mask IoU, masks -> boxes, pasting RoI masks into the image.
//
// Mask IoU (pycocotools' maskUtils.iou for iscrowd = 0; the one mask-IoU function of the
// project, used by evaluation, pseudo-mask selection and refinement alike):
//   IoU(a, b) = |a & b| / |a | b|,   |a | b| = |a| + |b| - |a & b|,
//   and 0 when both masks are empty (pycocotools gives 0 there too: it divides only
//   when the union is > 0).
// Representation, chosen for speed: each (H, W) mask is flattened row-major and
// bit-packed into ceil(H W / 64) uint64 words, pixel p in bit (p % 64) of word p / 64,
// the tail bits of the last word zero. A pair then costs H W / 64 AND + popcount
// instead of H W byte compares (64x less memory traffic), and the areas are
// precomputed once per mask. Any pixel != 0 is foreground. Packing rows separately
// would waste up to 63 bits per row for nothing: IoU does not care about rows.
//   pack: gather, one element per word. areas: one element per mask (in-order integer
//   sum). IoU: one element per (i, j) pair, integer counts, one double division rounded
//   to float: exact (the correctly rounded IoU), identical on every device and thread count.
//
// masks_to_boxes (torchvision.ops.masks_to_boxes): box (x1, y1, x2, y2) = the smallest
// and largest column and row indices of the mask's foreground pixels (x2, y2
// inclusive, as torchvision). An empty mask gives (0, 0, 0, 0) (torchvision errors on
// torch.min of an empty tensor). One element per mask, integer scans: exact.
//
// paste_masks_in_image (torchvision 0.14 roi_heads.paste_masks_in_image, with its
// expand_masks / expand_boxes / paste_mask_in_image; Mask R-CNN inference):
//   1. pad each M x M mask with `padding` zeros on every side: (M + 2p) x (M + 2p);
//   2. expand each box about its centre by scale = (M + 2p) / M (float(double ratio)),
//      in float as torch: w_half = (x2 - x1) * 0.5 * scale, x_c = (x2 + x1) * 0.5,
//      x1' = x_c - w_half, x2' = x_c + w_half (likewise y), then truncate toward zero
//      (torch's .to(int64)), so -0.7 -> 0;
//   3. bilinearly resize the padded mask to (h, w) = (y2' - y1' + 1, x2' - x1' + 1)
//      (F.interpolate, align_corners=False) and write it at rows y1'..y2', columns
//      x1'..x2' of a zero image, clipped to the image;
//   4. threshold: output = probability > threshold (0.5: torchvision's references).
// One element per output pixel (k, y, x) recomputes its box and its two bilinear taps
// per axis: a gather, deterministic. Source coordinates as torch's CPU kernel:
// src = float(double(in / out) (dst + 0.5) - 0.5), clamped at 0; weights w_hw =
// lambda_h lambda_w, value = w00 v00 + w01 v01 + w10 v10 + w11 v11 as an explicit fma
// chain (so CPU and GPU agree bitwise). The float result may differ from torch's by a
// few ulp (its vector kernel rounds in another order), which flips the threshold only
// for probabilities within ~1e-6 of it.
// A box whose expanded coordinates are not finite or beyond +-2^30 pastes nothing
// (torch's int64 cast of those is undefined).
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/device.h"
#include "kernels/host_device.h"

namespace wise::kernels {

// Words of a bit-packed mask of `pixels` pixels.
WISE_HD inline int64_t mask_words(int64_t pixels) { return ceil_div(pixels, 64); }

WISE_HD inline int64_t popcount64(uint64_t word) {
#if defined(__CUDA_ARCH__)
  return __popcll(word);
#else
  return __builtin_popcountll(word);
#endif
}

// Word `word` of a mask of `pixels` bytes: bit b = (mask[64 word + b] != 0).
WISE_HD inline uint64_t mask_pack_word(const uint8_t* mask, int64_t pixels, int64_t word) {
  const int64_t begin = word * 64;
  const int64_t end = min_of<int64_t>(begin + 64, pixels);
  uint64_t bits = 0;
  for (int64_t p = begin; p < end; ++p) {
    bits |= static_cast<uint64_t>(mask[p] != 0) << (p - begin);
  }
  return bits;
}

// |a & b| over `words` words.
WISE_HD inline int64_t mask_intersection(const uint64_t* a, const uint64_t* b, int64_t words) {
  int64_t count = 0;
  for (int64_t w = 0; w < words; ++w) count += popcount64(a[w] & b[w]);
  return count;
}

// IoU from counts; 0 when the union is empty (two empty masks), as pycocotools.
WISE_HD inline float mask_iou_from_counts(int64_t intersection, int64_t area_a, int64_t area_b) {
  const int64_t union_area = area_a + area_b - intersection;
  if (union_area <= 0) return 0.0f;
  return static_cast<float>(static_cast<double>(intersection) / static_cast<double>(union_area));
}

// ---- paste_masks_in_image geometry --------------------------------------------------

// The integer box a mask is pasted into, inclusive corners (step 2 above).
struct PasteBox {
  int64_t x1, y1, x2, y2;
  bool valid;  // false: not finite or out of range, pastes nothing
};

WISE_HD inline bool paste_coordinate_in_range(float value) {
  return value > -1073741824.0f && value < 1073741824.0f;  // false for NaN
}

WISE_HD inline PasteBox paste_box(const float* box, float scale) {
  const float w_half = product_rounded((box[2] - box[0]) * 0.5f, scale);
  const float h_half = product_rounded((box[3] - box[1]) * 0.5f, scale);
  const float x_c = (box[2] + box[0]) * 0.5f;
  const float y_c = (box[3] + box[1]) * 0.5f;
  const float x1 = x_c - w_half, x2 = x_c + w_half, y1 = y_c - h_half, y2 = y_c + h_half;
  PasteBox out{0, 0, -1, -1, false};
  if (!(paste_coordinate_in_range(x1) && paste_coordinate_in_range(x2) &&
        paste_coordinate_in_range(y1) && paste_coordinate_in_range(y2))) {
    return out;
  }
  // static_cast truncates toward zero, as torch's .to(torch.int64).
  out = {static_cast<int64_t>(x1), static_cast<int64_t>(y1), static_cast<int64_t>(x2),
         static_cast<int64_t>(y2), true};
  return out;
}

// One axis of F.interpolate(align_corners=False) from `in` to `out` samples, as torch's
// CPU kernel: float scale, source index from a double expression rounded to float.
struct PasteTaps {
  int64_t index0, index1;
  float lambda0, lambda1;
};

WISE_HD inline PasteTaps paste_taps(int64_t dst, int64_t in, int64_t out) {
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  float src = static_cast<float>(fma(static_cast<double>(scale), static_cast<double>(dst) + 0.5,
                                     -0.5));
  src = src < 0.0f ? 0.0f : src;
  const int64_t index0 = min_of<int64_t>(static_cast<int64_t>(src), in - 1);
  const float lambda1 = clamp_to(src - static_cast<float>(index0), 0.0f, 1.0f);
  return {index0, index0 < in - 1 ? index0 + 1 : index0, 1.0f - lambda1, lambda1};
}

// The pasted probability at image pixel (y, x) of the M x M mask `mask` for `box`
// (already expanded), with `padding` zero pixels around the mask; 0 outside the box.
WISE_HD inline float paste_mask_value(const float* mask, int64_t M, int64_t padding,
                                      const PasteBox& box, int64_t y, int64_t x) {
  if (!box.valid || y < box.y1 || y > box.y2 || x < box.x1 || x > box.x2) return 0.0f;
  const int64_t padded = M + 2 * padding;
  const PasteTaps th = paste_taps(y - box.y1, padded, box.y2 - box.y1 + 1);
  const PasteTaps tw = paste_taps(x - box.x1, padded, box.x2 - box.x1 + 1);
  // The padded mask's value: zero in the border.
  auto value = [&](int64_t row, int64_t column) {
    row -= padding;
    column -= padding;
    return row < 0 || row >= M || column < 0 || column >= M ? 0.0f : mask[row * M + column];
  };
  const float w00 = th.lambda0 * tw.lambda0, w01 = th.lambda0 * tw.lambda1;
  const float w10 = th.lambda1 * tw.lambda0, w11 = th.lambda1 * tw.lambda1;
  // fma spelled out, so the CPU (g++ -march) and the GPU (nvcc) round identically.
  float sum = w00 * value(th.index0, tw.index0);
  sum = fmaf(w01, value(th.index0, tw.index1), sum);
  sum = fmaf(w10, value(th.index1, tw.index0), sum);
  return fmaf(w11, value(th.index1, tw.index1), sum);
}

// The float scale torchvision's expand_masks uses: float((M + 2 padding) / M).
inline float paste_scale(int64_t M, int64_t padding) {
  return static_cast<float>(static_cast<double>(M + 2 * padding) / static_cast<double>(M));
}

// ---- launchers ------------------------------------------------------------------------

// masks (N, pixels) uint8 -> packed (N, mask_words(pixels)) bits, areas (N) foreground counts.
void pack_masks(Device device, const uint8_t* masks, int64_t N, int64_t pixels, uint64_t* packed,
                int64_t* areas);

// iou (n, m) of packed masks a (n, words) and b (m, words) with their areas.
void mask_iou(Device device, const uint64_t* packed_a, const int64_t* areas_a, int64_t n,
              const uint64_t* packed_b, const int64_t* areas_b, int64_t m, int64_t words,
              float* iou);

// boxes (N, 4) float (x1, y1, x2, y2) of masks (N, H, W) uint8; empty mask -> zeros.
void masks_to_boxes(Device device, const uint8_t* masks, int64_t N, int64_t H, int64_t W,
                    float* boxes);

// output (K, H, W) uint8 = paste of masks (K, M, M) for boxes (K, 4), thresholded.
void paste_masks_in_image(Device device, const float* masks, const float* boxes, int64_t K,
                          int64_t M, int64_t padding, int64_t H, int64_t W, float threshold,
                          uint8_t* output);

}  // namespace wise::kernels
