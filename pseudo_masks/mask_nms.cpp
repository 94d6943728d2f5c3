#include "pseudo_masks/mask_nms.h"

#include <stdexcept>
#include <string>

#include "nn/masks.h"
#include "nn/tensor.h"
#include "proposals/packed_mask.h"

namespace wise::pseudo_masks {

std::vector<size_t> greedy_mask_nms(const std::vector<const data::Rle*>& ranked, double threshold) {
  if (ranked.empty()) return {};
  std::vector<proposals::PackedMask> masks;
  masks.reserve(ranked.size());
  for (const data::Rle* mask : ranked) {
    if (mask->height != ranked[0]->height || mask->width != ranked[0]->width) {
      throw std::invalid_argument("greedy_mask_nms: masks of " + std::to_string(ranked[0]->height) + " x " +
                                  std::to_string(ranked[0]->width) + " and " + std::to_string(mask->height) +
                                  " x " + std::to_string(mask->width));
    }
    masks.push_back(proposals::packed_from_rle(*mask));
  }
  Tensor packed, areas, iou;
  proposals::masks_to_packed_tensor(masks, packed, areas);
  mask_iou_packed(packed, areas, packed, areas, iou);
  const float* overlap = iou.data<float>();
  const size_t n = ranked.size();
  std::vector<size_t> kept;
  for (size_t i = 0; i < n; ++i) {
    bool keep = true;
    for (const size_t j : kept) keep = keep && static_cast<double>(overlap[i * n + j]) < threshold;
    if (keep) kept.push_back(i);
  }
  return kept;
}

}  // namespace wise::pseudo_masks
