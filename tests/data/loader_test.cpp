// The data loaders (data/loader.h) over in-memory sources: determinism across worker
// counts and prefetch depths, epoch shuffling, sharding, drop_last, batch contents
// against values computed here from the synthetic images, errors from workers,
// skip_bad_files, shutdown mid-epoch, and the Dataset adapters over real PNG files.
#include "data/loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>
#include <type_traits>

#include "data/image_io.h"
#include "kernels/check.h"

namespace wise::data {
namespace {

// The weak types have no mask or box fields at all (so masks cannot leak into them).
template <class T, class = void> struct HasMasks : std::false_type {};
template <class T> struct HasMasks<T, std::void_t<decltype(std::declval<T>().masks)>> : std::true_type {};
template <class T, class = void> struct HasBoxes : std::false_type {};
template <class T> struct HasBoxes<T, std::void_t<decltype(std::declval<T>().boxes)>> : std::true_type {};
static_assert(!HasMasks<WeakBatch>::value && !HasBoxes<WeakBatch>::value, "WeakBatch has masks");
static_assert(!HasMasks<WeakRecord>::value && !HasBoxes<WeakRecord>::value, "WeakRecord has masks");
static_assert(HasMasks<InstanceTarget>::value && HasBoxes<InstanceTarget>::value, "detector works");

int64_t synthetic_height(int64_t index) { return 20 + (index * 7) % 13; }
int64_t synthetic_width(int64_t index) { return 24 + (index * 5) % 11; }
uint8_t synthetic_value(int64_t index, int64_t y, int64_t x, int64_t c) {
  return static_cast<uint8_t>((index * 31 + y * 7 + x * 3 + c * 50) % 256);
}

Image synthetic_image(int64_t index) {
  Image image{synthetic_height(index), synthetic_width(index), 3, {}};
  for (int64_t y = 0; y < image.height; ++y) {
    for (int64_t x = 0; x < image.width; ++x) {
      for (int64_t c = 0; c < 3; ++c) image.pixels.push_back(synthetic_value(index, y, x, c));
    }
  }
  return image;
}

std::vector<int64_t> synthetic_labels(int64_t index, int64_t num_classes) {
  return {index % num_classes, (index * 3) % num_classes};
}

WeakSource synthetic_weak_source(int64_t size, int64_t num_classes = 5) {
  WeakSource source;
  source.size = size;
  source.num_classes = num_classes;
  source.read = [num_classes](int64_t index) {
    return WeakRecord{1000 + index, synthetic_image(index), synthetic_labels(index, num_classes)};
  };
  source.describe = [](int64_t index) { return "img" + std::to_string(index) + ".png"; };
  return source;
}

// Defaults but native size: the default resize (800 / 1333) would blow the tiny test
// images up to 800 pixels and make the tests slow.
LoaderOptions native_size_options() {
  LoaderOptions options;
  options.augment.resize = {0, 0, 0, 0};
  return options;
}

LoaderOptions augmenting_options() {
  LoaderOptions options;
  options.batch_size = 3;
  options.seed = 5;
  options.augment.flip_probability = 0.5f;
  options.augment.jitter = {0.4f, 0.4f, 0.4f};
  options.augment.resize = {32, 48, 0, 0};
  return options;
}

template <class Loader>
auto run_epoch(Loader& loader, int64_t epoch) {
  loader.start_epoch(epoch);
  std::vector<std::remove_reference_t<decltype(*loader.next())>> batches;
  while (auto batch = loader.next()) batches.push_back(std::move(*batch));
  return batches;
}

std::vector<int64_t> visited_indices(const std::vector<WeakBatch>& batches) {
  std::vector<int64_t> indices;
  for (const WeakBatch& batch : batches) {
    indices.insert(indices.end(), batch.indices.begin(), batch.indices.end());
  }
  return indices;
}

void expect_same_batches(const std::vector<WeakBatch>& a, const std::vector<WeakBatch>& b,
                         const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].indices, b[i].indices) << what << " batch " << i;
    EXPECT_EQ(a[i].image_ids, b[i].image_ids) << what << " batch " << i;
    EXPECT_EQ(a[i].images.shape(), b[i].images.shape()) << what << " batch " << i;
    EXPECT_TRUE(a[i].images.to_vector<float>() == b[i].images.to_vector<float>())
        << what << " batch " << i << ": images differ";
    EXPECT_TRUE(a[i].labels.to_vector<float>() == b[i].labels.to_vector<float>())
        << what << " batch " << i << ": labels differ";
  }
}

TEST(LoaderDeterminism, IdenticalBatchesForAnyWorkerCountAndPrefetchDepth) {
  const WeakSource source = synthetic_weak_source(11);
  LoaderOptions options = augmenting_options();
  options.num_workers = 0;
  WeakLoader reference_loader(source, options);
  const auto reference0 = run_epoch(reference_loader, 0);
  const auto reference1 = run_epoch(reference_loader, 1);
  ASSERT_EQ(reference0.size(), 4u);
  for (const auto& [workers, prefetch] :
       std::vector<std::pair<int, int>>{{1, 1}, {2, 0}, {4, 1}, {4, 8}, {2, 3}}) {
    options.num_workers = workers;
    options.prefetch_batches = prefetch;
    WeakLoader loader(source, options);
    const std::string what = "workers " + std::to_string(workers) + " prefetch " + std::to_string(prefetch);
    expect_same_batches(run_epoch(loader, 0), reference0, what + " epoch 0");
    expect_same_batches(run_epoch(loader, 1), reference1, what + " epoch 1");
  }
  // The augmentation is on: some image is flipped, and epochs differ.
  bool any_flip = false;
  for (const WeakBatch& batch : reference0) {
    for (const ImageGeometry& geometry : batch.geometry) any_flip |= geometry.flipped;
  }
  EXPECT_TRUE(any_flip);
}

TEST(LoaderShuffle, EpochsReshuffleReproduciblyFromTheSeed) {
  LoaderOptions options = native_size_options();
  options.seed = 9;
  const std::vector<int64_t> epoch0 = shard_indices(20, 0, options);
  const std::vector<int64_t> epoch1 = shard_indices(20, 1, options);
  std::vector<int64_t> all(20);
  std::iota(all.begin(), all.end(), 0);
  for (const auto& order : {epoch0, epoch1}) {
    std::vector<int64_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, all);  // a permutation
  }
  EXPECT_NE(epoch0, epoch1);
  EXPECT_NE(epoch0, all);
  EXPECT_EQ(shard_indices(20, 1, options), epoch1);
  LoaderOptions other_seed = options;
  other_seed.seed = 10;
  EXPECT_NE(shard_indices(20, 1, other_seed), epoch1);
  LoaderOptions in_order = options;
  in_order.shuffle = false;
  EXPECT_EQ(shard_indices(20, 3, in_order), all);

  // The loader visits exactly that order.
  options.batch_size = 6;
  options.num_workers = 2;
  WeakLoader loader(synthetic_weak_source(20), options);
  EXPECT_EQ(visited_indices(run_epoch(loader, 0)), epoch0);
  EXPECT_EQ(visited_indices(run_epoch(loader, 1)), epoch1);
}

TEST(LoaderShard, RanksAreDisjointAndCoverTheDataset) {
  for (bool drop_last : {false, true}) {
    LoaderOptions options = native_size_options();
    options.seed = 3;
    options.world_size = 3;
    options.drop_last = drop_last;
    std::multiset<int64_t> seen;
    for (int rank = 0; rank < 3; ++rank) {
      options.rank = rank;
      const std::vector<int64_t> shard = shard_indices(10, 2, options);
      // 10 images over 3 ranks: 4, 3, 3; with drop_last every rank gets floor(10/3) = 3.
      EXPECT_EQ(shard.size(), drop_last ? 3u : (rank == 0 ? 4u : 3u)) << "rank " << rank;
      seen.insert(shard.begin(), shard.end());
      // The loader of that rank visits its shard.
      options.num_workers = 1;
      WeakLoader loader(synthetic_weak_source(10), options);
      EXPECT_EQ(visited_indices(run_epoch(loader, 2)), shard) << "rank " << rank;
      EXPECT_EQ(loader.images_per_epoch(), static_cast<int64_t>(shard.size()));
    }
    for (int64_t index : seen) EXPECT_EQ(seen.count(index), 1u) << "image " << index << " twice";
    EXPECT_EQ(seen.size(), drop_last ? 9u : 10u);
  }
  LoaderOptions bad = native_size_options();
  bad.world_size = 2;
  bad.rank = 2;
  EXPECT_THROW(shard_indices(10, 0, bad), Error);
  EXPECT_THROW(WeakLoader(synthetic_weak_source(10), bad), Error);
}

TEST(LoaderBatches, DropLastAndBatchSizes) {
  LoaderOptions options = native_size_options();
  options.batch_size = 4;
  options.num_workers = 2;
  WeakLoader keep(synthetic_weak_source(10), options);
  std::vector<size_t> sizes;
  for (const WeakBatch& batch : run_epoch(keep, 0)) sizes.push_back(batch.indices.size());
  EXPECT_EQ(sizes, (std::vector<size_t>{4, 4, 2}));
  EXPECT_EQ(keep.batches_per_epoch(), 3);
  options.drop_last = true;
  WeakLoader drop(synthetic_weak_source(10), options);
  sizes.clear();
  for (const WeakBatch& batch : run_epoch(drop, 0)) sizes.push_back(batch.indices.size());
  EXPECT_EQ(sizes, (std::vector<size_t>{4, 4}));
  EXPECT_EQ(drop.batches_per_epoch(), 2);
}

TEST(LoaderBatches, ImagesLabelsAndIdsMatchTheSource) {
  // No augmentation, native size: every value is (v / 255 - mean) / std of the source.
  const int64_t num_classes = 5;
  LoaderOptions options = native_size_options();
  options.batch_size = 4;
  options.shuffle = false;
  options.num_workers = 2;
  options.augment.resize = {0, 0, 0, 0};
  WeakLoader loader(synthetic_weak_source(7, num_classes), options);
  const auto batches = run_epoch(loader, 0);
  ASSERT_EQ(batches.size(), 2u);
  const NormalizeOptions imagenet;
  for (const WeakBatch& batch : batches) {
    const int64_t count = static_cast<int64_t>(batch.indices.size());
    int64_t max_height = 0, max_width = 0;
    for (int64_t index : batch.indices) {
      max_height = std::max(max_height, synthetic_height(index));
      max_width = std::max(max_width, synthetic_width(index));
    }
    const int64_t padded_height = (max_height + 31) / 32 * 32, padded_width = (max_width + 31) / 32 * 32;
    ASSERT_EQ(batch.images.shape(), (Shape{count, 3, padded_height, padded_width}));
    ASSERT_EQ(batch.labels.shape(), (Shape{count, num_classes}));
    const std::vector<float> images = batch.images.to_vector<float>();
    const std::vector<float> labels = batch.labels.to_vector<float>();
    for (int64_t n = 0; n < count; ++n) {
      const int64_t index = batch.indices[n];
      EXPECT_EQ(batch.image_ids[n], 1000 + index);
      EXPECT_EQ(batch.geometry[n].height, synthetic_height(index));
      EXPECT_EQ(batch.geometry[n].width, synthetic_width(index));
      std::vector<float> expected_labels(num_classes, 0.0f);
      for (int64_t label : synthetic_labels(index, num_classes)) expected_labels[label] = 1.0f;
      EXPECT_EQ(std::vector<float>(labels.begin() + n * num_classes, labels.begin() + (n + 1) * num_classes),
                expected_labels) << "index " << index;
      for (int64_t c = 0; c < 3; ++c) {
        for (int64_t y = 0; y < padded_height; ++y) {
          for (int64_t x = 0; x < padded_width; ++x) {
            const float value = images[((n * 3 + c) * padded_height + y) * padded_width + x];
            const bool inside = y < synthetic_height(index) && x < synthetic_width(index);
            const float expected =
                inside ? (synthetic_value(index, y, x, c) / 255.0f - imagenet.mean[c]) / imagenet.std[c]
                       : 0.0f;
            ASSERT_NEAR(value, expected, 1e-5f) << "index " << index << " c " << c << " y " << y << " x " << x;
          }
        }
      }
    }
  }
}

TEST(LoaderBatches, ImagesOnlySourceForEvaluation) {
  // Segmentation / evaluation: no labels (K = 0), no augmentation, every image once in order.
  WeakSource source = synthetic_weak_source(5);
  source.num_classes = 0;
  const auto read = source.read;
  source.read = [read](int64_t index) {
    WeakRecord record = read(index);
    record.labels.clear();
    return record;
  };
  LoaderOptions options = native_size_options();
  options.batch_size = 2;
  options.shuffle = false;
  WeakLoader loader(source, options);
  const auto batches = run_epoch(loader, 0);
  EXPECT_EQ(visited_indices(batches), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(batches[2].labels.shape(), (Shape{1, 0}));
  EXPECT_THROW(loader.start_epoch(int64_t{1} << 32), Error);
}

TEST(LoaderErrors, WorkerErrorsReachTheConsumerNamingTheImage) {
  WeakSource source = synthetic_weak_source(9);
  const auto read = source.read;
  source.read = [read](int64_t index) {
    if (index == 4) throw ImageError("cannot read image: bad png sig");
    return read(index);
  };
  for (int workers : {0, 1, 3}) {
    LoaderOptions options = native_size_options();
    options.batch_size = 2;
    options.num_workers = workers;
    WeakLoader loader(source, options);
    loader.start_epoch(0);
    std::string message;
    try {
      while (loader.next()) {
      }
    } catch (const Error& error) {
      message = error.what();
    }
    EXPECT_NE(message.find("img4.png"), std::string::npos) << "workers " << workers << ": " << message;
    EXPECT_NE(message.find("bad png sig"), std::string::npos) << message;
  }
  // A label outside [0, num_classes) is an error naming the image, never skipped.
  WeakSource mislabelled = synthetic_weak_source(3);
  mislabelled.read = [](int64_t index) { return WeakRecord{index, synthetic_image(index), {7}}; };
  LoaderOptions options = native_size_options();
  options.skip_bad_files = true;
  WeakLoader loader(mislabelled, options);
  loader.start_epoch(0);
  try {
    loader.next();
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("label 7"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find(".png"), std::string::npos) << error.what();
  }
  WeakLoader not_started(synthetic_weak_source(3), native_size_options());
  EXPECT_THROW(not_started.next(), Error);
}

TEST(LoaderErrors, SkipBadFilesWarnsAndLeavesTheImageOut) {
  WeakSource source = synthetic_weak_source(6);
  const auto read = source.read;
  source.read = [read](int64_t index) {
    if (index == 4) throw ImageError("img4.png: no such file");
    return read(index);
  };
  std::mutex mutex;
  std::vector<std::string> warnings;
  LoaderOptions options = native_size_options();
  options.batch_size = 1;  // index 4's batch becomes empty and is skipped
  options.shuffle = false;
  options.num_workers = 2;
  options.skip_bad_files = true;
  options.on_warning = [&](const std::string& message) {
    std::lock_guard<std::mutex> lock(mutex);
    warnings.push_back(message);
  };
  WeakLoader loader(source, options);
  EXPECT_EQ(visited_indices(run_epoch(loader, 0)), (std::vector<int64_t>{0, 1, 2, 3, 5}));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("img4.png"), std::string::npos) << warnings[0];
}

TEST(LoaderShutdown, DestroyingMidEpochStopsPromptlyAndRestartWorks) {
  std::atomic<int64_t> reads{0};
  WeakSource source = synthetic_weak_source(200);
  const auto read = source.read;
  source.read = [read, &reads](int64_t index) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ++reads;
    return read(index);
  };
  LoaderOptions options = native_size_options();
  options.batch_size = 2;
  options.num_workers = 4;
  options.prefetch_batches = 6;
  {
    WeakLoader loader(source, options);
    loader.start_epoch(0);
    ASSERT_TRUE(loader.next().has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // let the queue fill
  }  // must not wait for the other 99 batches
  const int64_t after_destruction = reads.load();
  // At most the consumed batch, the full queue and one batch per worker in flight.
  EXPECT_LE(after_destruction, (1 + 6 + 4) * 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(reads.load(), after_destruction);  // no worker outlives the loader

  // Restarting mid-epoch: abandoned batches never show up in the new epoch.
  WeakLoader restarted(synthetic_weak_source(12), options);
  restarted.start_epoch(0);
  ASSERT_TRUE(restarted.next().has_value());
  const auto epoch1 = run_epoch(restarted, 1);
  WeakLoader fresh(synthetic_weak_source(12), options);
  expect_same_batches(epoch1, run_epoch(fresh, 1), "restart");
  // Destroyed without ever starting, and after finishing: nothing hangs.
  { WeakLoader idle(synthetic_weak_source(3), options); }
}

// ---- InstanceLoader --------------------------------------------------------------------

// Image i (16 x 20) has i % 3 rectangles; rectangle j covers x in [j + 1, j + 6),
// y in [2, 9), class (i + j) % 4.
InstanceSource synthetic_instance_source(int64_t size) {
  InstanceSource source;
  source.size = size;
  source.num_classes = 4;
  source.read = [](int64_t index) {
    InstanceRecord record;
    record.image_id = index;
    record.image = Image{16, 20, 3, std::vector<uint8_t>(16 * 20 * 3, static_cast<uint8_t>(index))};
    for (int64_t j = 0; j < index % 3; ++j) {
      std::vector<uint8_t> mask(16 * 20, 0);
      for (int64_t y = 2; y < 9; ++y) {
        for (int64_t x = j + 1; x < j + 6; ++x) mask[y * 20 + x] = 1;
      }
      record.instances.push_back({(index + j) % 4,
                                  Box{static_cast<float>(j + 1), 2, static_cast<float>(j + 6), 9},
                                  rle_encode(mask, 16, 20)});
    }
    return record;
  };
  return source;
}

TEST(LoaderInstances, TargetsFollowTheFlipAndResize) {
  LoaderOptions options = native_size_options();
  options.batch_size = 4;
  options.shuffle = false;
  options.num_workers = 2;
  options.augment.flip_probability = 1.0f;
  options.augment.resize = {0, 0, 32, 40};  // exactly x2
  InstanceLoader loader(synthetic_instance_source(6), options);
  const auto batches = run_epoch(loader, 0);
  ASSERT_EQ(batches.size(), 2u);
  for (const InstanceBatch& batch : batches) {
    EXPECT_EQ(batch.images.size(2), 32);
    EXPECT_EQ(batch.images.size(3), 64);  // 40 padded to 64
    for (size_t n = 0; n < batch.indices.size(); ++n) {
      const int64_t index = batch.indices[n];
      const InstanceTarget& target = batch.targets[n];
      const int64_t count = index % 3;
      ASSERT_EQ(target.boxes.shape(), (Shape{count, 4}));
      ASSERT_EQ(target.labels.shape(), (Shape{count}));
      ASSERT_EQ(target.masks.shape(), (Shape{count, 32, 40}));
      EXPECT_TRUE(batch.geometry[n].flipped);
      const std::vector<float> boxes = target.boxes.to_vector<float>();
      const std::vector<int64_t> labels = target.labels.to_vector<int64_t>();
      const std::vector<uint8_t> masks = target.masks.to_vector<uint8_t>();
      for (int64_t j = 0; j < count; ++j) {
        // Flip in 20 wide: x in [20 - (j + 6), 20 - (j + 1)) = [14 - j, 19 - j); then x2.
        const std::vector<float> expected = {2.0f * (14 - j), 4, 2.0f * (19 - j), 18};
        EXPECT_EQ(std::vector<float>(boxes.begin() + 4 * j, boxes.begin() + 4 * j + 4), expected);
        EXPECT_EQ(labels[j], (index + j) % 4 + 1);  // 0 is the background
        const Rle rle = rle_encode(masks.data() + j * 32 * 40, 32, 40);
        const auto xywh = rle_to_bbox(rle);
        EXPECT_EQ(xywh, (std::array<double, 4>{expected[0], 4, expected[2] - expected[0], 14}));
        EXPECT_EQ(rle_area(rle), 10u * 14u);
      }
    }
  }
  // A mask of the wrong size is an error naming the image and the instance.
  InstanceSource wrong = synthetic_instance_source(3);
  wrong.read = [](int64_t index) {
    InstanceRecord record{index, Image{16, 20, 3, std::vector<uint8_t>(16 * 20 * 3, 0)}, {}};
    record.instances.push_back({0, Box{0, 0, 1, 1}, rle_empty(15, 20)});
    return record;
  };
  InstanceLoader wrong_loader(wrong, native_size_options());
  wrong_loader.start_epoch(0);
  try {
    wrong_loader.next();
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("instance 0: mask is 15 x 20"), std::string::npos)
        << error.what();
  }
}

// ---- Dataset adapters over files -------------------------------------------------------

TEST(LoaderDataset, SourcesFromADatasetReadFilesAndKeepOnlyWhatTheyMayKeep) {
  const std::filesystem::path folder = std::filesystem::path(testing::TempDir()) / "wise_loader_test";
  std::filesystem::create_directories(folder);
  save_png(synthetic_image(1), (folder / "a.png").string());
  save_png(synthetic_image(2), (folder / "b.png").string());
  Dataset dataset;
  dataset.categories = {{5, "cat"}, {9, "dog"}, {12, "bird"}};
  dataset.images = {{11, "a.png", synthetic_height(1), synthetic_width(1), {}},
                    {12, "b.png", synthetic_height(2), synthetic_width(2), {}},
                    {13, "missing.png", 10, 10, {}}};
  const auto mask = [&](int64_t image) {
    return rle_empty(synthetic_height(image), synthetic_width(image));
  };
  Annotation dog{1, 11, 9, mask(1), {1, 2, 3, 4}, 12, false};
  Annotation bird_crowd{2, 11, 12, mask(1), {0, 0, 5, 5}, 25, true};
  Annotation flat_cat{3, 12, 5, mask(2), {1, 1, 0, 3}, 0, false};
  dataset.annotations = {dog, bird_crowd, flat_cat};

  const WeakSource weak = weak_source_from_dataset(dataset, folder.string());
  EXPECT_EQ(weak.size, 3);
  EXPECT_EQ(weak.num_classes, 3);
  const WeakRecord a = weak.read(0);
  EXPECT_EQ(a.image_id, 11);
  EXPECT_EQ(a.image.pixels, synthetic_image(1).pixels);
  EXPECT_EQ(std::set<int64_t>(a.labels.begin(), a.labels.end()), (std::set<int64_t>{1, 2}));
  EXPECT_EQ(weak.read(1).labels, (std::vector<int64_t>{0}));
  try {
    weak.read(2);
    FAIL() << "expected an error";
  } catch (const ImageError& error) {
    EXPECT_NE(std::string(error.what()).find("missing.png"), std::string::npos) << error.what();
  }

  const InstanceSource instances = instance_source_from_dataset(dataset, folder.string());
  const InstanceRecord record = instances.read(0);
  ASSERT_EQ(record.instances.size(), 1u);  // the crowd annotation is left out
  EXPECT_EQ(record.instances[0].label, 1);
  EXPECT_EQ(record.instances[0].box, (Box{1, 2, 4, 6}));
  EXPECT_TRUE(instances.read(1).instances.empty());  // zero-width box left out

  // Through a loader with skip_bad_files: the missing file is skipped with a warning.
  std::vector<std::string> warnings;
  LoaderOptions options = native_size_options();
  options.batch_size = 3;
  options.num_workers = 1;
  options.skip_bad_files = true;
  options.on_warning = [&](const std::string& message) { warnings.push_back(message); };
  WeakLoader loader(weak, options);
  const auto batches = run_epoch(loader, 0);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].indices.size(), 2u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("missing.png"), std::string::npos) << warnings[0];

  // A size that disagrees with the dataset, and an unknown category, are named errors.
  Dataset wrong_size = dataset;
  wrong_size.images[0].height += 1;
  EXPECT_THROW(weak_source_from_dataset(wrong_size, folder.string()).read(0), Error);
  Dataset unknown = dataset;
  unknown.annotations[0].category_id = 77;
  try {
    weak_source_from_dataset(unknown, folder.string());
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("category_id 77"), std::string::npos) << error.what();
  }
  std::filesystem::remove_all(folder);
}

// A truncated JPEG keeps an intact header, so the dataset readers (which check only
// sizes) accept it, as evaluation should; training decodes every pixel, so the loaders
// must not: a named error, or with skip_bad_files a warning and the image left out.
TEST(LoaderDataset, ATruncatedJpegFailsInTrainingOrIsSkippedWithAWarning) {
  const std::filesystem::path folder = std::filesystem::path(testing::TempDir()) / "wise_loader_truncated";
  std::filesystem::create_directories(folder);
  save_jpeg(synthetic_image(1), (folder / "good.jpg").string());
  save_jpeg(synthetic_image(2), (folder / "cut.jpg").string());
  const std::string cut = (folder / "cut.jpg").string();
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) / 2);
  EXPECT_EQ(read_image_header(cut).height, synthetic_height(2));  // the header still reads

  Dataset dataset;
  dataset.categories = {{1, "cat"}};
  dataset.images = {{1, "good.jpg", synthetic_height(1), synthetic_width(1), {}},
                    {2, "cut.jpg", synthetic_height(2), synthetic_width(2), {}}};
  for (const bool instances : {false, true}) {
    SCOPED_TRACE(instances ? "InstanceLoader" : "WeakLoader");
    LoaderOptions options = native_size_options();
    options.batch_size = 2;
    options.num_workers = 1;
    auto epoch = [&](const LoaderOptions& o) {
      if (instances) {
        InstanceLoader loader(instance_source_from_dataset(dataset, folder.string()), o);
        loader.start_epoch(0);
        int64_t images = 0;
        while (auto batch = loader.next()) images += static_cast<int64_t>(batch->image_ids.size());
        return images;
      }
      WeakLoader loader(weak_source_from_dataset(dataset, folder.string()), o);
      loader.start_epoch(0);
      int64_t images = 0;
      while (auto batch = loader.next()) images += static_cast<int64_t>(batch->image_ids.size());
      return images;
    };
    try {
      epoch(options);
      ADD_FAILURE() << "the truncated JPEG was decoded without an error";
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find("cut.jpg"), std::string::npos) << error.what();
      EXPECT_NE(std::string(error.what()).find("cannot read image"), std::string::npos) << error.what();
    }
    std::vector<std::string> warnings;
    options.skip_bad_files = true;
    options.on_warning = [&](const std::string& message) { warnings.push_back(message); };
    EXPECT_EQ(epoch(options), 1);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("cut.jpg"), std::string::npos) << warnings[0];
  }
}

}  // namespace
}  // namespace wise::data
