// Detections to COCO results (see detection_results.h).
#include "train/detection_results.h"

#include "data/rle.h"
#include "kernels/check.h"
#include "models/detection/paste_masks.h"

namespace wise {

std::vector<data::Detection> coco_detections(const Detections& detections, const data::ImageInfo& info,
                                             const data::ImageGeometry& geometry,
                                             const std::vector<data::Category>& categories) {
  WISE_CHECK(!geometry.flipped, "coco_detections: image ", info.id, " was flipped; predict on unflipped images");
  const int64_t D = detections.labels.size(0);
  std::vector<data::Detection> results;
  if (D == 0) return results;
  // Boxes back to the original image (torchvision's resize_boxes: x by original / resized).
  std::vector<float> boxes = detections.boxes.to(Device::cpu).to_vector<float>();
  const float sx = 1.0f / geometry.scale_x(), sy = 1.0f / geometry.scale_y();
  for (int64_t d = 0; d < D; ++d) {
    boxes[static_cast<size_t>(4 * d)] *= sx;
    boxes[static_cast<size_t>(4 * d + 1)] *= sy;
    boxes[static_cast<size_t>(4 * d + 2)] *= sx;
    boxes[static_cast<size_t>(4 * d + 3)] *= sy;
  }
  Tensor pasted;
  paste_masks_in_image(detections.masks.to(Device::cpu), Tensor::from_vector<float>({D, 4}, boxes),
                       {info.height, info.width, 1, 0.5f}, pasted);
  const std::vector<int64_t> labels = detections.labels.to(Device::cpu).to_vector<int64_t>();
  const std::vector<float> scores = detections.scores.to(Device::cpu).to_vector<float>();
  const uint8_t* masks = pasted.data<uint8_t>();
  const int64_t K = static_cast<int64_t>(categories.size());
  for (int64_t d = 0; d < D; ++d) {
    const int64_t label = labels[static_cast<size_t>(d)];
    WISE_CHECK(label >= 1 && label <= K, "coco_detections: label ", label, " outside [1, ", K, "]");
    data::Detection detection;
    detection.image_id = info.id;
    detection.category_id = categories[static_cast<size_t>(label - 1)].id;
    detection.score = scores[static_cast<size_t>(d)];
    detection.segmentation = data::rle_encode(masks + d * info.height * info.width, info.height, info.width);
    const float* box = boxes.data() + 4 * d;
    detection.bbox = {box[0], box[1], static_cast<double>(box[2]) - box[0], static_cast<double>(box[3]) - box[1]};
    results.push_back(std::move(detection));
  }
  return results;
}

}  // namespace wise
