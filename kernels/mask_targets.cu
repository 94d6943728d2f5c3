// Mask-head target kernels (see mask_targets.h): one source for CPU and CUDA.
#include "kernels/mask_targets.h"

#include "kernels/launch.h"

namespace wise::kernels {

void mask_target_rois(Device device, const float* boxes, const int64_t* matched_idxs, int64_t K,
                      int64_t G, float* rois) {
  parallel_for(device, K, [=] WISE_HD(int64_t k) {
    const int64_t index = matched_idxs[k];
    float* roi = rois + 5 * k;
    roi[0] = index >= 0 && index < G ? static_cast<float>(index) : -1.0f;
    for (int64_t j = 0; j < 4; ++j) roi[1 + j] = boxes[4 * k + j];
  });
}

void masks_to_float(Device device, const uint8_t* masks, float* out, int64_t n) {
  parallel_for(device, n, [=] WISE_HD(int64_t i) { out[i] = static_cast<float>(masks[i]); });
}

}  // namespace wise::kernels
