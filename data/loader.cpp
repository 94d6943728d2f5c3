// The data loaders (data/loader.h): epoch order and sharding, the worker pool that makes
// batches ahead of the consumer, and the two batch makers (weak and instance).
#include "data/loader.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "data/image_io.h"
#include "kernels/check.h"

namespace wise::data {

// ---- The worker pool -------------------------------------------------------------------
//
// Batches of an epoch are numbered 0, 1, ...; workers take the lowest number not yet
// taken, as long as it is less than `depth` ahead of the next one the consumer will get
// (the bound on memory held in ready batches); results wait in a map until the consumer
// asks for their number, so they come out in order whichever worker finished first.
// start() bumps a generation counter: batches of an abandoned epoch that are still
// being made are dropped when they arrive.

// Makes the batch of `indices`; nullptr when every image in it was skipped.
using BatchMaker = std::function<std::shared_ptr<void>(int64_t epoch, int64_t batch_index,
                                                       const std::vector<int64_t>& indices)>;

class BatchPipeline {
 public:
  BatchPipeline(int num_workers, int depth, BatchMaker make) : make_(std::move(make)), depth_(depth) {
    for (int i = 0; i < num_workers; ++i) workers_.emplace_back([this] { worker_loop(); });
  }

  ~BatchPipeline() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    work_available_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }

  void start(int64_t epoch, std::vector<std::vector<int64_t>> batches) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++generation_;
      started_ = true;
      epoch_ = epoch;
      batches_ = std::move(batches);
      ready_.clear();
      next_to_make_ = 0;
      next_to_deliver_ = 0;
    }
    work_available_.notify_all();
  }

  // The next non-empty batch, nullptr at the end of the epoch; re-throws a worker's error.
  std::shared_ptr<void> next() {
    std::unique_lock<std::mutex> lock(mutex_);
    WISE_CHECK(started_, "loader: next() before start_epoch(epoch)");
    while (next_to_deliver_ < static_cast<int64_t>(batches_.size())) {
      const int64_t number = next_to_deliver_;
      Result result;
      if (workers_.empty()) {  // num_workers = 0: make it here
        ++next_to_deliver_;
        const std::vector<int64_t> indices = batches_[number];
        const int64_t epoch = epoch_;
        lock.unlock();
        result.batch = make_(epoch, number, indices);  // throws straight to the caller
        lock.lock();
      } else {
        batch_done_.wait(lock, [&] { return ready_.count(number) > 0; });
        result = std::move(ready_[number]);
        ready_.erase(number);
        ++next_to_deliver_;
        work_available_.notify_all();  // a slot within `depth` opened
      }
      if (result.error) std::rethrow_exception(result.error);
      if (result.batch) return result.batch;
    }
    return nullptr;
  }

 private:
  struct Result {
    std::shared_ptr<void> batch;
    std::exception_ptr error;
  };

  void worker_loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      work_available_.wait(lock, [&] {
        return stopping_ || (next_to_make_ < static_cast<int64_t>(batches_.size()) &&
                             next_to_make_ < next_to_deliver_ + depth_);
      });
      if (stopping_) return;
      const int64_t number = next_to_make_++;
      const uint64_t generation = generation_;
      const int64_t epoch = epoch_;
      const std::vector<int64_t> indices = batches_[number];
      lock.unlock();
      Result result;
      try {
        result.batch = make_(epoch, number, indices);
      } catch (...) {
        result.error = std::current_exception();
      }
      lock.lock();
      if (generation == generation_) {
        ready_[number] = std::move(result);
        batch_done_.notify_all();
      }
    }
  }

  BatchMaker make_;
  int depth_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable work_available_;  // workers wait here
  std::condition_variable batch_done_;      // the consumer waits here
  bool stopping_ = false;
  bool started_ = false;
  uint64_t generation_ = 0;
  int64_t epoch_ = 0;
  std::vector<std::vector<int64_t>> batches_;  // source indices of each batch of the epoch
  int64_t next_to_make_ = 0;
  int64_t next_to_deliver_ = 0;
  std::map<int64_t, Result> ready_;
};

namespace {

constexpr uint32_t kShuffleStream = 2;  // philox_uniform's stream for the epoch order

void check_options(const LoaderOptions& options) {
  WISE_CHECK(options.batch_size >= 1, "loader: batch_size must be >= 1, got ", options.batch_size);
  WISE_CHECK(options.num_workers >= 0, "loader: num_workers must be >= 0, got ", options.num_workers);
  WISE_CHECK(options.prefetch_batches >= 0, "loader: prefetch_batches must be >= 0, got ",
             options.prefetch_batches);
  WISE_CHECK(options.world_size >= 1 && options.rank >= 0 && options.rank < options.world_size,
             "loader: rank must be in [0, world_size) and world_size >= 1, got rank ", options.rank,
             ", world_size ", options.world_size);
  WISE_CHECK(options.augment.flip_probability >= 0 && options.augment.flip_probability <= 1,
             "loader: flip_probability must be in [0, 1], got ", options.augment.flip_probability);
}

int pipeline_depth(const LoaderOptions& options) {
  if (options.prefetch_batches > 0) return options.prefetch_batches;
  return std::max(1, 2 * options.num_workers);
}

// The epoch's batches of this rank: shard_indices cut into batch_size slices.
std::vector<std::vector<int64_t>> epoch_batches(int64_t dataset_size, int64_t epoch,
                                                const LoaderOptions& options) {
  WISE_CHECK(epoch >= 0 && epoch < (int64_t{1} << 32), "loader: epoch must be in [0, 2^32), got ",
             epoch);
  const std::vector<int64_t> shard = shard_indices(dataset_size, epoch, options);
  std::vector<std::vector<int64_t>> batches;
  for (size_t begin = 0; begin < shard.size(); begin += options.batch_size) {
    const size_t end = std::min(shard.size(), begin + static_cast<size_t>(options.batch_size));
    if (options.drop_last && end - begin < static_cast<size_t>(options.batch_size)) break;
    batches.emplace_back(shard.begin() + begin, shard.begin() + end);
  }
  return batches;
}

// Images in this rank's shard (see Sharding in loader.h).
int64_t shard_size(int64_t dataset_size, const LoaderOptions& options) {
  const int64_t world = options.world_size;
  return options.drop_last ? dataset_size / world
                           : kernels::ceil_div(dataset_size - options.rank, world);
}

int64_t batch_count(int64_t images, const LoaderOptions& options) {
  return options.drop_last ? images / options.batch_size
                           : kernels::ceil_div(images, options.batch_size);
}

// "'a.jpg' (index 17)", or "index 17" for a source without describe.
std::string image_name(const std::function<std::string(int64_t)>& describe, int64_t index) {
  return describe ? concat("'", describe(index), "' (index ", index, ")") : concat("index ", index);
}

void warn(const LoaderOptions& options, const std::string& message) {
  if (options.on_warning) {
    options.on_warning(message);
    return;
  }
  static std::mutex stderr_mutex;  // whole lines from concurrent workers
  std::lock_guard<std::mutex> lock(stderr_mutex);
  std::cerr << message << std::endl;
}

// source.read(index), or nullopt when it threw and skip_bad_files is on.
template <class Record, class Read>
std::optional<Record> read_record(const Read& read, int64_t index, const std::string& name,
                                  const LoaderOptions& options) {
  try {
    return read(index);
  } catch (const std::exception& error) {
    const std::string message = concat("loader: image ", name, ": ", error.what());
    if (!options.skip_bad_files) throw Error(message);
    warn(options, message + " (skipped: skip_bad_files)");
    return std::nullopt;
  }
}

std::shared_ptr<void> make_weak_batch(const WeakSource& source, const LoaderOptions& options,
                                      int64_t epoch, int64_t batch_index,
                                      const std::vector<int64_t>& indices) {
  auto batch = std::make_shared<WeakBatch>();
  batch->epoch = epoch;
  batch->batch_index = batch_index;
  std::vector<PlanarImage> images;
  std::vector<float> labels;
  for (int64_t index : indices) {
    const std::string name = image_name(source.describe, index);
    std::optional<WeakRecord> record = read_record<WeakRecord>(source.read, index, name, options);
    if (!record) continue;
    try {
      std::vector<float> multi_hot(source.num_classes, 0.0f);
      for (int64_t label : record->labels) {
        WISE_CHECK(label >= 0 && label < source.num_classes, "label ", label,
                   " is outside [0, num_classes = ", source.num_classes, ")");
        multi_hot[label] = 1.0f;
      }
      const AugmentDraw draw = draw_augmentation(options.seed, epoch, index, options.augment);
      ImageGeometry geometry;
      images.push_back(augment_image(record->image, draw, options.augment, geometry));
      labels.insert(labels.end(), multi_hot.begin(), multi_hot.end());
      batch->image_ids.push_back(record->image_id);
      batch->indices.push_back(index);
      batch->geometry.push_back(geometry);
    } catch (const std::exception& error) {
      throw Error(concat("loader: image ", name, ": ", error.what()));
    }
  }
  if (images.empty()) return nullptr;
  batch->images = pad_into_batch(images, options.augment.size_divisible);
  batch->labels = Tensor::from_vector(
      Shape{static_cast<int64_t>(images.size()), source.num_classes}, labels);
  return batch;
}

InstanceTarget make_instance_target(const InstanceRecord& record, int64_t num_classes,
                                    const ImageGeometry& geometry) {
  const int64_t count = static_cast<int64_t>(record.instances.size());
  InstanceMasks masks{count, geometry.original_height, geometry.original_width, {}};
  masks.pixels.resize(count * masks.height * masks.width);
  std::vector<Box> boxes;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < count; ++i) {
    const InstanceAnnotation& instance = record.instances[i];
    WISE_CHECK(instance.label >= 0 && instance.label < num_classes, "instance ", i, ": label ",
               instance.label, " is outside [0, num_classes = ", num_classes, ")");
    WISE_CHECK(instance.mask.height == masks.height && instance.mask.width == masks.width,
               "instance ", i, ": mask is ", instance.mask.height, " x ", instance.mask.width,
               " but the image is ", masks.height, " x ", masks.width);
    rle_decode(instance.mask, masks.pixels.data() + i * masks.height * masks.width);
    boxes.push_back(instance.box);
    labels.push_back(instance.label + 1);  // 0 is the background class
  }
  augment_instances(masks, boxes, geometry);
  std::vector<float> box_values;
  for (const Box& box : boxes) box_values.insert(box_values.end(), box.begin(), box.end());
  InstanceTarget target;
  target.boxes = Tensor::from_vector(Shape{count, 4}, box_values);
  target.labels = Tensor::from_vector(Shape{count}, labels);
  target.masks = Tensor::from_vector(Shape{count, masks.height, masks.width}, masks.pixels);
  return target;
}

std::shared_ptr<void> make_instance_batch(const InstanceSource& source, const LoaderOptions& options,
                                          int64_t epoch, int64_t batch_index,
                                          const std::vector<int64_t>& indices) {
  auto batch = std::make_shared<InstanceBatch>();
  batch->epoch = epoch;
  batch->batch_index = batch_index;
  std::vector<PlanarImage> images;
  for (int64_t index : indices) {
    const std::string name = image_name(source.describe, index);
    std::optional<InstanceRecord> record =
        read_record<InstanceRecord>(source.read, index, name, options);
    if (!record) continue;
    try {
      const AugmentDraw draw = draw_augmentation(options.seed, epoch, index, options.augment);
      ImageGeometry geometry;
      images.push_back(augment_image(record->image, draw, options.augment, geometry));
      batch->targets.push_back(make_instance_target(*record, source.num_classes, geometry));
      batch->image_ids.push_back(record->image_id);
      batch->indices.push_back(index);
      batch->geometry.push_back(geometry);
    } catch (const std::exception& error) {
      throw Error(concat("loader: image ", name, ": ", error.what()));
    }
  }
  if (images.empty()) return nullptr;
  batch->images = pad_into_batch(images, options.augment.size_divisible);
  return batch;
}

// ---- Dataset adapters ------------------------------------------------------------------

// What a source keeps of an ImageInfo (not its void mask).
struct ImageEntry {
  int64_t id = 0;
  std::string path;
  int64_t height = 0;
  int64_t width = 0;
};

struct DatasetIndex {
  std::vector<ImageEntry> images;
  std::unordered_map<int64_t, int64_t> image_position;     // image id -> position
  std::unordered_map<int64_t, int64_t> category_position;  // category id -> class index
};

DatasetIndex index_dataset(const Dataset& dataset, const std::string& image_folder) {
  DatasetIndex index;
  for (size_t k = 0; k < dataset.categories.size(); ++k) {
    index.category_position[dataset.categories[k].id] = static_cast<int64_t>(k);
  }
  for (const ImageInfo& info : dataset.images) {
    const std::string path = image_folder.empty() ? info.file_name : image_folder + "/" + info.file_name;
    WISE_CHECK(index.image_position.emplace(info.id, index.images.size()).second,
               "loader: image id ", info.id, " appears twice in the dataset");
    index.images.push_back({info.id, path, info.height, info.width});
  }
  return index;
}

int64_t class_of(const DatasetIndex& index, const Annotation& annotation) {
  const auto found = index.category_position.find(annotation.category_id);
  WISE_CHECK(found != index.category_position.end(), "loader: annotation ", annotation.id,
             " has category_id ", annotation.category_id, ", which is not among the dataset's ",
             index.category_position.size(), " categories");
  return found->second;
}

int64_t image_of(const DatasetIndex& index, const Annotation& annotation) {
  const auto found = index.image_position.find(annotation.image_id);
  WISE_CHECK(found != index.image_position.end(), "loader: annotation ", annotation.id,
             " has image_id ", annotation.image_id, ", which is not among the dataset's images");
  return found->second;
}

// load_image, checked against the size the dataset says.
Image load_entry(const ImageEntry& entry) {
  Image image = load_image(entry.path, 3);
  WISE_CHECK(entry.height <= 0 || (image.height == entry.height && image.width == entry.width),
             entry.path, ": image is ", image.height, " x ", image.width, " but the dataset says ",
             entry.height, " x ", entry.width);
  return image;
}

}  // namespace

std::vector<int64_t> shard_indices(int64_t dataset_size, int64_t epoch, const LoaderOptions& options) {
  check_options(options);
  WISE_CHECK(dataset_size >= 0, "loader: dataset size must be >= 0, got ", dataset_size);
  std::vector<int64_t> order(dataset_size);
  for (int64_t i = 0; i < dataset_size; ++i) order[i] = i;
  if (options.shuffle) {
    // Fisher-Yates; swap partner of position i from draw (seed, epoch, i).
    for (int64_t i = dataset_size - 1; i > 0; --i) {
      const double u = philox_uniform(options.seed, epoch, i, kShuffleStream, 0);
      const int64_t j = std::min(i, static_cast<int64_t>(u * static_cast<double>(i + 1)));
      std::swap(order[i], order[j]);
    }
  }
  std::vector<int64_t> shard;
  const int64_t count = shard_size(dataset_size, options);
  for (int64_t k = 0; k < count; ++k) shard.push_back(order[options.rank + k * options.world_size]);
  return shard;
}

WeakSource weak_source_from_dataset(const Dataset& dataset, const std::string& image_folder) {
  auto index = std::make_shared<DatasetIndex>(index_dataset(dataset, image_folder));
  auto labels = std::make_shared<std::vector<std::vector<int64_t>>>(index->images.size());
  for (const Annotation& annotation : dataset.annotations) {
    (*labels)[image_of(*index, annotation)].push_back(class_of(*index, annotation));
  }
  WeakSource source;
  source.size = static_cast<int64_t>(index->images.size());
  source.num_classes = static_cast<int64_t>(dataset.categories.size());
  source.read = [index, labels](int64_t i) {
    WeakRecord record;
    record.image_id = index->images[i].id;
    record.image = load_entry(index->images[i]);
    record.labels = (*labels)[i];
    return record;
  };
  source.describe = [index](int64_t i) { return index->images[i].path; };
  return source;
}

InstanceSource instance_source_from_dataset(const Dataset& dataset, const std::string& image_folder) {
  auto index = std::make_shared<DatasetIndex>(index_dataset(dataset, image_folder));
  auto instances = std::make_shared<std::vector<std::vector<InstanceAnnotation>>>(index->images.size());
  for (const Annotation& annotation : dataset.annotations) {
    const int64_t image = image_of(*index, annotation);
    const int64_t label = class_of(*index, annotation);
    const auto& [x, y, w, h] = annotation.bbox;
    if (annotation.iscrowd || !(w > 0 && h > 0)) continue;
    InstanceAnnotation instance;
    instance.label = label;
    instance.box = {static_cast<float>(x), static_cast<float>(y), static_cast<float>(x + w),
                    static_cast<float>(y + h)};
    instance.mask = annotation.segmentation;
    (*instances)[image].push_back(std::move(instance));
  }
  InstanceSource source;
  source.size = static_cast<int64_t>(index->images.size());
  source.num_classes = static_cast<int64_t>(dataset.categories.size());
  source.read = [index, instances](int64_t i) {
    InstanceRecord record;
    record.image_id = index->images[i].id;
    record.image = load_entry(index->images[i]);
    record.instances = (*instances)[i];
    return record;
  };
  source.describe = [index](int64_t i) { return index->images[i].path; };
  return source;
}

// ---- WeakLoader ------------------------------------------------------------------------

WeakLoader::WeakLoader(WeakSource source, LoaderOptions options)
    : source_(std::make_shared<const WeakSource>(std::move(source))), options_(std::move(options)) {
  check_options(options_);
  WISE_CHECK(source_->read, "WeakLoader: source.read is empty");
  WISE_CHECK(source_->size >= 0 && source_->num_classes >= 0,
             "WeakLoader: source size and num_classes must be >= 0, got ", source_->size, " and ",
             source_->num_classes);
  pipeline_ = std::make_unique<BatchPipeline>(
      options_.num_workers, pipeline_depth(options_),
      [source = source_, options = options_](int64_t epoch, int64_t batch_index,
                                             const std::vector<int64_t>& indices) {
        return make_weak_batch(*source, options, epoch, batch_index, indices);
      });
}

WeakLoader::~WeakLoader() = default;

int64_t WeakLoader::images_per_epoch() const {
  return shard_size(source_->size, options_);
}

int64_t WeakLoader::batches_per_epoch() const { return batch_count(images_per_epoch(), options_); }

void WeakLoader::start_epoch(int64_t epoch) {
  pipeline_->start(epoch, epoch_batches(source_->size, epoch, options_));
}

std::optional<WeakBatch> WeakLoader::next() {
  std::shared_ptr<void> batch = pipeline_->next();
  if (!batch) return std::nullopt;
  return std::move(*std::static_pointer_cast<WeakBatch>(batch));
}

// ---- InstanceLoader --------------------------------------------------------------------

InstanceLoader::InstanceLoader(InstanceSource source, LoaderOptions options)
    : source_(std::make_shared<const InstanceSource>(std::move(source))),
      options_(std::move(options)) {
  check_options(options_);
  WISE_CHECK(source_->read, "InstanceLoader: source.read is empty");
  WISE_CHECK(source_->size >= 0 && source_->num_classes >= 0,
             "InstanceLoader: source size and num_classes must be >= 0, got ", source_->size,
             " and ", source_->num_classes);
  pipeline_ = std::make_unique<BatchPipeline>(
      options_.num_workers, pipeline_depth(options_),
      [source = source_, options = options_](int64_t epoch, int64_t batch_index,
                                             const std::vector<int64_t>& indices) {
        return make_instance_batch(*source, options, epoch, batch_index, indices);
      });
}

InstanceLoader::~InstanceLoader() = default;

int64_t InstanceLoader::images_per_epoch() const {
  return shard_size(source_->size, options_);
}

int64_t InstanceLoader::batches_per_epoch() const {
  return batch_count(images_per_epoch(), options_);
}

void InstanceLoader::start_epoch(int64_t epoch) {
  pipeline_->start(epoch, epoch_batches(source_->size, epoch, options_));
}

std::optional<InstanceBatch> InstanceLoader::next() {
  std::shared_ptr<void> batch = pipeline_->next();
  if (!batch) return std::nullopt;
  return std::move(*std::static_pointer_cast<InstanceBatch>(batch));
}

}  // namespace wise::data
