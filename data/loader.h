// The data loaders: batches of augmented, normalised, padded images made by a small
// pool of worker threads while the training step runs.
//
// Two loaders, two batch types, so that weak supervision cannot see masks:
//   WeakLoader     (PRM classifier): images + image-level multi-hot labels. Its source
//                  type (WeakSource / WeakRecord) and its batch (WeakBatch) have no mask
//                  or box fields at all; weak_source_from_dataset keeps only the labels.
//   InstanceLoader (Mask R-CNN): images + per-image boxes, classes and masks.
// Images for segmentation/evaluation come from a WeakLoader with no labels needed
// (num_classes 0 is allowed) and augmentation off.
//
// Determinism. An epoch's image order is a Philox shuffle of (seed, epoch); an image's
// augmentation depends on (seed, epoch, dataset index) only (data/transforms.h); a batch
// is made whole by one worker and batches are handed out in order. So the batches are
// bitwise identical for any num_workers and prefetch depth.
//
// Sharding (data parallelism). Rank r takes positions r, r + W, r + 2W, ... of the
// epoch's order (W = world_size): shards are disjoint and together cover every image.
// With drop_last every shard is cut to floor(size / W) images and every batch is full,
// so all ranks take the same number of steps (the images left out change each epoch
// when shuffling).
//
// Errors. An exception while making a batch is re-thrown by next() on the consumer's
// thread as wise::Error naming the image ("loader: image 'a.jpg' (index 17, id 42):
// ..."). With skip_bad_files, a failure to READ an image (source.read threw: a missing
// or corrupt file, a size that disagrees with the dataset) is reported through
// on_warning (called from worker threads) and that image is left out of its batch (which
// may then be smaller; an emptied batch is skipped). Everything after the read (labels
// out of range, masks of the wrong size, transform errors) is always thrown.
//
// Threads. Workers start in the constructor and stop in the destructor, which waits only
// for the batches being made at that moment (each worker finishes its current batch),
// never for the epoch. source.read is called from several threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/image.h"
#include "data/rle.h"
#include "data/transforms.h"
#include "nn/tensor.h"

namespace wise::data {

// ---- Sources ---------------------------------------------------------------------------

// One image and its image-level labels; nothing else (no masks, no boxes).
struct WeakRecord {
  int64_t image_id = 0;
  Image image;
  std::vector<int64_t> labels;  // class indices in [0, num_classes); repeats allowed
};

struct WeakSource {
  int64_t size = 0;         // images, indexed 0 .. size - 1
  int64_t num_classes = 0;  // K, the multi-hot width
  std::function<WeakRecord(int64_t index)> read;  // thread-safe; throws on a bad file
  // Names image `index` in messages (e.g. its file name); optional.
  std::function<std::string(int64_t index)> describe;
};

// One ground-truth instance at the original image size.
struct InstanceAnnotation {
  int64_t label = 0;  // class index in [0, num_classes)
  Box box{};          // (x1, y1, x2, y2) in pixels of the original image
  Rle mask;           // the image's size
};

struct InstanceRecord {
  int64_t image_id = 0;
  Image image;
  std::vector<InstanceAnnotation> instances;
};

struct InstanceSource {
  int64_t size = 0;
  int64_t num_classes = 0;
  std::function<InstanceRecord(int64_t index)> read;  // thread-safe; throws on a bad file
  std::function<std::string(int64_t index)> describe;
};

// Sources over a Dataset whose image files are image_folder + "/" + file_name, read as
// RGB with load_image (data/image_io.h). Class index k is dataset.categories[k]; an
// annotation with an unknown category_id throws here, naming it. A decoded image whose
// size differs from its ImageInfo is a read error naming the file (skippable).
// The weak source keeps only each image's label set (every annotation of the image
// counts, crowd ones too): the masks are not copied into it.
// The instance source leaves out crowd annotations and boxes with w <= 0 or h <= 0
// (torchvision requires positive boxes); box = bbox (x, y, x + w, y + h).
WeakSource weak_source_from_dataset(const Dataset& dataset, const std::string& image_folder);
InstanceSource instance_source_from_dataset(const Dataset& dataset, const std::string& image_folder);

// ---- Batches ---------------------------------------------------------------------------

struct WeakBatch {
  int64_t epoch = 0;
  int64_t batch_index = 0;              // within this rank's epoch
  Tensor images;                        // (N, 3, Hpad, Wpad) float32 plain cpu, zero padded
  Tensor labels;                        // (N, K) float32 multi-hot (K = 0 allowed)
  std::vector<int64_t> image_ids;       // (N)
  std::vector<int64_t> indices;         // (N) source indices
  std::vector<ImageGeometry> geometry;  // (N) true size inside the pad, original size
};

struct InstanceTarget {
  Tensor boxes;   // (M, 4) float32 (x1, y1, x2, y2) in the resized image's pixels
  Tensor labels;  // (M) int64: class index + 1 (torchvision's convention: 0 is background)
  Tensor masks;   // (M, height, width) uint8 0/1 at the resized (unpadded) size
};

struct InstanceBatch {
  int64_t epoch = 0;
  int64_t batch_index = 0;
  Tensor images;                        // (N, 3, Hpad, Wpad) float32 plain cpu, zero padded
  std::vector<InstanceTarget> targets;  // (N)
  std::vector<int64_t> image_ids;
  std::vector<int64_t> indices;
  std::vector<ImageGeometry> geometry;
};

// ---- Loaders ---------------------------------------------------------------------------

struct LoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = true;
  bool drop_last = false;
  uint64_t seed = 0;
  int num_workers = 2;       // 0: each batch is made inside next() on the caller's thread
  int prefetch_batches = 0;  // batches made or ready ahead of the consumer; 0: 2 * num_workers
  int rank = 0;
  int world_size = 1;
  bool skip_bad_files = false;
  AugmentOptions augment;
  // Receives skip_bad_files warnings; empty: printed to stderr.
  std::function<void(const std::string&)> on_warning;
};

// The source indices rank `options.rank` visits in `epoch`, in order (see Sharding).
std::vector<int64_t> shard_indices(int64_t dataset_size, int64_t epoch, const LoaderOptions& options);

class BatchPipeline;  // the worker pool (loader.cpp)

class WeakLoader {
 public:
  WeakLoader(WeakSource source, LoaderOptions options);
  ~WeakLoader();
  WeakLoader(const WeakLoader&) = delete;
  WeakLoader& operator=(const WeakLoader&) = delete;

  int64_t images_per_epoch() const;   // this rank's
  int64_t batches_per_epoch() const;  // this rank's
  // Starts (or restarts) an epoch; a running one is abandoned. epoch in [0, 2^32).
  void start_epoch(int64_t epoch);
  // The epoch's next batch, or nullopt after its last one. Throws a worker's error.
  std::optional<WeakBatch> next();

 private:
  std::shared_ptr<const WeakSource> source_;
  LoaderOptions options_;
  std::unique_ptr<BatchPipeline> pipeline_;
};

class InstanceLoader {
 public:
  InstanceLoader(InstanceSource source, LoaderOptions options);
  ~InstanceLoader();
  InstanceLoader(const InstanceLoader&) = delete;
  InstanceLoader& operator=(const InstanceLoader&) = delete;

  int64_t images_per_epoch() const;
  int64_t batches_per_epoch() const;
  void start_epoch(int64_t epoch);
  std::optional<InstanceBatch> next();

 private:
  std::shared_ptr<const InstanceSource> source_;
  LoaderOptions options_;
  std::unique_ptr<BatchPipeline> pipeline_;
};

}  // namespace wise::data
