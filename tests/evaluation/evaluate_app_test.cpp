// The `evaluate` app end to end (apps/evaluate.cpp): results equal to the ground truth
// score mAP 100 and ABO 100 under both protocols, with the protocol named on every
// table; a bad command line is a named error with exit status 1. The library's rules
// themselves are tested in evaluation_test.cpp and evaluation_parity_test.cpp.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "data/coco.h"
#include "data/rle.h"

namespace wise::data {
namespace {

namespace fs = std::filesystem;

struct AppRun {
  int status = -1;
  std::string output;  // stdout and stderr
};

// Runs the app through the shell (fork + exec at once: no OpenMP state crosses it).
AppRun run_evaluate(const std::string& arguments) {
  const std::string command = std::string(WISE_EVALUATE_APP) + " " + arguments + " 2>&1";
  AppRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) run.output += buffer;
  const int status = pclose(pipe);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

class EvaluateApp : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fs::temp_directory_path() / ("wise_evaluate_app_" + std::to_string(::getpid()));
    fs::create_directories(directory_);
    ground_truth_ = std::string(WISE_TEST_DATA_DIR) + "/ground_truth.json";
    // Every non-crowd annotation as a detection of score 1.
    const Dataset dataset = read_coco_dataset(ground_truth_);
    std::vector<Detection> detections;
    for (const Annotation& annotation : dataset.annotations) {
      if (annotation.iscrowd) continue;
      detections.push_back({annotation.image_id, annotation.category_id, 1.0f, annotation.segmentation,
                            annotation.bbox});
    }
    ASSERT_FALSE(detections.empty());
    results_ = (directory_ / "results.json").string();
    write_coco_results(detections, results_);
  }
  void TearDown() override { fs::remove_all(directory_); }

  fs::path directory_;
  std::string ground_truth_, results_;
};

TEST_F(EvaluateApp, GroundTruthAsResultsScoresOneHundredUnderBothProtocols) {
  for (const std::string protocol : {"voc", "wise"}) {
    SCOPED_TRACE(protocol);
    const std::string json_path = (directory_ / (protocol + ".json")).string();
    const AppRun run = run_evaluate("--ground-truth " + ground_truth_ + " --results " + results_ + " --protocol " +
                                 protocol + " --json " + json_path);
    ASSERT_EQ(run.status, 0) << run.output;
    EXPECT_NE(run.output.find("[protocol: " + protocol + "]"), std::string::npos) << run.output;
    std::ifstream in(json_path);
    const nlohmann::json result = nlohmann::json::parse(in);
    EXPECT_EQ(result["protocol"], protocol);
    ASSERT_EQ(result["all"]["mAP"].size(), 3u);  // IoU 0.25, 0.5, 0.75
    for (const auto& value : result["all"]["mAP"]) EXPECT_NEAR(value.get<double>(), 1.0, 1e-9);
    EXPECT_NEAR(result["all"]["ABO"].get<double>(), 1.0, 1e-9);
  }
}

// --limit N scores the first N ground-truth images alone: results for those images'
// instances only are perfect there (the other images' instances would be misses), and a
// result on an image past the limit is an error naming it.
TEST_F(EvaluateApp, LimitScoresTheFirstImagesOnly) {
  const Dataset dataset = read_coco_dataset(ground_truth_);
  // The limit: up to the first image with a regular instance (earlier ones have none).
  std::set<int64_t> annotated;
  for (const Annotation& annotation : dataset.annotations)
    if (!annotation.iscrowd) annotated.insert(annotation.image_id);
  size_t limit = 0;
  while (limit < dataset.images.size() && !annotated.count(dataset.images[limit].id)) ++limit;
  ++limit;
  ASSERT_LT(limit, dataset.images.size());
  std::set<int64_t> inside;
  for (size_t i = 0; i < limit; ++i) inside.insert(dataset.images[i].id);
  std::vector<Detection> on_first, on_second;
  for (const Annotation& annotation : dataset.annotations) {
    if (annotation.iscrowd) continue;
    const Detection detection{annotation.image_id, annotation.category_id, 1.0f, annotation.segmentation,
                              annotation.bbox};
    (inside.count(annotation.image_id) ? on_first : on_second).push_back(detection);
  }
  ASSERT_FALSE(on_first.empty());
  ASSERT_FALSE(on_second.empty());
  const std::string first_results = (directory_ / "first.json").string();
  write_coco_results(on_first, first_results);
  const std::string json_path = (directory_ / "limited.json").string();
  AppRun run = run_evaluate("--ground-truth " + ground_truth_ + " --results " + first_results + " --limit " +
                            std::to_string(limit) + " --json " + json_path);
  ASSERT_EQ(run.status, 0) << run.output;
  std::ifstream in(json_path);
  const nlohmann::json result = nlohmann::json::parse(in);
  EXPECT_EQ(result["all"]["images"], limit);
  for (const auto& value : result["all"]["mAP"]) EXPECT_NEAR(value.get<double>(), 1.0, 1e-9);
  // Without the limit the other images' instances count as missed.
  run = run_evaluate("--ground-truth " + ground_truth_ + " --results " + first_results + " --json " + json_path);
  ASSERT_EQ(run.status, 0) << run.output;
  std::ifstream again(json_path);
  EXPECT_LT(nlohmann::json::parse(again)["all"]["ABO"].get<double>(), 1.0);
  // A result on an image past the limit.
  write_coco_results(on_second, first_results);
  run = run_evaluate("--ground-truth " + ground_truth_ + " --results " + first_results + " --limit " +
                     std::to_string(limit));
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("image_id"), std::string::npos) << run.output;
}

TEST_F(EvaluateApp, BadCommandLinesAreNamedErrors) {
  AppRun run = run_evaluate("--ground-truth " + ground_truth_ + " --results " + results_ + " --protocol coco");
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find("coco"), std::string::npos) << run.output;
  run = run_evaluate("--results " + results_);
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find("--ground-truth"), std::string::npos) << run.output;
  run = run_evaluate("--ground-truth " + ground_truth_ + " --results " + results_ + " --max-detections 0");
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find("--max-detections"), std::string::npos) << run.output;
  run = run_evaluate("--ground-truth " + (directory_ / "missing.json").string() + " --results " + results_);
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find("missing.json"), std::string::npos) << run.output;
}

TEST_F(EvaluateApp, AnUnknownCategoryNamesTheResultsFileAndJsonPathOnce) {
  nlohmann::json results;
  std::ifstream(results_) >> results;
  results[0]["category_id"] = 99;
  std::ofstream(results_) << results.dump();
  const AppRun run = run_evaluate("--ground-truth " + ground_truth_ + " --results " + results_);
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find("evaluate: " + results_ + ": [0].category_id: unknown category id 99"),
            std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("evaluate: evaluate:"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace wise::data
