// Mask operations (see mask_ops.h). One source for CPU and CUDA; every element writes
// only its own output, so results do not depend on the device or the thread count.
#include "kernels/mask_ops.h"

#include <cstring>

#include "kernels/launch.h"

namespace wise::kernels {

void pack_masks(Device device, const uint8_t* masks, int64_t N, int64_t pixels, uint64_t* packed,
                int64_t* areas) {
  const int64_t words = mask_words(pixels);
  parallel_for(device, N * words, [=] WISE_HD(int64_t index) {
    const int64_t n = index / words, word = index % words;
    packed[index] = mask_pack_word(masks + n * pixels, pixels, word);
  }, 64);
  // A second pass: areas read the words the first wrote (launches run in order).
  parallel_for(device, N, [=] WISE_HD(int64_t n) {
    const uint64_t* mask = packed + n * words;
    int64_t area = 0;
    for (int64_t w = 0; w < words; ++w) area += popcount64(mask[w]);
    areas[n] = area;
  }, words);
}

void mask_iou(Device device, const uint64_t* packed_a, const int64_t* areas_a, int64_t n,
              const uint64_t* packed_b, const int64_t* areas_b, int64_t m, int64_t words,
              float* iou) {
  parallel_for(device, n * m, [=] WISE_HD(int64_t index) {
    const int64_t i = index / m, j = index % m;
    const int64_t intersection = mask_intersection(packed_a + i * words, packed_b + j * words, words);
    iou[index] = mask_iou_from_counts(intersection, areas_a[i], areas_b[j]);
  }, words);
}

void masks_to_boxes(Device device, const uint8_t* masks, int64_t N, int64_t H, int64_t W,
                    float* boxes) {
  parallel_for(device, N, [=] WISE_HD(int64_t n) {
    const uint8_t* mask = masks + n * H * W;
    // Rows and columns scanned once; an empty mask keeps x1 > x2 and gives zeros.
    int64_t x1 = W, y1 = H, x2 = -1, y2 = -1;
    for (int64_t y = 0; y < H; ++y) {
      const uint8_t* row = mask + y * W;
      int64_t first = -1, last = -1;
      for (int64_t x = 0; x < W; ++x) {
        if (row[x] != 0) {
          if (first < 0) first = x;
          last = x;
        }
      }
      if (first < 0) continue;
      if (y1 == H) y1 = y;
      y2 = y;
      x1 = min_of(x1, first);
      x2 = max_of(x2, last);
    }
    float* box = boxes + n * 4;
    const bool empty = x2 < 0;
    box[0] = empty ? 0.0f : static_cast<float>(x1);
    box[1] = empty ? 0.0f : static_cast<float>(y1);
    box[2] = empty ? 0.0f : static_cast<float>(x2);
    box[3] = empty ? 0.0f : static_cast<float>(y2);
  }, H * W);
}

void paste_masks_in_image(Device device, const float* masks, const float* boxes, int64_t K,
                          int64_t M, int64_t padding, int64_t H, int64_t W, float threshold,
                          uint8_t* output) {
  const float scale = paste_scale(M, padding);
  if (device == Device::cuda) {
    parallel_for(device, K * H * W, [=] WISE_HD(int64_t index) {
      const int64_t k = index / (H * W), y = (index / W) % H, x = index % W;
      const PasteBox box = paste_box(boxes + k * 4, scale);
      const float probability = paste_mask_value(masks + k * M * M, M, padding, box, y, x);
      output[index] = probability > threshold ? 1 : 0;
    });
    return;
  }
  // CPU: one element per output row. The box is computed once per row, the pixels
  // outside it are zero-filled, and only the box's columns are interpolated, with
  // the same paste_mask_value as the GPU path (the same bits).
  cpu::parallel_for(
      K * H,
      [=](int64_t row_index) {
        const int64_t k = row_index / H, y = row_index % H;
        uint8_t* row = output + row_index * W;
        const PasteBox box = paste_box(boxes + k * 4, scale);
        if (!box.valid || y < box.y1 || y > box.y2) {
          std::memset(row, 0, static_cast<size_t>(W));
          return;
        }
        const int64_t x_begin = max_of<int64_t>(box.x1, 0), x_end = min_of<int64_t>(box.x2 + 1, W);
        if (x_begin >= x_end) {
          std::memset(row, 0, static_cast<size_t>(W));
          return;
        }
        std::memset(row, 0, static_cast<size_t>(x_begin));
        for (int64_t x = x_begin; x < x_end; ++x) {
          row[x] = paste_mask_value(masks + k * M * M, M, padding, box, y, x) > threshold ? 1 : 0;
        }
        std::memset(row + x_end, 0, static_cast<size_t>(W - x_end));
      },
      W);
}

}  // namespace wise::kernels
