// Box operations (see box_ops.h): the launches. One source for CPU and CUDA.
#include "kernels/box_ops.h"

#include "kernels/launch.h"
#include "kernels/memory.h"
#include "kernels/sort.h"

namespace wise::kernels {

void box_iou_matrix(Device device, const float* boxes1, int64_t n, const float* boxes2, int64_t m,
                    float* iou) {
  if (m <= 0) return;
  parallel_for(device, n * m, [=] WISE_HD(int64_t index) {
    box_iou_matrix_element(index, boxes1, boxes2, m, iou);
  }, 16);
}

void box_encode(Device device, const float* reference_boxes, const float* proposals, int64_t n,
                BoxCoderWeights weights, float* targets) {
  parallel_for(device, n, [=] WISE_HD(int64_t index) {
    box_encode_element(index, reference_boxes, proposals, weights, targets);
  }, 16);
}

void box_decode(Device device, const float* rel_codes, const float* boxes, int64_t n,
                int64_t num_classes, BoxCoderWeights weights, float bbox_xform_clip,
                float* pred_boxes) {
  if (num_classes <= 0) return;
  parallel_for(device, n * num_classes, [=] WISE_HD(int64_t index) {
    box_decode_element(index, rel_codes, boxes, num_classes, weights, bbox_xform_clip, pred_boxes);
  }, 16);
}

void clip_boxes_to_image(Device device, const float* boxes, int64_t n, float height, float width,
                         float* clipped) {
  parallel_for(device, 4 * n, [=] WISE_HD(int64_t index) {
    clip_boxes_to_image_element(index, boxes, height, width, clipped);
  });
}

int64_t remove_small_boxes(Device device, const float* boxes, int64_t n, float min_size,
                           int64_t* workspace, int64_t* keep) {
  if (n <= 0) return 0;
  // Stream compaction: flags, their inclusive scan (the 1-based output slot of each
  // kept box), then each kept box writes its own slot. Disjoint writes, ascending order.
  parallel_for(device, n, [=] WISE_HD(int64_t i) {
    workspace[i] = box_is_large_enough(boxes + 4 * i, min_size);
  });
  inclusive_scan(device, workspace, workspace, n);
  parallel_for(device, n, [=] WISE_HD(int64_t i) {
    const int64_t before = i == 0 ? 0 : workspace[i - 1];
    if (workspace[i] != before) keep[before] = i;
  });
  int64_t count = 0;
  copy_bytes(&count, Device::cpu, workspace + n - 1, device, sizeof(int64_t));
  return count;
}

}  // namespace wise::kernels
