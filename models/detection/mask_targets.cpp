// Mask-head targets (see mask_targets.h): checks, the two conversions of
// kernels/mask_targets.h, then RoIAlign (kernels/roi_align.h) on the float masks.
#include "models/detection/mask_targets.h"

#include "kernels/mask_targets.h"
#include "kernels/roi_align.h"
#include "nn/ensure.h"

namespace wise {

namespace {

constexpr const char* kOp = "project_masks_on_boxes";

void check_inputs(const Tensor& gt_masks, const Tensor& boxes, const Tensor& matched_idxs,
                  int64_t M) {
  WISE_CHECK(gt_masks.defined(), kOp, ": gt_masks is undefined");
  WISE_CHECK(gt_masks.dtype() == DType::uint8 && gt_masks.rank() == 3 &&
                 gt_masks.format() == MemoryFormat::plain,
             kOp, ": gt_masks must be uint8 (G, H, W), got ", gt_masks.describe());
  WISE_CHECK(gt_masks.size(1) > 0 && gt_masks.size(2) > 0, kOp,
             ": gt_masks must have H, W > 0, got ", gt_masks.describe());
  const Device device = gt_masks.device();
  require_float_on(boxes, device, "project_masks_on_boxes: boxes");
  WISE_CHECK(boxes.rank() == 2 && boxes.size(1) == 4, kOp,
             ": boxes must have shape [K, 4] (x1, y1, x2, y2), got ", boxes.describe());
  const int64_t K = boxes.size(0);
  WISE_CHECK(matched_idxs.defined(), kOp, ": matched_idxs is undefined");
  WISE_CHECK(matched_idxs.dtype() == DType::int64 && matched_idxs.device() == device &&
                 matched_idxs.shape() == Shape({K}),
             kOp, ": matched_idxs must be int64 [", K, "] (one per box) on ",
             kernels::device_name(device), ", got ", matched_idxs.describe());
  WISE_CHECK(M > 0, kOp, ": M (the target size) must be > 0, got ", M);
  // The range check needs the values on the host: done where they already are (see the
  // header for the GPU).
  if (device == Device::cpu) {
    const int64_t G = gt_masks.size(0);
    const int64_t* values = matched_idxs.data<int64_t>();
    for (int64_t k = 0; k < K; ++k) {
      WISE_CHECK(values[k] >= 0 && values[k] < G, kOp, ": matched_idxs[", k, "] = ", values[k],
                 " is out of range [0, ", G, ") for gt_masks ", gt_masks.describe());
    }
  }
}

}  // namespace

void project_masks_on_boxes(const Tensor& gt_masks, const Tensor& boxes,
                            const Tensor& matched_idxs, int64_t M, Tensor& targets) {
  check_inputs(gt_masks, boxes, matched_idxs, M);
  const Device device = gt_masks.device();
  const int64_t G = gt_masks.size(0), H = gt_masks.size(1), W = gt_masks.size(2);
  const int64_t K = boxes.size(0);
  ensure_tensor(targets, {K, M, M}, DType::float32, device);
  if (K == 0) return;
  // Scratch from the caching allocator: the masks as a (G, 1, H, W) float feature map and
  // the (K, 5) rois whose batch index is the matched gt.
  Tensor masks = Tensor::empty({G, 1, H, W}, DType::float32, device);
  Tensor rois = Tensor::empty({K, 5}, DType::float32, device);
  kernels::masks_to_float(device, gt_masks.data<uint8_t>(), masks.data<float>(), G * H * W);
  kernels::mask_target_rois(device, boxes.data<float>(), matched_idxs.data<int64_t>(), K, G,
                            rois.data<float>());
  kernels::RoiAlignLevels<const float*> levels;
  levels.level[0] = {masks.data<float>(), H, W, 1.0f};
  const kernels::RoiAlignParameters parameters{M, M, /*sampling_ratio=*/-1, /*aligned=*/false};
  kernels::roi_align_forward(device, levels, G, 1, rois.data<float>(), K, parameters,
                             targets.data<float>());
}

}  // namespace wise
