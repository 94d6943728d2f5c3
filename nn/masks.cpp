// Mask operations (see masks.h): shape, dtype and device checks around kernels/mask_ops.h.
#include "nn/masks.h"

#include "kernels/mask_ops.h"
#include "nn/ensure.h"

namespace wise {

namespace {

void require_masks(const Tensor& masks, const char* what) {
  WISE_CHECK(masks.defined(), what, " is undefined");
  WISE_CHECK(masks.dtype() == DType::uint8 && masks.rank() == 3 &&
                 masks.format() == MemoryFormat::plain,
             what, " must be uint8 (N, H, W), got ", masks.describe());
}

void require_packed(const Tensor& packed, const Tensor& areas, Device device, const char* what) {
  WISE_CHECK(packed.defined() && areas.defined(), what, ": packed masks or areas undefined");
  WISE_CHECK(packed.dtype() == DType::int64 && packed.rank() == 2 && packed.device() == device,
             what, ": packed masks must be int64 (N, words) on ", kernels::device_name(device),
             ", got ", packed.describe());
  WISE_CHECK(areas.dtype() == DType::int64 && areas.shape() == Shape({packed.size(0)}) &&
                 areas.device() == device,
             what, ": areas must be int64 [", packed.size(0), "] on ",
             kernels::device_name(device), ", got ", areas.describe());
}

const uint64_t* words_of(const Tensor& packed) {
  // int64 storage read as uint64: the bits are the same, popcount wants unsigned.
  return reinterpret_cast<const uint64_t*>(packed.data<int64_t>());
}

}  // namespace

void pack_masks(const Tensor& masks, Tensor& packed, Tensor& areas) {
  require_masks(masks, "pack_masks: masks");
  const int64_t N = masks.size(0), pixels = masks.size(1) * masks.size(2);
  ensure_tensor(packed, {N, kernels::mask_words(pixels)}, DType::int64, masks.device());
  ensure_tensor(areas, {N}, DType::int64, masks.device());
  kernels::pack_masks(masks.device(), masks.data<uint8_t>(), N, pixels,
                      reinterpret_cast<uint64_t*>(packed.data<int64_t>()),
                      areas.data<int64_t>());
}

void mask_iou_packed(const Tensor& packed_a, const Tensor& areas_a, const Tensor& packed_b,
                     const Tensor& areas_b, Tensor& iou) {
  const Device device = packed_a.defined() ? packed_a.device() : Device::cpu;
  require_packed(packed_a, areas_a, device, "mask_iou_packed: a");
  require_packed(packed_b, areas_b, device, "mask_iou_packed: b");
  WISE_CHECK(packed_a.size(1) == packed_b.size(1),
             "mask_iou_packed: a and b must have the same words per mask (same H x W), got ",
             packed_a.describe(), " and ", packed_b.describe());
  const int64_t n = packed_a.size(0), m = packed_b.size(0);
  ensure_tensor(iou, {n, m}, DType::float32, device);
  kernels::mask_iou(device, words_of(packed_a), areas_a.data<int64_t>(), n, words_of(packed_b),
                    areas_b.data<int64_t>(), m, packed_a.size(1), iou.data<float>());
}

void mask_iou(const Tensor& masks_a, const Tensor& masks_b, Tensor& iou) {
  require_masks(masks_a, "mask_iou: masks_a");
  require_masks(masks_b, "mask_iou: masks_b");
  WISE_CHECK(masks_a.device() == masks_b.device(), "mask_iou: masks_a and masks_b must be on "
             "one device, got ", masks_a.describe(), " and ", masks_b.describe());
  WISE_CHECK(masks_a.size(1) == masks_b.size(1) && masks_a.size(2) == masks_b.size(2),
             "mask_iou: masks_a and masks_b must have the same H x W, got ", masks_a.describe(),
             " and ", masks_b.describe());
  Tensor packed_a, areas_a, packed_b, areas_b;
  pack_masks(masks_a, packed_a, areas_a);
  pack_masks(masks_b, packed_b, areas_b);
  mask_iou_packed(packed_a, areas_a, packed_b, areas_b, iou);
}

void masks_to_boxes(const Tensor& masks, Tensor& boxes) {
  require_masks(masks, "masks_to_boxes: masks");
  const Shape& s = masks.shape();
  ensure_tensor(boxes, {s[0], 4}, DType::float32, masks.device());
  kernels::masks_to_boxes(masks.device(), masks.data<uint8_t>(), s[0], s[1], s[2],
                          boxes.data<float>());
}

}  // namespace wise
