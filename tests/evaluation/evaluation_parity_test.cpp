// evaluate() against independent computations on a small random set (8 images, 3 classes
// with GT plus one without, overlapping instances, void bands, a crowd region, perturbed /
// duplicated / wrong-class / false-positive / tied predictions): a numpy transcription of
// chainercv's VOC rule for `voc`, pycocotools' COCOeval for `wise`, ABO in numpy.
// tests/evaluation/make_evaluation_fixtures.py writes files/ (re-run it after
// changing it); this test reads them with data/coco.h.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "data/coco.h"
#include "evaluation/evaluation.h"

namespace wise::data {
namespace {

constexpr int kFixtureVersion = 1;
const std::string kFolder = std::string(WISE_TEST_DATA_DIR) + "/";

nlohmann::json read_expected() {
  std::ifstream file(kFolder + "expected.json");
  if (!file) throw std::runtime_error("cannot open " + kFolder + "expected.json");
  nlohmann::json json = nlohmann::json::parse(file);
  if (json.at("version").get<int>() != kFixtureVersion) {
    throw std::runtime_error(kFolder + "expected.json has version " + json.at("version").dump() +
                             ", expected " + std::to_string(kFixtureVersion) +
                             ": re-run tests/evaluation/make_evaluation_fixtures.py");
  }
  return json;
}

// NaN where the reference wrote null (a class or set without GT).
void expect_value(const nlohmann::json& expected, double actual, double tolerance,
                  const std::string& what) {
  if (expected.is_null()) {
    EXPECT_TRUE(std::isnan(actual)) << what << ": expected no value (no GT), got " << actual;
  } else {
    EXPECT_NEAR(actual, expected.get<double>(), tolerance) << what;
  }
}

void expect_set(const nlohmann::json& expected, const SubsetEvaluation& actual,
                const std::string& where) {
  const std::string at = where + " set '" + actual.name + "'";
  EXPECT_EQ(actual.images, expected.at("images").get<int64_t>()) << at;
  EXPECT_EQ(actual.ground_truth, expected.at("ground_truth").get<int64_t>()) << at;
  EXPECT_EQ(actual.class_ground_truth, expected.at("class_ground_truth").get<std::vector<int64_t>>())
      << at;
  // AP: counts and score order only, the same arithmetic: 1e-9. ABO: float32 mask IoU.
  for (std::size_t t = 0; t < actual.mean_ap.size(); ++t) {
    expect_value(expected.at("mean_ap")[t], actual.mean_ap[t], 1e-9,
                 at + " mAP at threshold " + std::to_string(t));
    for (std::size_t c = 0; c < actual.class_ap.size(); ++c) {
      expect_value(expected.at("class_ap")[c][t], actual.class_ap[c][t], 1e-9,
                   at + " class " + std::to_string(c) + " AP at threshold " + std::to_string(t));
    }
  }
  expect_value(expected.at("abo"), actual.abo, 1e-6, at + " ABO");
  for (std::size_t c = 0; c < actual.class_abo.size(); ++c) {
    expect_value(expected.at("class_abo")[c], actual.class_abo[c], 1e-6,
                 at + " class " + std::to_string(c) + " ABO");
  }
}

class EvaluationParity : public ::testing::Test {
 protected:
  void SetUp() override {
    expected_ = read_expected();
    ground_truth_ = read_coco_dataset(kFolder + "ground_truth.json");
    results_ = read_coco_results(kFolder + "results.json", ground_truth_);
  }
  nlohmann::json expected_;
  Dataset ground_truth_;
  std::vector<Detection> results_;
};

TEST_F(EvaluationParity, EverySetOfEveryCaseMatchesTheReferences) {
  ASSERT_EQ(expected_.at("cases").size(), 3u);
  for (const auto& [name, expected_case] : expected_.at("cases").items()) {
    EvaluationOptions options;
    options.protocol = parse_protocol(expected_case.at("protocol").get<std::string>());
    options.max_detections = expected_case.at("max_detections").get<int64_t>();
    options.iou_thresholds = expected_.at("iou_thresholds").get<std::vector<double>>();
    const EvaluationResult result = evaluate(ground_truth_, results_, options);
    ASSERT_EQ(result.categories.size(), expected_.at("categories").size());
    std::map<std::string, const SubsetEvaluation*> sets{{"all", &result.all}};
    for (const SubsetEvaluation& set : result.by_size) sets[set.name] = &set;
    for (const SubsetEvaluation& set : result.by_object_count) sets[set.name] = &set;
    const nlohmann::json& expected_sets = expected_case.at("sets");
    ASSERT_EQ(sets.size(), expected_sets.size()) << name;
    for (const auto& [set_name, expected_set] : expected_sets.items()) {
      ASSERT_TRUE(sets.count(set_name)) << name << ": no set '" << set_name << "'";
      expect_set(expected_set, *sets[set_name], "case " + name);
    }
  }
}

TEST_F(EvaluationParity, GroundTruthAsResultsScoresOneHundredUnderBothProtocols) {
  std::vector<Detection> perfect;
  for (const Annotation& a : ground_truth_.annotations) {
    if (!a.iscrowd) perfect.push_back({a.image_id, a.category_id, 1.0f, a.segmentation, a.bbox});
  }
  for (Protocol protocol : {Protocol::voc, Protocol::wise}) {
    EvaluationOptions options;
    options.protocol = protocol;
    const EvaluationResult result = evaluate(ground_truth_, perfect, options);
    for (double value : result.all.mean_ap) {
      EXPECT_NEAR(value, 1.0, 1e-12) << protocol_name(protocol);
    }
    EXPECT_EQ(result.all.abo, 1.0) << protocol_name(protocol);
    EXPECT_EQ(result.all.classes_with_ground_truth, 3);  // "bird" has no GT
  }
}

}  // namespace
}  // namespace wise::data
