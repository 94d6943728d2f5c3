// apps/train_maskrcnn end to end on a tiny configuration (shapes-v1's generator at 64 x 64,
// ResNet-18 x0.125 with GroupNorm, a small FPN and heads): a run killed after a
// checkpoint and resumed ends with the tensors and the log (validation records included)
// of an uninterrupted one; training on another annotation file (the pseudo masks' path)
// works with images that have no instance; the val detections are a COCO results file;
// bad command lines and missing data name the problem.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "data/coco.h"
#include "data/shapes/shapes.h"
#include "tests/train/app_process.h"
#include "train/checkpoint.h"

namespace wise::testing {
namespace {

namespace fs = std::filesystem;

#ifndef WISE_TRAIN_MASKRCNN
#error "WISE_TRAIN_MASKRCNN (the train_maskrcnn binary) must be defined by tests/CMakeLists.txt"
#endif

constexpr int64_t kIterations = 8;

std::vector<std::string> app_arguments(const std::string& data_dir, const std::string& out_dir) {
  return {WISE_TRAIN_MASKRCNN, "--data", data_dir, "--out", out_dir, "--width", "0.125", "--norm", "group_norm",
          "--fpn-channels", "16", "--representation", "32", "--mask-layers", "1", "--rpn-batch", "32",
          "--rpn-top-n", "100,50", "--rpn-test-top-n", "50,20", "--box-batch", "32", "--anchor-sizes",
          "8,16,32,64,128", "--batch-size", "2", "--iterations", std::to_string(kIterations), "--warmup", "2",
          "--lr", "0.01", "--checkpoint-every", "2", "--log-every", "1", "--val-every", "4", "--val-limit", "2",
          "--workers", "1"};
}

class MaskRcnnApp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dataset_ = new std::string((fs::temp_directory_path() / ("wise_maskrcnn_data_" + std::to_string(::getpid()))).string());
    make_tiny_shapes_dataset(*dataset_, 12, 4);
  }
  static void TearDownTestSuite() {
    std::error_code error;
    fs::remove_all(*dataset_, error);
    delete dataset_;
    dataset_ = nullptr;
  }
  static std::string* dataset_;
};
std::string* MaskRcnnApp::dataset_ = nullptr;

TEST_F(MaskRcnnApp, KilledAndResumedRunEndsWithTheTensorsAndLogOfAnUninterruptedOne) {
  ScratchDirectory scratch;
  const std::string clean_dir = scratch.file("clean");
  ASSERT_TRUE(exited_with(run_app(app_arguments(*dataset_, clean_dir), scratch.file("clean.txt")), 0))
      << read_file(scratch.file("clean.txt"));
  const std::string clean_output = read_file(scratch.file("clean.txt"));
  EXPECT_NE(clean_output.find("validation (val split): mask mAP 25/50/75 (voc)"), std::string::npos) << clean_output;
  // The val detections are a COCO results file of the val images.
  const std::vector<data::Detection> detections =
      data::read_coco_results((fs::path(clean_dir) / "detections-val.json").string(),
                              data::read_coco_dataset(*dataset_ + "/annotations/val.json"));
  for (const data::Detection& d : detections) EXPECT_EQ(d.segmentation.height, 64);

  std::string killed_dir;
  int64_t killed_at = -1;
  for (int attempt = 0; attempt < 3 && killed_at < 0; ++attempt) {
    killed_dir = scratch.file("killed" + std::to_string(attempt));
    App app(app_arguments(*dataset_, killed_dir), scratch.file("killed.txt"));
    ASSERT_TRUE(app.spawned());
    while (!app.poll() && !fs::exists(checkpoint_path(killed_dir, 2))) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (!app.running()) continue;
    app.kill();
    app.wait();
    const auto checkpoints = list_checkpoints(killed_dir);
    ASSERT_FALSE(checkpoints.empty());
    if (checkpoints.back().first < kIterations) killed_at = checkpoints.back().first;
  }
  ASSERT_GE(killed_at, 2) << "the app finished before it could be killed, 3 times";
  std::vector<std::string> resume = app_arguments(*dataset_, killed_dir);
  resume.push_back("--resume");
  ASSERT_TRUE(exited_with(run_app(resume, scratch.file("resumed.txt")), 0)) << read_file(scratch.file("resumed.txt"));

  const auto clean = checkpoint_bytes(checkpoint_path(clean_dir, kIterations));
  const auto resumed = checkpoint_bytes(checkpoint_path(killed_dir, kIterations));
  ASSERT_EQ(clean.size(), resumed.size());
  EXPECT_TRUE(clean.count("model.roi_heads.mask_predictor.mask_fcn_logits.weight") &&
              clean.count("model.rpn.head.conv.0.0.weight"));
  for (const auto& [name, bytes] : clean) {
    ASSERT_TRUE(resumed.count(name)) << name;
    EXPECT_TRUE(resumed.at(name) == bytes) << name << " differs";
  }
  const auto clean_log = log_records(clean_dir);
  // 8 steps, a validation record after step 4, the final validation
  ASSERT_EQ(clean_log.size(), static_cast<size_t>(kIterations + 2));
  EXPECT_EQ(clean_log[4]["event"], "validation");
  EXPECT_EQ(clean_log[4]["step"], 4);
  EXPECT_TRUE(clean_log[4].contains("mAP50"));
  EXPECT_EQ(clean_log.back()["event"], "final_validation");
  EXPECT_EQ(clean_log, log_records(killed_dir));
}

TEST_F(MaskRcnnApp, TrainsOnAnotherAnnotationFileWithEmptyImages) {
  ScratchDirectory scratch;
  // The train annotations without those of the first four images (a pseudo-mask file
  // that found nothing there).
  data::Dataset dataset = data::read_coco_dataset(*dataset_ + "/annotations/train.json");
  std::vector<data::Annotation> kept;
  for (const data::Annotation& a : dataset.annotations) {
    bool first_four = false;
    for (size_t i = 0; i < 4; ++i) first_four = first_four || a.image_id == dataset.images[i].id;
    if (!first_four) kept.push_back(a);
  }
  dataset.annotations = kept;
  const std::string annotations = scratch.file("pseudo.json");
  data::write_coco_dataset(dataset, annotations);
  std::vector<std::string> arguments = app_arguments(*dataset_, scratch.file("out"));
  arguments.insert(arguments.end(), {"--train-annotations", annotations, "--no-val"});
  ASSERT_TRUE(exited_with(run_app(arguments, scratch.file("run.txt")), 0)) << read_file(scratch.file("run.txt"));
  EXPECT_NE(read_file(scratch.file("run.txt")).find("masks from " + annotations), std::string::npos);
}

TEST_F(MaskRcnnApp, ErrorsNameTheProblem) {
  ScratchDirectory scratch;
  std::vector<std::string> bad = app_arguments(*dataset_, scratch.file("out"));
  bad.insert(bad.end(), {"--anchor-sizes", "8,x"});
  EXPECT_TRUE(exited_with(run_app(bad, scratch.file("bad.txt")), 2));
  EXPECT_NE(read_file(scratch.file("bad.txt")).find("--anchor-sizes: '8,x'"), std::string::npos);
  const std::string missing = scratch.file("no-such-data");
  EXPECT_TRUE(exited_with(run_app(app_arguments(missing, scratch.file("out2")), scratch.file("missing.txt")), 1));
  EXPECT_NE(read_file(scratch.file("missing.txt")).find("make_shapes --config shapes-v2 --out " + missing),
            std::string::npos)
      << read_file(scratch.file("missing.txt"));
}

}  // namespace
}  // namespace wise::testing
