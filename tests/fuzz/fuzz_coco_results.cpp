// libFuzzer target: the input is a whole COCO results file, read against a fixed small
// ground truth (two images, two categories).
//
// Contract under test: read_coco_results_from_string either returns detections or throws
// CocoError; anything else (another exception, a crash, a sanitizer report, a hang) is a
// bug. Every returned mask has its image's size and runs that sum to it, and writing the
// detections and reading them back gives the same images, categories, scores and masks.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "data/coco.h"

namespace {

const wise::data::Dataset& ground_truth() {
  static const wise::data::Dataset dataset = wise::data::read_coco_dataset_from_string(
      R"({"images": [{"id": 1, "height": 4, "width": 5, "file_name": "a.png"},
                     {"id": 7, "height": 30, "width": 20, "file_name": "b.png"}],
          "categories": [{"id": 1, "name": "circle"}, {"id": 3, "name": "star"}],
          "annotations": []})",
      "fuzz ground truth");
  return dataset;
}

int64_t height_of(int64_t image_id) { return image_id == 1 ? 4 : 30; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<wise::data::Detection> detections;
  try {
    detections = wise::data::read_coco_results_from_string(text, ground_truth(), "fuzz input");
  } catch (const wise::data::CocoError&) {
    return 0;  // a rejected file: the expected outcome for most inputs
  }
  for (const auto& detection : detections) {
    wise::data::rle_check(detection.segmentation, "fuzz detection");  // throws: a bug
    if (detection.segmentation.height != height_of(detection.image_id)) {
      std::fprintf(stderr, "mask height %lld for image %lld\n", static_cast<long long>(detection.segmentation.height),
                   static_cast<long long>(detection.image_id));
      std::abort();
    }
  }
  const std::string again = wise::data::coco_results_to_string(detections);
  const auto reread = wise::data::read_coco_results_from_string(again, ground_truth(), "fuzz round trip");
  bool same = reread.size() == detections.size();
  for (size_t i = 0; same && i < detections.size(); ++i) {
    const auto &a = detections[i], &b = reread[i];
    same = a.image_id == b.image_id && a.category_id == b.category_id && a.score == b.score &&
           a.segmentation.counts == b.segmentation.counts;
  }
  if (!same) {
    std::fprintf(stderr, "round trip changed the detections (%zu of them)\n", detections.size());
    std::abort();
  }
  return 0;
}
