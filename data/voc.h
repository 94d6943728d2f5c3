// PASCAL VOC 2012's segmentation splits as a Dataset (data/dataset.h).
//
// The layout read, under `root` (the VOC2012 folder of VOCdevkit):
//   ImageSets/Segmentation/<split>.txt   one image id per line ("2007_000032")
//   JPEGImages/<id>.jpg                  the photo (only its header is read here)
//   SegmentationObject/<id>.png          palette PNG: 0 background, 1..N instance index
//   SegmentationClass/<id>.png           palette PNG: 0 background, 1..20 class
// In both label maps 255 is "void": the object outlines and ambiguous regions, which
// evaluation ignores (data::ImageInfo::void_mask).
//
// Per image the reader produces what both halves of WISE need: the image-level labels
// (the classes present, what PRM trains on) and, for evaluation, one annotation per
// instance index with its class, mask (RLE), box and area, plus the void mask. The
// official splits hold 1,464 train and 1,449 val images (the paper says 1,442 train).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace wise::data {

// A VOC layout problem (missing folder or split list) or label maps that contradict
// each other; the message names the path and what was expected.
class VocError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The 20 classes in the devkit's order ("aeroplane" ... "tvmonitor"); category id =
// position + 1, the value SegmentationClass stores.
const std::vector<std::string>& voc_class_names();
std::vector<Category> voc_categories();

struct VocReadOptions {
  // false: the first bad image (missing, truncated or corrupt file, label maps that
  // disagree) throws. true: it is reported on stderr with the file and the reason,
  // recorded in VocDataset::skipped, and left out.
  bool skip_bad_files = false;
  // Reads only SegmentationClass (and the JPEG header): image-level labels and sizes,
  // no annotations, no void masks. About half the work; what PRM training needs.
  bool labels_only = false;
};

struct VocDataset {
  std::string split;                 // "train", "val", ...
  bool labels_only = false;          // read with VocReadOptions::labels_only
  Dataset dataset;                   // categories 1..20, images in the split's order
  std::vector<std::string> voc_ids;  // parallel to dataset.images: "2007_000032"
  // Parallel to dataset.images: the category ids present in SegmentationClass,
  // ascending (empty for an image with no object).
  std::vector<std::vector<int64_t>> image_labels;
  std::vector<std::string> skipped;  // "<file>: <reason>", one per image left out
};

// Image ids: "YYYY_NNNNNN" becomes YYYY * 1000000 + NNNNNN (2007_000032 -> 2007000032),
// stable across splits and readable in COCO JSON; if any id of the split has another
// form, every image is numbered by its line instead (1, 2, ...). Annotation ids run
// 1, 2, ... over the split. An instance's class is the majority of the
// SegmentationClass values (1..20) under its pixels: in VOC2012 they always agree,
// and the majority (ties: the smaller class id) keeps a stray pixel from deciding.
// The void mask is the union of 255 in either map (they coincide in VOC2012); it is
// set only for images that have void pixels.
VocDataset read_voc(const std::string& root, const std::string& split,
                    const VocReadOptions& options = {});

// One line for the apps to print, e.g.
//   "VOC2012 train: 1464 images, 3507 instances (skipped 0)"
// with a note when a split named train/val/trainval does not have its official size.
std::string voc_summary(const VocDataset& voc);

}  // namespace wise::data
