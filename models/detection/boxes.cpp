// Box operations and NMS (see boxes.h): shape, dtype and device checks around
// kernels/box_ops.h and kernels/nms.h.
#include "models/detection/boxes.h"

#include <vector>

#include "kernels/box_ops.h"
#include "kernels/memory.h"
#include "nn/ensure.h"

namespace wise {

namespace {

void require_boxes(const Tensor& boxes, Device device, const char* what) {
  require_float_on(boxes, device, what);
  WISE_CHECK(boxes.rank() == 2 && boxes.size(1) == 4, what,
             " must have shape [N, 4] (x1, y1, x2, y2), got ", boxes.describe());
}

void require_vector(const Tensor& tensor, DType dtype, Device device, int64_t n, const char* what) {
  WISE_CHECK(tensor.defined(), what, " is undefined");
  WISE_CHECK(tensor.dtype() == dtype && tensor.device() == device && tensor.rank() == 1 &&
                 tensor.size(0) == n,
             what, " must be ", dtype_name(dtype), "[", n, "] on ", kernels::device_name(device),
             " (one per box), got ", tensor.describe());
}

// Writes the host keep list into `keep` on `device`.
void store_keep(const std::vector<int64_t>& list, Device device, Tensor& keep) {
  const int64_t count = static_cast<int64_t>(list.size());
  ensure_tensor(keep, {count}, DType::int64, device);
  if (count > 0) {
    kernels::copy_bytes(keep.data<int64_t>(), device, list.data(), Device::cpu,
                        sizeof(int64_t) * list.size());
  }
}

void run_nms(const char* name, const Tensor& boxes, const Tensor& scores, const Tensor* idxs,
             const NmsOptions& options, Tensor& keep) {
  const Device device = boxes.device();
  const std::string prefix = std::string(name) + ": ";
  require_boxes(boxes, device, (prefix + "boxes").c_str());
  const int64_t n = boxes.size(0);
  require_vector(scores, DType::float32, device, n, (prefix + "scores").c_str());
  if (idxs != nullptr) require_vector(*idxs, DType::int64, device, n, (prefix + "idxs").c_str());
  WISE_CHECK(options.mask_budget_bytes > 0, name, ": mask_budget_bytes must be > 0, got ",
             options.mask_budget_bytes);

  const int64_t candidates = kernels::nms_candidates(n, options.top_k);
  const int64_t words = kernels::nms_words(candidates);
  const int64_t block_rows = kernels::nms_block_rows(candidates, options.mask_budget_bytes);
  std::vector<int64_t> list;
  if (candidates > 0) {
    // Scratch from the caching allocator; the mask words are stored as int64.
    Tensor sort_keys = Tensor::empty({n}, DType::float32, device);
    Tensor order = Tensor::empty({n}, DType::int64, device);
    const int64_t padded = words * kernels::kNmsWordBits;
    Tensor sorted_boxes = Tensor::empty({padded, 4}, DType::float32, device);
    Tensor category_keys, ranks, row_end;
    if (idxs != nullptr) {
      category_keys = Tensor::empty({candidates}, DType::int64, device);
      ranks = Tensor::empty({candidates}, DType::int64, device);
      row_end = Tensor::empty({candidates}, DType::int64, device);
    }
    Tensor mask = Tensor::empty({block_rows * words}, DType::int64, device);
    Tensor removed = Tensor::empty({words}, DType::int64, device);
    kernels::NmsBuffers buffers;
    buffers.sort_keys = sort_keys.data<float>();
    buffers.order = order.data<int64_t>();
    buffers.sorted_boxes = sorted_boxes.data<float>();
    if (idxs != nullptr) {
      buffers.category_keys = category_keys.data<int64_t>();
      buffers.ranks = ranks.data<int64_t>();
      buffers.row_end = row_end.data<int64_t>();
    }
    buffers.mask = static_cast<uint64_t*>(mask.raw_data());
    buffers.removed = static_cast<uint64_t*>(removed.raw_data());
    kernels::nms(device, boxes.data<float>(), scores.data<float>(),
                 idxs != nullptr ? idxs->data<int64_t>() : nullptr, n, options.iou_threshold,
                 options.top_k, options.mask_budget_bytes, buffers, list);
  }
  store_keep(list, device, keep);
}

}  // namespace

void box_iou(const Tensor& boxes1, const Tensor& boxes2, Tensor& iou) {
  const Device device = boxes1.device();
  require_boxes(boxes1, device, "box_iou: boxes1");
  require_boxes(boxes2, device, "box_iou: boxes2");
  const int64_t n = boxes1.size(0), m = boxes2.size(0);
  ensure_tensor(iou, {n, m}, DType::float32, device);
  kernels::box_iou_matrix(device, boxes1.data<float>(), n, boxes2.data<float>(), m,
                          iou.data<float>());
}

void box_encode(const Tensor& reference_boxes, const Tensor& proposals,
                const BoxCoderOptions& options, Tensor& targets) {
  const Device device = proposals.device();
  require_boxes(reference_boxes, device, "box_encode: reference_boxes");
  require_boxes(proposals, device, "box_encode: proposals");
  WISE_CHECK(reference_boxes.size(0) == proposals.size(0),
             "box_encode: reference_boxes and proposals must have the same number of rows, got ",
             reference_boxes.describe(), " and ", proposals.describe());
  const int64_t n = proposals.size(0);
  ensure_tensor(targets, {n, 4}, DType::float32, device);
  kernels::box_encode(device, reference_boxes.data<float>(), proposals.data<float>(), n,
                      options.weights, targets.data<float>());
}

void box_decode(const Tensor& rel_codes, const Tensor& boxes, const BoxCoderOptions& options,
                Tensor& pred_boxes) {
  const Device device = boxes.device();
  require_boxes(boxes, device, "box_decode: boxes");
  require_float_on(rel_codes, device, "box_decode: rel_codes");
  const int64_t n = boxes.size(0);
  WISE_CHECK(rel_codes.rank() == 2 && rel_codes.size(0) == n && rel_codes.size(1) % 4 == 0 &&
                 rel_codes.size(1) > 0,
             "box_decode: rel_codes must have shape [", n, ", 4K] (boxes has ", n,
             " rows), got ", rel_codes.describe());
  const int64_t num_classes = rel_codes.size(1) / 4;
  ensure_tensor(pred_boxes, rel_codes.shape(), DType::float32, device);
  kernels::box_decode(device, rel_codes.data<float>(), boxes.data<float>(), n, num_classes,
                      options.weights, options.bbox_xform_clip, pred_boxes.data<float>());
}

void clip_boxes_to_image(const Tensor& boxes, int64_t height, int64_t width, Tensor& clipped) {
  const Device device = boxes.device();
  require_boxes(boxes, device, "clip_boxes_to_image: boxes");
  WISE_CHECK(height >= 0 && width >= 0, "clip_boxes_to_image: image size must be >= 0, got (",
             height, ", ", width, ")");
  const int64_t n = boxes.size(0);
  if (!clipped.defined() || clipped.raw_data() != boxes.raw_data()) {
    ensure_tensor(clipped, {n, 4}, DType::float32, device);
  }
  kernels::clip_boxes_to_image(device, boxes.data<float>(), n, static_cast<float>(height),
                               static_cast<float>(width), clipped.data<float>());
}

void remove_small_boxes(const Tensor& boxes, float min_size, Tensor& keep) {
  const Device device = boxes.device();
  require_boxes(boxes, device, "remove_small_boxes: boxes");
  const int64_t n = boxes.size(0);
  if (n == 0) {
    ensure_tensor(keep, {0}, DType::int64, device);
    return;
  }
  Tensor workspace = Tensor::empty({n}, DType::int64, device);
  Tensor all = Tensor::empty({n}, DType::int64, device);
  const int64_t count = kernels::remove_small_boxes(device, boxes.data<float>(), n, min_size,
                                                    workspace.data<int64_t>(), all.data<int64_t>());
  ensure_tensor(keep, {count}, DType::int64, device);
  if (count > 0) {
    kernels::copy_bytes(keep.data<int64_t>(), device, all.data<int64_t>(), device,
                        sizeof(int64_t) * static_cast<size_t>(count));
  }
}

void nms(const Tensor& boxes, const Tensor& scores, const NmsOptions& options, Tensor& keep) {
  run_nms("nms", boxes, scores, nullptr, options, keep);
}

void batched_nms(const Tensor& boxes, const Tensor& scores, const Tensor& idxs,
                 const NmsOptions& options, Tensor& keep) {
  run_nms("batched_nms", boxes, scores, &idxs, options, keep);
}

}  // namespace wise
