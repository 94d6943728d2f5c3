// COCO instance-segmentation JSON: datasets (images, categories, annotations) and
// results files ([{image_id, category_id, segmentation, score}]), read and written with
// nlohmann-json. This is the interchange format between wise's stages.
//
// Reading accepts every segmentation form COCO uses: polygons (rasterized exactly as
// pycocotools' frPyObjects + merge), uncompressed RLE ({"counts": [ints], "size": [h, w]})
// and compressed RLE ({"counts": "string", "size": [h, w]}). Writing emits compressed
// RLE, which pycocotools and detectron2 read. Every error names the file and the JSON
// path of the offending field and says what was expected.
//
// What the reader requires and what it fills in:
// - images[]: id, file_name, height, width (positive, height * width < 2^32); optional
//   "wise_void", an RLE of the image's size (ImageInfo::void_mask).
// - categories[]: id, name (other fields, e.g. supercategory, are ignored).
// - annotations[] (optional as a whole, as in COCO's test-set image-info files): id,
//   image_id and category_id naming a listed image and category, segmentation. bbox and
//   area are kept as the file gives them, computed from the mask when absent; iscrowd
//   (0/1 or a boolean, default 0) is kept as a flag. An RLE's "size" must equal its
//   image's. Polygons with an odd coordinate count are errors; polygons of fewer than 3
//   points are skipped (as detectron2 does), so an annotation of only those is empty.
// - Ids must be unique within images, categories and annotations.
// - Results entries: image_id and category_id (one of the ground truth's), score (finite as a float;
//   kept as the float Detection::score and as the file's double, Detection::file_score),
//   segmentation (required: wise's results are masks); bbox from the mask when absent.
// The writer checks the same rules before it writes anything.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace wise::data {

// Every reading and writing failure: malformed JSON, a missing or mistyped field, an
// unknown or duplicate id, an RLE whose size differs from its image's, I/O errors. The
// text starts with the file and the JSON path, e.g.
//   "train.json: annotations[17].segmentation.size: found [375, 501], expected [375, 500]
//    (the size of image 4)"
class CocoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CocoWriteOptions {
  bool compressed_rle = true;  // false: counts as a list of integers
  int indent = -1;             // nlohmann-json's dump indent (-1: one line)
};

Dataset read_coco_dataset(const std::string& path);
// Written atomically (temporary file + rename), so a crash never leaves half a file.
void write_coco_dataset(const Dataset& dataset, const std::string& path,
                        const CocoWriteOptions& options = {});

// A results file of predictions on `ground_truth`: its images give each image's size,
// needed for polygon segmentations and checked against every RLE's "size", and every
// image_id and category_id must be one of its images and categories (an unknown one
// is an error naming the file and the entry's JSON path, like every other).
std::vector<Detection> read_coco_results(const std::string& path, const Dataset& ground_truth);
void write_coco_results(const std::vector<Detection>& detections, const std::string& path,
                        const CocoWriteOptions& options = {});

// The same on JSON text in memory; `source` stands for the file name in errors.
Dataset read_coco_dataset_from_string(const std::string& json_text, const std::string& source);
std::string coco_dataset_to_string(const Dataset& dataset, const CocoWriteOptions& options = {});
std::vector<Detection> read_coco_results_from_string(const std::string& json_text,
                                                     const Dataset& ground_truth,
                                                     const std::string& source);
std::string coco_results_to_string(const std::vector<Detection>& detections,
                                   const CocoWriteOptions& options = {});

// Image-level labels (what the PRM classifier trains on): for each of dataset.images, in
// order, the sorted distinct category ids of its annotations, crowd regions included.
std::vector<std::vector<int64_t>> image_labels(const Dataset& dataset);

}  // namespace wise::data
