// An instance-segmentation dataset in memory, in COCO's vocabulary.
//
// Every source wise reads (COCO JSON, PASCAL VOC, the synthetic shapes set) becomes a
// Dataset, and every stage that writes instances (pseudo masks, predictions) writes
// COCO JSON (data/coco.h). Masks are always RLE (data/rle.h) of the image's full size.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/rle.h"

namespace wise::data {

struct Category {
  int64_t id = 0;  // COCO category id (not necessarily contiguous)
  std::string name;
};

struct ImageInfo {
  int64_t id = 0;
  std::string file_name;  // relative to the dataset's image folder
  int64_t height = 0;
  int64_t width = 0;
  // Pixels excluded from evaluation (VOC's index 255 "void" boundary band), if any.
  // Written to COCO JSON as the extra image field "wise_void" (pycocotools ignores it).
  std::optional<Rle> void_mask;
};

struct Annotation {
  int64_t id = 0;
  int64_t image_id = 0;
  int64_t category_id = 0;
  Rle segmentation;                  // the instance mask, image-sized
  std::array<double, 4> bbox{};      // [x, y, w, h]
  double area = 0;                   // foreground pixels (COCO's `area`)
  bool iscrowd = false;
};

struct Dataset {
  std::vector<Category> categories;
  std::vector<ImageInfo> images;
  std::vector<Annotation> annotations;
};

// The first `limit` images of a dataset, in file order (0 or more than it has: all of
// them), with their annotations: the subset train_prm's post-training steps, segment
// --limit and evaluate --limit run on.
Dataset first_images(const Dataset& dataset, int64_t limit);

// One scored instance prediction (a COCO results-file entry).
struct Detection {
  int64_t image_id = 0;
  int64_t category_id = 0;
  float score = 0;  // what ranks the predictions (float32, as the models write them)
  Rle segmentation;
  std::array<double, 4> bbox{};  // [x, y, w, h]; derived from the mask when absent
  // The score as the results file wrote it (JSON numbers are doubles), set by
  // read_coco_results; whoever changes `score` afterwards resets it. The `wise`
  // protocol's score filter compares this one when present: 0.4999999999 is below 0.5,
  // as in WISE's Python, although its float32 is 0.5. (The initializer lets
  // {image_id, category_id, score, segmentation, bbox} leave it out under -Wextra.)
  std::optional<double> file_score = std::nullopt;
};

}  // namespace wise::data
