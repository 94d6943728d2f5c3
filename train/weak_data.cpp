#include "train/weak_data.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <utility>

#include "data/coco.h"
#include "kernels/check.h"
#include "train/data_parallel.h"

namespace wise {

namespace fs = std::filesystem;

DatasetSplit read_dataset_split(const std::string& data_dir, const std::string& split,
                                const std::string& default_config) {
  const fs::path annotations = fs::path(data_dir) / "annotations" / (split + ".json");
  WISE_CHECK(fs::exists(annotations), annotations.string(), " does not exist: --data must be a dataset folder with ",
             "annotations/{train,val}.json and images/{train,val}/. Make the default one with\n",
             "  build/cpu/apps/make_shapes --config ", default_config, " --out ", data_dir,
             "\n(scripts/run.sh does it for you)");
  DatasetSplit result;
  result.dataset = data::read_coco_dataset(annotations.string());
  result.image_folder = (fs::path(data_dir) / "images" / split).string();
  WISE_CHECK(!result.dataset.images.empty(), annotations.string(), ": the ", split, " split has no images");
  WISE_CHECK(!result.dataset.categories.empty(), annotations.string(), ": no categories (need K >= 1 classes)");
  return result;
}

std::vector<std::string> class_names_of(const data::Dataset& dataset) {
  std::vector<std::string> names;
  for (const data::Category& category : dataset.categories) names.push_back(category.name);
  return names;
}

data::AugmentOptions weak_training_augmentation(float flip_probability, float jitter, int64_t image_size) {
  data::AugmentOptions augment = weak_validation_augmentation(image_size);
  augment.flip_probability = flip_probability;
  augment.jitter = data::ColorJitterOptions{jitter, jitter, jitter};
  return augment;
}

data::AugmentOptions weak_validation_augmentation(int64_t image_size) {
  data::AugmentOptions augment;  // no flip, no jitter
  augment.resize.min_size = image_size;  // 0: the native size
  augment.resize.max_size = std::max<int64_t>(image_size, 1) * 4;
  return augment;
}

IterationBatches training_batches(const DatasetSplit& split, const std::string& data_dir, int64_t batch_size,
                                  uint64_t seed, int num_workers, const data::AugmentOptions& augment,
                                  const distributed::Communicator* job) {
  const int64_t images = static_cast<int64_t>(split.dataset.images.size());
  WISE_CHECK(images >= batch_size, data_dir, ": the train split has ", images, " images, fewer than one batch of ",
             batch_size);
  data::LoaderOptions options;
  shard_global_batch(options, batch_size, job);
  options.shuffle = true;
  options.drop_last = true;
  options.seed = seed;
  options.num_workers = num_workers;
  options.augment = augment;
  return IterationBatches(data::weak_source_from_dataset(split.dataset, split.image_folder), options);
}

}  // namespace wise
