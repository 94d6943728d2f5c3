// Pasting RoI masks into the image (see paste_masks.h): shape, dtype and device checks
// around kernels/mask_ops.h.
#include "models/detection/paste_masks.h"

#include "kernels/mask_ops.h"
#include "nn/ensure.h"

namespace wise {

void paste_masks_in_image(const Tensor& masks, const Tensor& boxes,
                          const PasteMasksOptions& options, Tensor& output) {
  const Device device = masks.defined() ? masks.device() : Device::cpu;
  require_float_on(masks, device, "paste_masks_in_image: masks");
  require_float_on(boxes, device, "paste_masks_in_image: boxes");
  const Shape& s = masks.shape();
  WISE_CHECK(masks.rank() == 4 && s[1] == 1 && s[2] == s[3] && s[2] > 0 &&
                 masks.format() == MemoryFormat::plain,
             "paste_masks_in_image: masks must be (K, 1, M, M) plain with M > 0, got ",
             masks.describe());
  WISE_CHECK(boxes.shape() == Shape({s[0], 4}), "paste_masks_in_image: boxes must be [", s[0],
             ", 4] (one per mask), got ", boxes.describe());
  WISE_CHECK(options.image_height >= 0 && options.image_width >= 0 && options.padding >= 0,
             "paste_masks_in_image: image size and padding must be >= 0, got ",
             options.image_height, "x", options.image_width, " padding ", options.padding);
  ensure_tensor(output, {s[0], options.image_height, options.image_width}, DType::uint8, device);
  kernels::paste_masks_in_image(device, masks.data<float>(), boxes.data<float>(), s[0], s[2],
                                options.padding, options.image_height, options.image_width,
                                options.threshold, output.data<uint8_t>());
}

}  // namespace wise
