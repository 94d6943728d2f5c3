// libFuzzer target: the input is a whole COCO instances file.
//
// Contract under test: read_coco_dataset_from_string either returns a dataset or throws
// CocoError naming the source; any other exception, crash, sanitizer report or hang is a
// bug. On success, writing the dataset and reading it back gives the same images,
// categories and annotations (the writer emits only what the reader accepts).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "data/coco.h"

namespace {

bool same(const wise::data::Dataset& a, const wise::data::Dataset& b) {
  if (a.images.size() != b.images.size() || a.categories.size() != b.categories.size() ||
      a.annotations.size() != b.annotations.size()) {
    return false;
  }
  for (size_t i = 0; i < a.images.size(); ++i) {
    if (a.images[i].id != b.images[i].id || a.images[i].height != b.images[i].height ||
        a.images[i].width != b.images[i].width || a.images[i].file_name != b.images[i].file_name) {
      return false;
    }
  }
  for (size_t i = 0; i < a.annotations.size(); ++i) {
    const auto &x = a.annotations[i], &y = b.annotations[i];
    if (x.id != y.id || x.image_id != y.image_id || x.category_id != y.category_id || x.iscrowd != y.iscrowd ||
        x.segmentation.counts != y.segmentation.counts) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  wise::data::Dataset dataset;
  try {
    dataset = wise::data::read_coco_dataset_from_string(text, "fuzz input");
  } catch (const wise::data::CocoError&) {
    return 0;  // a rejected file: the expected outcome for most inputs
  }
  // Round trip: writing what the reader accepted must not throw, so no catch here.
  const std::string again = wise::data::coco_dataset_to_string(dataset);
  const wise::data::Dataset reread = wise::data::read_coco_dataset_from_string(again, "fuzz round trip");
  if (!same(dataset, reread)) {
    std::fprintf(stderr, "round trip changed the dataset (%zu annotations)\n", dataset.annotations.size());
    std::abort();
  }
  return 0;
}
