// A Mask R-CNN's detections of one image as COCO results: torchvision's
// GeneralizedRCNNTransform.postprocess (boxes from the network's resized image back to the
// original) and paste_masks_in_image (each 28 x 28 mask probability map pasted into its
// box at the original size, thresholded at 0.5), then RLE. What validation during
// training, `segment` and the pipeline's evaluation write and score.
#pragma once

#include <vector>

#include "data/dataset.h"
#include "data/transforms.h"
#include "models/detection/roi_heads.h"

namespace wise {

// detections (on any device) of the image `info`, which reached the network with
// `geometry` (data/transforms.h; a flipped image is an error: predictions are made on
// unflipped images); labels l >= 1 are categories[l - 1]. Detections whose pasted mask
// is empty are kept (a COCO result may have an empty mask; it matches nothing).
std::vector<data::Detection> coco_detections(const Detections& detections, const data::ImageInfo& info,
                                             const data::ImageGeometry& geometry,
                                             const std::vector<data::Category>& categories);

}  // namespace wise
