// The data side that every trainer on image-level labels shares (the multi-label
// classifier, PRM): a dataset split, its augmentation, and the batch of an iteration.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"
#include "data/loader.h"
#include "data/transforms.h"
#include "distributed/communicator.h"
#include "kernels/check.h"

namespace wise {

// A COCO split: <data_dir>/annotations/<split>.json and <data_dir>/images/<split>/.
struct DatasetSplit {
  data::Dataset dataset;
  std::string image_folder;
};

// Reads a split; a missing file names the layout expected and the command that makes
// the default dataset (`default_config`, e.g. "shapes-v1").
DatasetSplit read_dataset_split(const std::string& data_dir, const std::string& split,
                                const std::string& default_config = "shapes-v1");

std::vector<std::string> class_names_of(const data::Dataset& dataset);

// Training: flips and colour jitter of this strength (brightness, contrast, saturation),
// resized to short side image_size (0: the native size). Validation: the resize only.
data::AugmentOptions weak_training_augmentation(float flip_probability, float jitter, int64_t image_size);
data::AugmentOptions weak_validation_augmentation(int64_t image_size);

// The batch of iteration i: batch i mod B of epoch i div B (B = full batches per
// epoch), read from a loader that is only restarted (and fast-forwarded) when the
// iterations jump, as at a resume. Every batch is a function of (seed, epoch, index)
// alone (data/loader.h), so a resumed run sees the batches of an uninterrupted one.
// Loader is data::WeakLoader (IterationBatches) or data::InstanceLoader
// (InstanceIterationBatches, train/mask_rcnn_training.h).
template <class Loader, class Source, class Batch>
class LoaderIterations {
 public:
  LoaderIterations(Source source, const data::LoaderOptions& options)
      : loader_(std::move(source), options), batches_per_epoch_(loader_.batches_per_epoch()) {}

  int64_t batches_per_epoch() const { return batches_per_epoch_; }

  Batch at(int64_t iteration) {
    const int64_t epoch = iteration / batches_per_epoch_, index = iteration % batches_per_epoch_;
    if (epoch != epoch_ || index < next_index_) {
      loader_.start_epoch(epoch);
      epoch_ = epoch;
      next_index_ = 0;
    }
    std::optional<Batch> batch;
    for (; next_index_ <= index; ++next_index_) batch = loader_.next();  // skips up to `index`
    WISE_CHECK(batch.has_value() && batch->batch_index == index, "training: the loader ended epoch ", epoch,
               " before batch ", index, " of ", batches_per_epoch_);
    return std::move(*batch);
  }

 private:
  Loader loader_;
  int64_t batches_per_epoch_;
  int64_t epoch_ = -1, next_index_ = 0;
};

using IterationBatches = LoaderIterations<data::WeakLoader, data::WeakSource, data::WeakBatch>;

// The training batches of a split: shuffled by `seed`, full batches only (BN's
// statistics and the step's cost stay even), augmented by `augment`. A split smaller
// than one batch is an error naming `data_dir`.
// With a job of several processes (`job`), this rank's shard of each global batch of
// batch_size images (train/data_parallel.h's shard_global_batch).
IterationBatches training_batches(const DatasetSplit& split, const std::string& data_dir, int64_t batch_size,
                                  uint64_t seed, int num_workers, const data::AugmentOptions& augment,
                                  const distributed::Communicator* job = nullptr);

}  // namespace wise
