// COCO instance-segmentation JSON: datasets (images, categories, annotations) and
// results files ([{image_id, category_id, segmentation, score}]), read and written with
// nlohmann-json. This is the interchange format between wise's stages.
//
// Reading accepts every segmentation form COCO uses: polygons (rasterized exactly as
// pycocotools' frPyObjects + merge), uncompressed RLE ({"counts": [ints], "size": [h, w]})
// and compressed RLE ({"counts": "string", "size": [h, w]}). Writing emits compressed
// RLE, which pycocotools and detectron2 read. Every error names the file and the JSON
// path of the offending field and says what was expected.
#pragma once

#include <string>
#include <vector>

#include "data/dataset.h"

namespace wise::data {

struct CocoWriteOptions {
  bool compressed_rle = true;  // false: counts as a list of integers
  int indent = -1;             // nlohmann-json's dump indent (-1: one line)
};

Dataset read_coco_dataset(const std::string& path);
// Written atomically (temporary file + rename), so a crash never leaves half a file.
void write_coco_dataset(const Dataset& dataset, const std::string& path,
                        const CocoWriteOptions& options = {});

// A results file; `images` gives each image's size, needed for polygon segmentations
// and checked against every RLE's "size".
std::vector<Detection> read_coco_results(const std::string& path,
                                         const std::vector<ImageInfo>& images);
void write_coco_results(const std::vector<Detection>& detections, const std::string& path,
                        const CocoWriteOptions& options = {});

}  // namespace wise::data
