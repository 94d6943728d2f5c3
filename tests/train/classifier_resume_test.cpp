// apps/train_classifier end to end, on a tiny configuration: a run killed with
// SIGKILL after a checkpoint appeared and then resumed ends with exactly the
// tensors, and the log, of a run that was never interrupted; and the app's
// errors (no dataset, a bad flag) name the problem.
//
// The dataset is shapes-v1 shrunk (24 train and 8 val images of 64 x 64,
// data/shapes/shapes.h) and generated into a scratch directory through the library; the
// network is ResNet-18 at width 0.125 with batches of 4. The app is a separate
// program, started with posix_spawn (no bare fork(): OpenMP's threads do not
// survive one), found through WISE_TRAIN_CLASSIFIER (tests/CMakeLists.txt).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/coco.h"
#include "data/image_io.h"
#include "data/rle.h"
#include "data/shapes/shapes.h"
#include "models/resnet.h"
#include "models/torchvision_weights.h"
#include "nn/state_dict.h"
#include "tests/train/app_process.h"
#include "tests/train/tiny_trainer.h"
#include "train/checkpoint.h"

extern char** environ;

namespace wise::testing {
namespace {

namespace fs = std::filesystem;

#ifndef WISE_TRAIN_CLASSIFIER
#error "WISE_TRAIN_CLASSIFIER (the train_classifier binary) must be defined by tests/CMakeLists.txt"
#endif

constexpr int64_t kIterations = 16;

std::vector<std::string> app_arguments(const std::string& data_dir, const std::string& out_dir) {
  return {WISE_TRAIN_CLASSIFIER, "--data",  data_dir, "--out", out_dir, "--width", "0.125", "--batch-size", "4",
          "--iterations", std::to_string(kIterations), "--warmup", "4", "--lr", "0.05", "--checkpoint-every", "2",
          "--keep-last", "2", "--log-every", "1", "--workers", "1", "--val-batch-size", "8"};
}

class ClassifierApp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dataset_ = new std::string((fs::temp_directory_path() / ("wise_classifier_data_" + std::to_string(::getpid())))
                                   .string());
    make_tiny_shapes_dataset(*dataset_, 24, 8);
  }
  static void TearDownTestSuite() {
    std::error_code error;
    fs::remove_all(*dataset_, error);
    delete dataset_;
    dataset_ = nullptr;
  }
  static std::string* dataset_;
};
std::string* ClassifierApp::dataset_ = nullptr;

TEST_F(ClassifierApp, KilledAndResumedRunEndsWithTheTensorsAndLogOfAnUninterruptedOne) {
  ScratchDirectory scratch;
  const std::string clean_dir = scratch.file("clean");
  ASSERT_TRUE(exited_with(run_app(app_arguments(*dataset_, clean_dir), scratch.file("clean.txt")), 0))
      << read_file(scratch.file("clean.txt"));
  const std::string clean_output = read_file(scratch.file("clean.txt"));
  EXPECT_NE(clean_output.find("validation (val split, 8 images"), std::string::npos) << clean_output;
  EXPECT_NE(clean_output.find("mean         (8)"), std::string::npos) << clean_output;

  // Killed once a checkpoint is on disk. The app might (on a very busy machine)
  // finish before the kill lands; then try again in a fresh directory.
  std::string killed_dir;
  int64_t killed_at = -1;
  for (int attempt = 0; attempt < 3 && killed_at < 0; ++attempt) {
    killed_dir = scratch.file("killed" + std::to_string(attempt));
    App app(app_arguments(*dataset_, killed_dir), scratch.file("killed.txt"));
    ASSERT_TRUE(app.spawned());
    while (!app.poll() && !fs::exists(checkpoint_path(killed_dir, 2))) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (!app.running()) continue;  // it ended by itself
    app.kill();
    const int status = app.wait();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << read_file(scratch.file("killed.txt"));
    const auto checkpoints = list_checkpoints(killed_dir);
    ASSERT_FALSE(checkpoints.empty());
    if (checkpoints.back().first < kIterations) killed_at = checkpoints.back().first;
  }
  ASSERT_GE(killed_at, 2) << "the app finished before it could be killed, 3 times";
  EXPECT_FALSE(fs::exists(checkpoint_path(killed_dir, kIterations)));

  std::vector<std::string> resume = app_arguments(*dataset_, killed_dir);
  resume.push_back("--resume");
  ASSERT_TRUE(exited_with(run_app(resume, scratch.file("resumed.txt")), 0)) << read_file(scratch.file("resumed.txt"));
  const std::string resumed_output = read_file(scratch.file("resumed.txt"));
  EXPECT_NE(resumed_output.find("wise: resumed from " + killed_dir + "/checkpoint-"), std::string::npos)
      << resumed_output;

  // The final checkpoints hold the same tensors, bit for bit (the model with its
  // BN statistics, and the optimizer's momentum and step count).
  const auto clean = checkpoint_bytes(checkpoint_path(clean_dir, kIterations));
  const auto resumed = checkpoint_bytes(checkpoint_path(killed_dir, kIterations));
  ASSERT_EQ(clean.size(), resumed.size());
  EXPECT_TRUE(clean.count("model.fc.weight") && clean.count("model.bn1.running_mean") &&
              clean.count("optimizer.sgd.momentum_buffer"));
  for (const auto& [name, bytes] : clean) {
    ASSERT_TRUE(resumed.count(name)) << name;
    EXPECT_TRUE(resumed.at(name) == bytes) << name << " differs";
  }
  // The same log, record for record (training steps and the validation at the end).
  const auto clean_log = log_records(clean_dir), resumed_log = log_records(killed_dir);
  ASSERT_EQ(clean_log.size(), static_cast<size_t>(kIterations + 1));
  EXPECT_EQ(clean_log.back()["event"], "validation");
  EXPECT_EQ(clean_log.back()["step"], kIterations);
  EXPECT_TRUE(clean_log.back().contains("mAP") && clean_log.back().contains("AP_circle"));
  EXPECT_EQ(clean_log, resumed_log);

  // Resuming a finished run trains nothing and logs its validation once.
  ASSERT_TRUE(exited_with(run_app(resume, scratch.file("again.txt")), 0)) << read_file(scratch.file("again.txt"));
  EXPECT_EQ(log_records(killed_dir), resumed_log);
}

// AdamW trains through the app, its state travels in the checkpoint, and the
// exported body is what --weights loads: torchvision's names, every one of a
// ResNet's parameters and statistics, nothing else.
TEST_F(ClassifierApp, AdamWRunExportsABodyThatLoadsAsImageNetWeights) {
  ScratchDirectory scratch;
  const std::string out = scratch.file("adamw"), body = scratch.file("body.safetensors");
  std::vector<std::string> arguments = app_arguments(*dataset_, out);
  for (const char* extra : {"--optimizer", "adamw", "--lr", "1e-3", "--export-body", "--no-val"}) {
    arguments.push_back(extra);
  }
  arguments.insert(arguments.end() - 1, body);  // --export-body FILE, then --no-val
  ASSERT_TRUE(exited_with(run_app(arguments, scratch.file("adamw.txt")), 0)) << read_file(scratch.file("adamw.txt"));
  EXPECT_NE(read_file(scratch.file("adamw.txt")).find("adamw lr 0.001"), std::string::npos);
  const auto checkpoint = read_tensors(checkpoint_path(out, kIterations));
  EXPECT_TRUE(checkpoint.count("optimizer.adam.exp_avg") && checkpoint.count("optimizer.adam.step"));

  ParameterBuffer buffer;
  ResNetConfig config;
  config.depth = 18;
  config.width_multiplier = 0.125;
  config.norm = Normalization::frozen_batch_norm;
  ResNet body_model(config, buffer);
  buffer.allocate(Device::cpu);
  const LoadReport report = load_torchvision_weights(body, buffer);
  EXPECT_EQ(report.loaded.size(), static_cast<size_t>(buffer.size()));
  EXPECT_TRUE(report.unexpected.empty());
  EXPECT_EQ(buffer.value("layer4.1.conv2.weight").to_vector<float>(),
            checkpoint.at("model.layer4.1.conv2.weight").to_vector<float>());
}

// train_prm on the same tiny set: it trains through the shared loop and reports the
// classification table and the peaks' recall and precision on the val split.
TEST_F(ClassifierApp, TrainPrmReportsClassificationAndPeakQuality) {
  ScratchDirectory scratch;
  const std::string out = scratch.file("prm");
  const std::vector<std::string> arguments = {
      WISE_TRAIN_PRM, "--data", *dataset_, "--out", out, "--width", "0.125", "--batch-size", "4", "--iterations", "3",
      "--warmup", "1", "--checkpoint-every", "2", "--log-every", "1", "--workers", "1"};
  ASSERT_TRUE(exited_with(run_app(arguments, scratch.file("prm.txt")), 0)) << read_file(scratch.file("prm.txt"));
  const std::string output = read_file(scratch.file("prm.txt"));
  EXPECT_NE(output.find("validation (val split, 8 images"), std::string::npos) << output;
  EXPECT_NE(output.find("peaks: recall "), std::string::npos) << output;
  const auto log = log_records(out);
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back()["event"], "validation");
  EXPECT_TRUE(log.back().contains("peak_recall") && log.back().contains("mAP"));
  EXPECT_TRUE(fs::exists(checkpoint_path(out, 3)));

  std::vector<std::string> bad = arguments;
  bad.push_back("--optimizer");
  bad.push_back("lbfgs");
  EXPECT_TRUE(exited_with(run_app(bad, scratch.file("bad.txt")), 2));
  EXPECT_NE(read_file(scratch.file("bad.txt")).find("expected sgd, adam or adamw, found \"lbfgs\""),
            std::string::npos);
}

// train_prm --pseudo-masks: after training, WISE's pseudo masks of the first train images
// as a COCO dataset that reads back, each mask labelled with a class of its image's
// label; the same seed gives the same file, byte for byte, at output stride 16.
TEST_F(ClassifierApp, TrainPrmWritesPseudoMasksOfTheLabelledClasses) {
  ScratchDirectory scratch;
  const std::string out = scratch.file("prm");
  const std::vector<std::string> arguments = {
      WISE_TRAIN_PRM, "--data", *dataset_, "--out", out, "--width", "0.125", "--batch-size", "4", "--iterations", "2",
      "--warmup", "1", "--workers", "1", "--no-val", "--output-stride", "16", "--pseudo-masks", "--pseudo-limit", "6",
      "--pseudo-seed", "3"};
  ASSERT_TRUE(exited_with(run_app(arguments, scratch.file("prm.txt")), 0)) << read_file(scratch.file("prm.txt"));
  const std::string output = read_file(scratch.file("prm.txt"));
  EXPECT_NE(output.find("pseudo masks (sample by objectness, seed 3, scored by class_map): "), std::string::npos) << output;
  EXPECT_NE(output.find("on 6 images"), std::string::npos) << output;
  const std::string path = out + "/pseudo_masks-sample.json";
  const data::Dataset pseudo = data::read_coco_dataset(path);
  const data::Dataset train = data::read_coco_dataset(*dataset_ + "/annotations/train.json");
  ASSERT_EQ(pseudo.images.size(), 6u);
  std::map<int64_t, std::set<int64_t>> labels;
  for (const data::Annotation& annotation : train.annotations) labels[annotation.image_id].insert(annotation.category_id);
  for (size_t i = 0; i < pseudo.images.size(); ++i) EXPECT_EQ(pseudo.images[i].id, train.images[i].id);
  for (const data::Annotation& annotation : pseudo.annotations) {
    EXPECT_TRUE(labels[annotation.image_id].count(annotation.category_id))
        << "pseudo mask " << annotation.id << " of class " << annotation.category_id << " not in image "
        << annotation.image_id << "'s label";
    EXPECT_GT(annotation.area, 0);
  }
  // The same masks, scored, as COCO results that `evaluate` reads against the train split.
  const std::vector<data::Detection> scored = data::read_coco_results(out + "/pseudo_masks-sample-results.json", train);
  ASSERT_EQ(scored.size(), pseudo.annotations.size());
  for (size_t i = 0; i < scored.size(); ++i) {
    EXPECT_EQ(scored[i].image_id, pseudo.annotations[i].image_id);
    EXPECT_EQ(scored[i].category_id, pseudo.annotations[i].category_id);
    EXPECT_EQ(scored[i].segmentation.counts, pseudo.annotations[i].segmentation.counts);
    EXPECT_GE(scored[i].score, 0.0f);
  }
  const std::string first = read_file(path);
  fs::remove_all(out);  // the same run again (its proposals recomputed: the cache went too)
  ASSERT_TRUE(exited_with(run_app(arguments, scratch.file("again.txt")), 0)) << read_file(scratch.file("again.txt"));
  EXPECT_EQ(read_file(path), first);
}

// Mask IoU by decoding both masks: the reference for the NMS rule.
double pixel_iou(const data::Rle& a, const data::Rle& b) {
  const std::vector<uint8_t> x = data::rle_decode(a), y = data::rle_decode(b);
  double both = 0, either = 0;
  for (size_t p = 0; p < x.size(); ++p) {
    both += x[p] && y[p];
    either += x[p] || y[p];
  }
  return either > 0 ? both / either : 0.0;
}

// train_prm --prm-baseline: after training, PRM's own instances of the first val images
// as COCO results that read back: images among those, classes predicted present (score =
// sigmoid of a logit >= 0), and no two instances of an image overlapping at the mask
// NMS's IoU 0.3 or more; the report gives both protocols' mAP.
TEST_F(ClassifierApp, TrainPrmWritesThePrmBaselineOfTheValSplit) {
  ScratchDirectory scratch;
  const std::string out = scratch.file("prm");
  const std::vector<std::string> arguments = {
      WISE_TRAIN_PRM, "--data", *dataset_, "--out", out, "--width", "0.125", "--batch-size", "4", "--iterations", "2",
      "--warmup", "1", "--workers", "1", "--output-stride", "16", "--peak-fraction", "0.5", "--prm-baseline",
      "--prm-baseline-limit", "5"};
  ASSERT_TRUE(exited_with(run_app(arguments, scratch.file("prm.txt")), 0)) << read_file(scratch.file("prm.txt"));
  const std::string output = read_file(scratch.file("prm.txt"));
  EXPECT_NE(output.find("PRM baseline (peak response retrieval): "), std::string::npos) << output;
  EXPECT_NE(output.find(" on 5 images"), std::string::npos) << output;
  EXPECT_NE(output.find("voc mAP 25/50/75 "), std::string::npos) << output;
  const data::Dataset val = data::read_coco_dataset(*dataset_ + "/annotations/val.json");
  const std::vector<data::ImageInfo> first(val.images.begin(), val.images.begin() + 5);
  const std::vector<data::Detection> detections = data::read_coco_results(out + "/prm_baseline-val.json", val);
  ASSERT_FALSE(detections.empty()) << output;
  std::set<int64_t> first_ids, category_ids;
  for (const data::ImageInfo& image : first) first_ids.insert(image.id);
  for (const data::Category& category : val.categories) category_ids.insert(category.id);
  std::map<int64_t, std::vector<const data::Detection*>> by_image;
  for (const data::Detection& detection : detections) {
    EXPECT_TRUE(first_ids.count(detection.image_id)) << detection.image_id;
    EXPECT_TRUE(category_ids.count(detection.category_id)) << detection.category_id;
    EXPECT_GE(detection.score, 0.5f);
    EXPECT_LE(detection.score, 1.0f);
    EXPECT_GT(data::rle_area(detection.segmentation), 0);
    by_image[detection.image_id].push_back(&detection);
  }
  for (const auto& [image, instances] : by_image) {
    for (size_t a = 0; a < instances.size(); ++a) {
      for (size_t b = a + 1; b < instances.size(); ++b) {
        EXPECT_LT(pixel_iou(instances[a]->segmentation, instances[b]->segmentation), 0.3)
            << "image " << image << ", instances " << a << " and " << b;
      }
    }
  }

  std::vector<std::string> no_val = arguments;
  no_val.push_back("--no-val");
  EXPECT_TRUE(exited_with(run_app(no_val, scratch.file("no-val.txt")), 1));
  EXPECT_NE(read_file(scratch.file("no-val.txt")).find("the PRM baseline runs on the val split"), std::string::npos)
      << read_file(scratch.file("no-val.txt"));
}

// train_prm --pseudo-shard i/n (on the trained run, --resume) and merge_shards
// --instances: two shards' pseudo masks, merged, are the unsharded run's files byte for
// byte (the masks and their scored results).
TEST_F(ClassifierApp, PseudoMaskShardsMergeIntoTheUnshardedFiles) {
  ScratchDirectory scratch;
  const std::string out = scratch.file("prm");
  std::vector<std::string> arguments = {
      WISE_TRAIN_PRM, "--data", *dataset_, "--out", out, "--width", "0.125", "--batch-size", "4", "--iterations", "2",
      "--warmup", "1", "--workers", "1", "--no-val", "--output-stride", "16", "--pseudo-masks", "--pseudo-limit", "7",
      "--pseudo-weighting", "class_map", "--selection", "best", "--peak-fraction", "0.1"};
  ASSERT_TRUE(exited_with(run_app(arguments, scratch.file("prm.txt")), 0)) << read_file(scratch.file("prm.txt"));
  std::vector<std::string> shards;
  for (const char* shard : {"0/2", "1/2"}) {
    std::vector<std::string> part = arguments;
    part.insert(part.end(), {"--resume", "--pseudo-shard", shard});
    ASSERT_TRUE(exited_with(run_app(part, scratch.file("part.txt")), 0)) << read_file(scratch.file("part.txt"));
  }
  for (const char* name : {"pseudo_masks-best-shard-0-of-2.json", "pseudo_masks-best-shard-1-of-2.json"}) {
    ASSERT_TRUE(fs::exists(out + "/" + name)) << name;
    shards.push_back(out + "/" + name);
  }
  const std::string merged = scratch.file("merged.json");
  std::vector<std::string> merge{WISE_MERGE_SHARDS, "--annotations", *dataset_ + "/annotations/train.json", "--limit",
                                 "7", "--instances", merged, shards[1], shards[0]};
  ASSERT_TRUE(exited_with(run_app(merge, scratch.file("merge.txt")), 0)) << read_file(scratch.file("merge.txt"));
  EXPECT_EQ(read_file(merged), read_file(out + "/pseudo_masks-best.json"));
  EXPECT_EQ(read_file(scratch.file("merged-results.json")), read_file(out + "/pseudo_masks-best-results.json"));
  // One shard alone does not cover the seven images.
  merge.pop_back();
  EXPECT_TRUE(exited_with(run_app(merge, scratch.file("short.txt")), 1));
  EXPECT_NE(read_file(scratch.file("short.txt")).find(") is in no shard"), std::string::npos) << read_file(scratch.file("short.txt"));
}

#ifdef WISE_MPIEXEC
// train_prm's per-image steps under mpirun, on a PRM trained by one process (a finished
// run resumes at any number of processes): the ranks split the images, and rank 0 writes
// the pseudo masks, their scored copy and the PRM baseline's results of one process,
// byte for byte, with the same report; the ranks' files are gone.
TEST_F(ClassifierApp, UnderMpirunPseudoMasksAndBaselineAreOneProcesssFiles) {
  ScratchDirectory scratch;
  const std::string alone = scratch.file("alone"), job = scratch.file("job");
  auto prm = [&](const std::string& out) {
    return std::vector<std::string>{
        WISE_TRAIN_PRM, "--data", *dataset_, "--out", out, "--width", "0.125", "--batch-size", "4", "--iterations", "2",
        "--warmup", "1", "--workers", "1", "--output-stride", "16", "--pseudo-limit", "7", "--pseudo-weighting",
        "class_map", "--selection", "best", "--peak-fraction", "0.1", "--prm-baseline-limit", "5"};
  };
  std::vector<std::string> train = prm(alone);
  train.push_back("--no-val");
  ASSERT_TRUE(exited_with(run_app(train, scratch.file("train.txt")), 0)) << read_file(scratch.file("train.txt"));
  fs::copy(alone, job, fs::copy_options::recursive);
  const std::vector<std::string> steps{"--resume", "--pseudo-masks", "--prm-baseline"};
  std::vector<std::string> one = prm(alone), two = prm(job);
  one.insert(one.end(), steps.begin(), steps.end());
  two.insert(two.end(), steps.begin(), steps.end());
  ASSERT_TRUE(exited_with(run_app(one, scratch.file("one.txt")), 0)) << read_file(scratch.file("one.txt"));
  ASSERT_TRUE(exited_with(run_app(mpirun_command(WISE_MPIEXEC, 2, two), scratch.file("two.txt")), 0))
      << read_file(scratch.file("two.txt"));
  for (const char* file : {"/pseudo_masks-best.json", "/pseudo_masks-best-results.json", "/prm_baseline-val.json"}) {
    ASSERT_TRUE(fs::exists(alone + file)) << file;
    EXPECT_TRUE(read_file(job + file) == read_file(alone + file)) << file << " differs";
  }
  for (const fs::directory_entry& entry : fs::directory_iterator(job))
    EXPECT_EQ(entry.path().filename().string().find(".rank-"), std::string::npos) << entry.path() << " is left";
  // The reports: the same counts and scores.
  const auto line_of = [](const std::string& output, const std::string& start) {
    const size_t at = output.find(start);
    return at == std::string::npos ? std::string() : output.substr(at, output.find('\n', at) - at);
  };
  const std::string alone_text = read_file(scratch.file("one.txt")), job_text = read_file(scratch.file("two.txt"));
  EXPECT_FALSE(line_of(alone_text, "pseudo masks (").empty()) << alone_text;
  EXPECT_EQ(line_of(job_text, "pseudo masks ("), line_of(alone_text, "pseudo masks ("));
  const std::string baseline = line_of(alone_text, "PRM baseline (");
  ASSERT_FALSE(baseline.empty()) << alone_text;
  const std::string counts = baseline.substr(0, baseline.rfind("; "));  // less the seconds
  EXPECT_EQ(line_of(job_text, "PRM baseline (").substr(0, counts.size()), counts) << job_text;
}
#endif

// train_prm --pseudo-masks with the class-aware options: candidates weighted by their
// class map (best of objectness x support), then a per-class NMS at 0.3: no two pseudo
// masks of one class in an image overlap at IoU 0.3 or more, and the report says so. A
// weighting that is not one of the choices is a command-line error naming it.
TEST_F(ClassifierApp, TrainPrmPseudoMasksWithClassMapWeightingAndNms) {
  ScratchDirectory scratch;
  const std::string out = scratch.file("prm");
  std::vector<std::string> arguments = {
      WISE_TRAIN_PRM, "--data", *dataset_, "--out", out, "--width", "0.125", "--batch-size", "4", "--iterations", "2",
      "--warmup", "1", "--workers", "1", "--no-val", "--output-stride", "16", "--pseudo-masks", "--pseudo-limit", "6",
      "--pseudo-weighting", "class_map", "--selection", "best", "--pseudo-nms", "0.3", "--peak-fraction", "0.1"};
  ASSERT_TRUE(exited_with(run_app(arguments, scratch.file("prm.txt")), 0)) << read_file(scratch.file("prm.txt"));
  const std::string output = read_file(scratch.file("prm.txt"));
  EXPECT_NE(output.find("pseudo masks (best by class_map, seed 0, scored by class_map): "), std::string::npos) << output;
  EXPECT_NE(output.find(" suppressed, 0 scored below 0); against"), std::string::npos) << output;
  const data::Dataset pseudo = data::read_coco_dataset(out + "/pseudo_masks-best.json");
  ASSERT_FALSE(pseudo.annotations.empty()) << output;
  std::map<std::pair<int64_t, int64_t>, std::vector<const data::Annotation*>> by_image_and_class;
  for (const data::Annotation& annotation : pseudo.annotations) {
    by_image_and_class[{annotation.image_id, annotation.category_id}].push_back(&annotation);
  }
  for (const auto& [key, masks] : by_image_and_class) {
    for (size_t a = 0; a < masks.size(); ++a) {
      for (size_t b = a + 1; b < masks.size(); ++b) {
        EXPECT_LT(pixel_iou(masks[a]->segmentation, masks[b]->segmentation), 0.3)
            << "image " << key.first << ", class " << key.second << ", masks " << a << " and " << b;
      }
    }
  }
  // --pseudo-min-score on the same run (--resume: the same model): exactly the scored masks
  // at or above it are kept, the rest counted.
  const data::Dataset train = data::read_coco_dataset(*dataset_ + "/annotations/train.json");
  const std::vector<data::Detection> all = data::read_coco_results(out + "/pseudo_masks-best-results.json", train);
  ASSERT_EQ(all.size(), pseudo.annotations.size());
  std::vector<float> scores;
  for (const data::Detection& detection : all) scores.push_back(detection.score);
  std::sort(scores.begin(), scores.end());
  const float threshold = scores[scores.size() / 2];
  const auto at_least = [&](float score) { return score >= threshold; };
  const int64_t kept = std::count_if(scores.begin(), scores.end(), at_least);
  std::vector<std::string> thresholded = arguments;
  for (const char* extra : {"--resume", "--pseudo-min-score"}) thresholded.push_back(extra);
  thresholded.push_back(std::to_string(threshold));
  ASSERT_TRUE(exited_with(run_app(thresholded, scratch.file("min.txt")), 0)) << read_file(scratch.file("min.txt"));
  const std::vector<data::Detection> high = data::read_coco_results(out + "/pseudo_masks-best-results.json", train);
  EXPECT_EQ(static_cast<int64_t>(high.size()), kept);
  for (const data::Detection& detection : high) EXPECT_GE(detection.score, threshold);
  EXPECT_EQ(static_cast<int64_t>(data::read_coco_dataset(out + "/pseudo_masks-best.json").annotations.size()), kept);
  EXPECT_NE(read_file(scratch.file("min.txt")).find(std::to_string(static_cast<long long>(all.size()) - kept) +
                                                    " scored below "),
            std::string::npos)
      << read_file(scratch.file("min.txt"));

  arguments[arguments.size() - 7] = "by_size";  // the weighting's value
  EXPECT_TRUE(exited_with(run_app(arguments, scratch.file("bad.txt")), 2)) << read_file(scratch.file("bad.txt"));
  EXPECT_NE(read_file(scratch.file("bad.txt")).find("pseudo-mask weighting 'by_size'"), std::string::npos)
      << read_file(scratch.file("bad.txt"));
}

// train_prm --figures: one panel per first train image, named by its id, laid out as
// tiles of the 64 x 64 images at x2 with 4-pixel margins: at least the image, one class
// map and the pseudo masks in the first row, and a second row only for response maps.
TEST_F(ClassifierApp, TrainPrmDrawsFigurePanels) {
  ScratchDirectory scratch;
  const std::string out = scratch.file("prm");
  const std::vector<std::string> arguments = {WISE_TRAIN_PRM, "--data", *dataset_, "--out", out, "--width", "0.125",
                                              "--batch-size", "4", "--iterations", "2", "--warmup", "1", "--workers",
                                              "1", "--no-val", "--output-stride", "16", "--figures", "2"};
  ASSERT_TRUE(exited_with(run_app(arguments, scratch.file("prm.txt")), 0)) << read_file(scratch.file("prm.txt"));
  EXPECT_NE(read_file(scratch.file("prm.txt")).find("figures: 2 panels in "), std::string::npos);
  const data::Dataset train = data::read_coco_dataset(*dataset_ + "/annotations/train.json");
  for (size_t i = 0; i < 2; ++i) {
    const std::string path = out + "/figures/" + std::to_string(train.images[i].id) + ".png";
    ASSERT_TRUE(fs::exists(path)) << path;
    const data::Image panel = data::load_image(path, 3);
    const int64_t tile = 64 * 2 + 4;
    EXPECT_TRUE(panel.height == tile + 4 || panel.height == 2 * tile + 4) << panel.height;
    EXPECT_EQ((panel.width - 4) % tile, 0) << panel.width;
    EXPECT_GE((panel.width - 4) / tile, 3) << panel.width;
  }
}

TEST_F(ClassifierApp, ErrorsNameTheProblem) {
  ScratchDirectory scratch;
  const std::string missing = scratch.file("no-dataset");
  EXPECT_TRUE(exited_with(run_app(app_arguments(missing, scratch.file("out")), scratch.file("a.txt")), 1));
  const std::string output = read_file(scratch.file("a.txt"));
  EXPECT_NE(output.find(missing + "/annotations/train.json does not exist"), std::string::npos) << output;
  EXPECT_NE(output.find("make_shapes --config shapes-v1 --out " + missing), std::string::npos) << output;

  std::vector<std::string> bad = app_arguments(*dataset_, scratch.file("out"));
  bad.push_back("--batch-size");
  bad.push_back("zero");
  EXPECT_TRUE(exited_with(run_app(bad, scratch.file("b.txt")), 2));
  EXPECT_NE(read_file(scratch.file("b.txt")).find("--batch-size: expected an integer >= 1, found \"zero\""),
            std::string::npos)
      << read_file(scratch.file("b.txt"));

  // An out_dir holding another run's checkpoints is refused without --resume.
  const std::string out = scratch.file("existing");
  fs::create_directories(out);
  write_file(checkpoint_path(out, 2), "x");
  EXPECT_TRUE(exited_with(run_app(app_arguments(*dataset_, out), scratch.file("c.txt")), 1));
  EXPECT_NE(read_file(scratch.file("c.txt")).find("already holds checkpoints"), std::string::npos)
      << read_file(scratch.file("c.txt"));
}

}  // namespace
}  // namespace wise::testing
