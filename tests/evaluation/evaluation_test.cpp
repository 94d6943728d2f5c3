// Evaluation on hand-computed cases: the two matching rules and their AP
// (evaluation/average_precision.h), then evaluate() end to end on tiny in-memory datasets
// (protocols, void pixels, ABO, breakdowns, bad input) and the report's JSON and tables.
// Parity with chainercv's rule in numpy and with pycocotools on a random set is in
// evaluation_parity_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "data/coco.h"
#include "evaluation/average_precision.h"
#include "evaluation/evaluation.h"
#include "evaluation/evaluation_report.h"

namespace wise::data {
namespace {

constexpr double kTolerance = 1e-12;
using Outcomes = std::vector<MatchOutcome>;
constexpr MatchOutcome TP = MatchOutcome::true_positive;
constexpr MatchOutcome FP = MatchOutcome::false_positive;
constexpr MatchOutcome IGN = MatchOutcome::ignored;

// predictions x ground truth IoUs, no ignored GT, everything in range.
ClassImageMatching matching(int64_t predictions, int64_t ground_truth, std::vector<float> iou) {
  ClassImageMatching input;
  input.predictions = predictions;
  input.ground_truth = ground_truth;
  input.iou = std::move(iou);
  input.gt_ignored.assign(ground_truth, 0);
  input.gt_crowd.assign(ground_truth, 0);
  input.prediction_outside_range.assign(predictions, 0);
  return input;
}

std::vector<ScoredOutcome> scored(const std::vector<float>& scores, const Outcomes& outcomes) {
  std::vector<ScoredOutcome> pooled;
  for (std::size_t i = 0; i < scores.size(); ++i) pooled.push_back({scores[i], outcomes[i]});
  return pooled;
}

// ---- matching rules ------------------------------------------------------------------

TEST(VocAp, BestGroundTruthAlreadyMatchedIsAFalsePositiveNoFallback) {
  // p0 takes GT0; p1's best GT is GT0 (0.7) although GT1 (0.6) is free.
  const auto input = matching(2, 2, {0.8f, 0.0f, 0.7f, 0.6f});
  EXPECT_EQ(voc_match(input, 0.5), (Outcomes{TP, FP}));
  // precision [1, .5], recall [.5, .5]: envelope area = .5 * 1.
  EXPECT_NEAR(voc_average_precision(scored({0.9f, 0.8f}, {TP, FP}), 2), 0.5, kTolerance);
  EXPECT_EQ(voc_match(input, 0.75), (Outcomes{TP, FP}));
}

TEST(CocoAp, BestGroundTruthAlreadyMatchedFallsBackToTheNextUnmatched) {
  const auto input = matching(2, 2, {0.8f, 0.0f, 0.7f, 0.6f});
  EXPECT_EQ(coco_match(input, 0.5), (Outcomes{TP, TP}));
  EXPECT_EQ(coco_match(input, 0.75), (Outcomes{TP, FP}));  // 0.6 < 0.75: nothing left
}

TEST(VocAp, IouEqualToTheThresholdMatches) {
  const auto input = matching(1, 1, {0.5f});
  EXPECT_EQ(voc_match(input, 0.5), (Outcomes{TP}));
  EXPECT_EQ(coco_match(input, 0.5), (Outcomes{TP}));
  EXPECT_EQ(voc_match(input, 0.75), (Outcomes{FP}));
}

TEST(CocoAp, EqualIousGoToTheLastGroundTruthVocToTheFirst) {
  // COCOeval replaces its candidate unless the IoU is smaller; numpy's argmax keeps the first.
  const auto input = matching(2, 2, {0.7f, 0.7f, 0.7f, 0.0f});
  EXPECT_EQ(coco_match(input, 0.5), (Outcomes{TP, TP}));  // p0 -> GT1, p1 -> GT0
  EXPECT_EQ(voc_match(input, 0.5), (Outcomes{TP, FP}));   // p0 -> GT0, p1 -> GT0 again
}

TEST(CocoAp, CrowdGroundTruthAbsorbsManyPredictionsWhichAreIgnored) {
  auto input = matching(4, 2, {0.9f, 0.0f,    // p0: the regular GT
                               0.0f, 0.8f,    // p1, p2: inside the crowd
                               0.1f, 0.8f,
                               0.0f, 0.1f});  // p3: nothing
  input.gt_ignored = {0, 1};
  input.gt_crowd = {0, 1};
  EXPECT_EQ(coco_match(input, 0.5), (Outcomes{TP, IGN, IGN, FP}));
  EXPECT_EQ(voc_match(input, 0.5), (Outcomes{TP, IGN, IGN, FP}));
  // One positive, reached first: the later false positive lowers no recall point.
  const auto pooled = scored({0.9f, 0.8f, 0.7f, 0.6f}, {TP, IGN, IGN, FP});
  EXPECT_NEAR(coco_average_precision(pooled, 1), 1.0, kTolerance);
  EXPECT_NEAR(voc_average_precision(pooled, 1), 1.0, kTolerance);
}

TEST(CocoAp, RegularGroundTruthIsPreferredToABetterIgnoredOne) {
  auto input = matching(1, 2, {0.9f, 0.6f});  // GT0 ignored (IoU 0.9), GT1 regular (0.6)
  input.gt_ignored = {1, 0};
  EXPECT_EQ(coco_match(input, 0.5), (Outcomes{TP}));  // regular GT visited first, then break
  EXPECT_EQ(voc_match(input, 0.5), (Outcomes{IGN}));  // best IoU is the ignored GT
}

TEST(VocAp, RegularGroundTruthIsMatchedBeforeACrowdRegion) {
  // GT0 a crowd region containing every prediction (|p & crowd| / |p| = 1), GT1 the
  // regular instance p0 matches perfectly; p1 overlaps GT1 below the threshold and p2 is
  // a duplicate of p0. COCOeval's order: regular GT first, crowd only as the fallback.
  auto input = matching(3, 2, {1.0f, 1.0f,
                               1.0f, 0.3f,
                               1.0f, 0.9f});
  input.gt_ignored = {1, 0};
  input.gt_crowd = {1, 0};
  EXPECT_EQ(voc_match(input, 0.5), (Outcomes{TP, IGN, FP}));  // a duplicate stays false (voc)
  EXPECT_EQ(coco_match(input, 0.5), (Outcomes{TP, IGN, IGN}));
  // A crowd region below the threshold ignores nothing.
  auto outside_crowd = matching(1, 2, {0.4f, 0.2f});
  outside_crowd.gt_ignored = {1, 0};
  outside_crowd.gt_crowd = {1, 0};
  EXPECT_EQ(voc_match(outside_crowd, 0.5), (Outcomes{FP}));
}

TEST(VocAp, UnmatchedPredictionOutsideTheSizeRangeIsIgnored) {
  auto input = matching(2, 1, {0.9f, 0.2f});
  input.prediction_outside_range = {1, 1};
  EXPECT_EQ(voc_match(input, 0.5), (Outcomes{TP, IGN}));  // a match counts whatever its size
  EXPECT_EQ(coco_match(input, 0.5), (Outcomes{TP, IGN}));
}

TEST(VocAp, NoGroundTruthMakesEveryPredictionFalse) {
  const auto input = matching(2, 0, {});
  EXPECT_EQ(voc_match(input, 0.5), (Outcomes{FP, FP}));
  EXPECT_EQ(coco_match(input, 0.5), (Outcomes{FP, FP}));
}

TEST(VocAp, InconsistentInputIsANamedError) {
  auto input = matching(2, 2, {0.1f, 0.2f, 0.3f});
  EXPECT_THROW(voc_match(input, 0.5), std::invalid_argument);
  EXPECT_THROW(coco_match(input, 0.5), std::invalid_argument);
}

// ---- AP from pooled outcomes -----------------------------------------------------------

TEST(VocAp, PerfectEmptyAndAllFalse) {
  EXPECT_NEAR(voc_average_precision(scored({0.9f, 0.8f}, {TP, TP}), 2), 1.0, kTolerance);
  EXPECT_NEAR(coco_average_precision(scored({0.9f, 0.8f}, {TP, TP}), 2), 1.0, kTolerance);
  EXPECT_EQ(voc_average_precision({}, 3), 0.0);  // GT but no prediction
  EXPECT_EQ(coco_average_precision({}, 3), 0.0);
  EXPECT_EQ(voc_average_precision(scored({0.9f, 0.8f}, {FP, FP}), 2), 0.0);
  EXPECT_EQ(coco_average_precision(scored({0.9f, 0.8f}, {FP, FP}), 2), 0.0);
  EXPECT_TRUE(std::isnan(voc_average_precision(scored({0.9f}, {FP}), 0)));  // no GT
  EXPECT_TRUE(std::isnan(coco_average_precision({}, 0)));
}

TEST(VocAp, DuplicatesAreFalsePositives) {
  // A duplicate after the true positive: recall is already reached, AP stays 1.
  EXPECT_NEAR(voc_average_precision(scored({0.9f, 0.8f}, {TP, FP}), 1), 1.0, kTolerance);
  // A false positive first: precision 1/2 at recall 1 -> AP 1/2 under both rules.
  EXPECT_NEAR(voc_average_precision(scored({0.9f, 0.8f}, {FP, TP}), 1), 0.5, kTolerance);
  EXPECT_NEAR(coco_average_precision(scored({0.9f, 0.8f}, {FP, TP}), 1), 0.5, kTolerance);
}

TEST(VocAp, PoolingSortsByScoreAndTiesKeepImageOrder) {
  // Scores out of order are sorted: FP at 0.3 comes after TP at 0.6.
  EXPECT_NEAR(voc_average_precision(scored({0.3f, 0.6f}, {FP, TP}), 1), 1.0, kTolerance);
  // A tie keeps the pooled order (image order): FP first -> 1/2, TP first -> 1.
  EXPECT_NEAR(voc_average_precision(scored({0.5f, 0.5f}, {FP, TP}), 1), 0.5, kTolerance);
  EXPECT_NEAR(voc_average_precision(scored({0.5f, 0.5f}, {TP, FP}), 1), 1.0, kTolerance);
  EXPECT_NEAR(coco_average_precision(scored({0.5f, 0.5f}, {FP, TP}), 1), 0.5, kTolerance);
  EXPECT_NEAR(coco_average_precision(scored({0.5f, 0.5f}, {TP, FP}), 1), 1.0, kTolerance);
}

TEST(VocAp, EnvelopeAreaByHand) {
  // TP FP TP with 4 GT: recall .25 .25 .5, precision 1 .5 2/3, envelope 1 2/3 2/3:
  // area = .25 * 1 + .25 * 2/3.
  const auto pooled = scored({0.9f, 0.8f, 0.7f}, {TP, FP, TP});
  EXPECT_NEAR(voc_average_precision(pooled, 4), 0.25 + 0.25 * 2.0 / 3.0, kTolerance);
  // 101 points: 0 .. .25 (26 points) reach precision 1, .26 .. .5 (25) reach 2/3.
  EXPECT_NEAR(coco_average_precision(pooled, 4), (26 + 25 * 2.0 / 3.0) / 101, kTolerance);
}

TEST(CocoAp, RecallPointsAreNumpyLinspace) {
  // 35 true positives of 100 GT: recall ends at 35/100 = 0.35, but linspace's point 35
  // is 35 * 0.01 = 0.35000000000000003, not reached: 35 points count, not 36.
  std::vector<ScoredOutcome> pooled;
  for (int i = 0; i < 35; ++i) pooled.push_back({1.0f - 0.01f * static_cast<float>(i), TP});
  EXPECT_NEAR(coco_average_precision(pooled, 100), 35.0 / 101, 1e-9);
}

// ---- evaluate() end to end -------------------------------------------------------------

// An h x w mask with rows [y0, y1) x columns [x0, x1) set.
Rle box_mask(int64_t h, int64_t w, int64_t y0, int64_t x0, int64_t y1, int64_t x1) {
  std::vector<uint8_t> mask(h * w, 0);
  for (int64_t y = y0; y < y1; ++y) for (int64_t x = x0; x < x1; ++x) mask[y * w + x] = 1;
  return rle_encode(mask, h, w);
}

Dataset two_class_dataset() {
  Dataset dataset;
  dataset.categories = {{1, "cat"}, {2, "dog"}};
  dataset.images = {{10, "a.jpg", 8, 8, std::nullopt}, {20, "b.jpg", 8, 8, std::nullopt}};
  Annotation a;
  a.id = 1, a.image_id = 10, a.category_id = 1, a.segmentation = box_mask(8, 8, 0, 0, 4, 4);
  Annotation b = a;
  b.id = 2, b.image_id = 20, b.category_id = 2, b.segmentation = box_mask(8, 8, 2, 2, 6, 6);
  Annotation c = a;
  c.id = 3, c.image_id = 20, c.category_id = 1, c.segmentation = box_mask(8, 8, 6, 0, 8, 8);
  dataset.annotations = {a, b, c};
  return dataset;
}

std::vector<Detection> as_detections(const Dataset& dataset, float score) {
  std::vector<Detection> detections;
  for (const Annotation& a : dataset.annotations) {
    detections.push_back({a.image_id, a.category_id, score, a.segmentation, {}});
  }
  return detections;
}

EvaluationOptions with(Protocol protocol) {
  EvaluationOptions options;
  options.protocol = protocol;
  return options;
}

TEST(Evaluation, GroundTruthAsResultsScoresOneUnderBothProtocols) {
  const Dataset dataset = two_class_dataset();
  for (Protocol protocol : {Protocol::voc, Protocol::wise}) {
    const EvaluationResult result = evaluate(dataset, as_detections(dataset, 0.9f), with(protocol));
    SCOPED_TRACE(protocol_name(protocol));
    for (double value : result.all.mean_ap) EXPECT_NEAR(value, 1.0, kTolerance);
    EXPECT_EQ(result.all.abo, 1.0);
    EXPECT_EQ(result.all.ground_truth, 3);
    EXPECT_EQ(result.predictions_scored, 3);
  }
}

// Masks are decoded and packed in blocks (of 64): predictions in several blocks keep their
// own masks. 150 predictions on one image, three of them (in the first, second and last
// block) its three instances, scored highest; the rest miss: AP 1 and ABO 1 exactly
// when every prediction's IoU is its own.
TEST(Evaluation, ManyPredictionsInOneImageKeepTheirOwnMasksAcrossDecodeBlocks) {
  Dataset dataset;
  dataset.categories = {{1, "cat"}};
  dataset.images = {{1, "a.jpg", 40, 40, std::nullopt}};
  const std::vector<Rle> instances = {box_mask(40, 40, 0, 0, 5, 5), box_mask(40, 40, 10, 10, 20, 14),
                                      box_mask(40, 40, 30, 2, 38, 39)};
  for (size_t i = 0; i < instances.size(); ++i) {
    Annotation a;
    a.id = static_cast<int64_t>(i) + 1, a.image_id = 1, a.category_id = 1, a.segmentation = instances[i];
    dataset.annotations.push_back(a);
  }
  std::vector<Detection> detections;
  for (int64_t d = 0; d < 150; ++d) {
    const int64_t column = d % 20;  // a 1-pixel miss in the empty rows 21..28
    detections.push_back({1, 1, 0.1f, box_mask(40, 40, 21 + d % 8, column, 22 + d % 8, column + 1), {}});
  }
  detections[0] = {1, 1, 0.99f, instances[0], {}};
  detections[64] = {1, 1, 0.98f, instances[1], {}};
  detections[149] = {1, 1, 0.97f, instances[2], {}};
  const EvaluationResult result = evaluate(dataset, detections, with(Protocol::voc));
  for (double value : result.all.mean_ap) EXPECT_NEAR(value, 1.0, kTolerance);
  EXPECT_EQ(result.all.abo, 1.0);
  EXPECT_EQ(result.predictions_scored, 150);
}

TEST(Evaluation, NoPredictionsScoresZeroAndClassesWithoutGroundTruthAreLeftOut) {
  Dataset dataset = two_class_dataset();
  dataset.categories.push_back({3, "cow"});  // no GT
  const EvaluationResult result = evaluate(dataset, {}, with(Protocol::voc));
  EXPECT_EQ(result.all.mean_ap, (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(result.all.abo, 0.0);
  EXPECT_EQ(result.all.classes_with_ground_truth, 2);
  EXPECT_TRUE(std::isnan(result.all.class_ap[2][1]));
  EXPECT_TRUE(std::isnan(result.all.class_abo[2]));
}

TEST(Evaluation, WiseDropsLowScoresVocKeepsThem) {
  const Dataset dataset = two_class_dataset();
  std::vector<Detection> detections = as_detections(dataset, 0.9f);
  detections[1].score = 0.4f;  // the dog: below WISE's 0.5
  const EvaluationResult voc = evaluate(dataset, detections, with(Protocol::voc));
  const EvaluationResult wise = evaluate(dataset, detections, with(Protocol::wise));
  EXPECT_NEAR(voc.all.mean_ap[1], 1.0, kTolerance);
  EXPECT_NEAR(wise.all.mean_ap[1], 0.5, kTolerance);  // cat 1, dog 0
  EXPECT_EQ(wise.predictions_scored, 2);
  // ABO sees the same predictions as AP: the dog's best IoU is 0 under wise.
  EXPECT_NEAR(wise.all.abo, 2.0 / 3.0, kTolerance);
  EXPECT_EQ(voc.all.abo, 1.0);
}

TEST(Evaluation, WiseKeepsMaxDetectionsPerImageAndClass) {
  const Dataset dataset = two_class_dataset();
  std::vector<Detection> detections = as_detections(dataset, 0.8f);
  // A better-scored false positive for the cat of image 10, in the dog's corner.
  detections.push_back({10, 1, 0.95f, box_mask(8, 8, 4, 4, 8, 8), {}});
  EvaluationOptions options = with(Protocol::wise);
  options.max_detections = 1;
  const EvaluationResult result = evaluate(dataset, detections, options);
  EXPECT_EQ(result.predictions_scored, 3);  // image 10 keeps only the false positive
  // cat: GT in images 10 and 20, one TP (image 20) after one FP: precision 1/2 at
  // recall 1/2 -> 51 points x 1/2 / 101; dog: 1.
  const double cat = 51 * 0.5 / 101;
  EXPECT_NEAR(result.all.class_ap[0][1], cat, 1e-9);
  EXPECT_NEAR(result.all.mean_ap[1], (cat + 1.0) / 2, 1e-9);
}

TEST(Evaluation, WiseRemovesVoidPixelsFromGroundTruthAndPredictions) {
  Dataset dataset;
  dataset.categories = {{1, "cat"}};
  // 2 x 4 object in a 6 x 4 image; the prediction also covers the void row below it.
  dataset.images = {{1, "a.jpg", 6, 4, box_mask(6, 4, 2, 0, 3, 4)}};
  Annotation a;
  a.id = 1, a.image_id = 1, a.category_id = 1, a.segmentation = box_mask(6, 4, 0, 0, 2, 4);
  dataset.annotations = {a};
  const std::vector<Detection> detections = {{1, 1, 0.9f, box_mask(6, 4, 0, 0, 3, 4), {}}};
  const EvaluationResult voc = evaluate(dataset, detections, with(Protocol::voc));
  const EvaluationResult wise = evaluate(dataset, detections, with(Protocol::wise));
  EXPECT_NEAR(voc.all.abo, 8.0 / 12.0, 1e-6);  // IoU 8/12 with the void row
  EXPECT_EQ(voc.all.mean_ap, (std::vector<double>{1, 1, 0}));  // 2/3 < 0.75
  EXPECT_EQ(wise.all.abo, 1.0);
  EXPECT_NEAR(wise.all.mean_ap[2], 1.0, kTolerance);
}

TEST(Evaluation, AboIsClassAgnostic) {
  const Dataset dataset = two_class_dataset();
  std::vector<Detection> detections = as_detections(dataset, 0.9f);
  for (Detection& d : detections) d.category_id = d.category_id == 1 ? 2 : 1;  // swap classes
  const EvaluationResult result = evaluate(dataset, detections, with(Protocol::voc));
  EXPECT_EQ(result.all.mean_ap, (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(result.all.abo, 1.0);
}

TEST(Evaluation, CrowdGroundTruthIsNeitherPositiveNorInAbo) {
  Dataset dataset = two_class_dataset();
  Annotation crowd = dataset.annotations[0];
  crowd.id = 4, crowd.iscrowd = true, crowd.segmentation = box_mask(8, 8, 0, 4, 8, 8);
  dataset.annotations.push_back(crowd);
  std::vector<Detection> detections = as_detections(dataset, 0.9f);
  detections.pop_back();
  // Inside the crowd: |p & crowd| / |p| = 1 although its plain IoU is 8/32.
  detections.push_back({10, 1, 0.95f, box_mask(8, 8, 0, 4, 2, 8), {}});
  for (Protocol protocol : {Protocol::voc, Protocol::wise}) {
    const EvaluationResult result = evaluate(dataset, detections, with(protocol));
    EXPECT_NEAR(result.all.mean_ap[2], 1.0, kTolerance) << protocol_name(protocol);
    EXPECT_EQ(result.all.ground_truth, 3);
    EXPECT_EQ(result.crowd_ground_truth, 1);
    EXPECT_EQ(result.all.abo, 1.0);
  }
}

TEST(Evaluation, PerfectPredictionInsideACrowdListedFirstScoresOneUnderBothProtocols) {
  Dataset dataset;
  dataset.categories = {{1, "person"}};
  dataset.images = {{1, "a.jpg", 8, 8, std::nullopt}};
  Annotation crowd;
  crowd.id = 1, crowd.image_id = 1, crowd.category_id = 1, crowd.iscrowd = true;
  crowd.segmentation = box_mask(8, 8, 0, 0, 8, 8);
  Annotation person = crowd;
  person.id = 2, person.iscrowd = false, person.segmentation = box_mask(8, 8, 2, 2, 6, 6);
  dataset.annotations = {crowd, person};
  const std::vector<Detection> detections = {{1, 1, 0.9f, person.segmentation, {}}};
  for (Protocol protocol : {Protocol::voc, Protocol::wise}) {
    const EvaluationResult result = evaluate(dataset, detections, with(protocol));
    for (double value : result.all.mean_ap) {
      EXPECT_NEAR(value, 1.0, kTolerance) << protocol_name(protocol);
    }
  }
}

TEST(Evaluation, WiseDropsAResultsFileScoreJustBelowTheThresholdAsCocoEvalDoes) {
  // 0.4999999999 rounds to 0.5f: the filter must compare the file's double, as WISE's
  // Python (a JSON number is a double) did before COCOeval.
  const Dataset dataset = two_class_dataset();
  nlohmann::json results = nlohmann::json::parse(coco_results_to_string(as_detections(dataset, 0.9f)));
  results[0]["score"] = 0.4999999999;  // the cat of image 10: dropped
  results[1]["score"] = 0.5;           // the dog: kept (score >= threshold)
  const std::vector<Detection> detections =
      read_coco_results_from_string(results.dump(), dataset, "results.json");
  ASSERT_EQ(detections[0].score, 0.5f);
  const EvaluationResult wise = evaluate(dataset, detections, with(Protocol::wise));
  EXPECT_EQ(wise.predictions_scored, 2);
  EXPECT_NEAR(wise.all.class_ap[0][1], 51 * 1.0 / 101, 1e-9);  // the cat: recall 1/2
  EXPECT_EQ(evaluate(dataset, detections, with(Protocol::voc)).predictions_scored, 3);
}

TEST(Evaluation, BreakdownsBySizeAndObjectsPerImage) {
  const Dataset dataset = two_class_dataset();  // areas: 16 (image 10), 16 and 16 (image 20)
  Dataset resized = dataset;
  resized.annotations[2].segmentation = box_mask(8, 8, 7, 0, 8, 4);  // area 4
  std::vector<Detection> detections = as_detections(resized, 0.9f);
  detections.erase(detections.begin() + 1);  // the dog of image 20 is missed
  EvaluationOptions options = with(Protocol::voc);
  options.small_area = 4, options.medium_area = 8;
  const EvaluationResult result = evaluate(resized, detections, options);
  ASSERT_EQ(result.by_size.size(), 3u);
  const SubsetEvaluation& small = result.by_size[0];
  const SubsetEvaluation& large = result.by_size[2];
  EXPECT_EQ(small.ground_truth, 1);  // the area-4 cat
  EXPECT_NEAR(small.mean_ap[1], 1.0, kTolerance);
  // large: two 16-pixel GT (a cat found, a dog missed); the small cat's prediction
  // matches an out-of-range GT and is ignored, so the cat's AP stays 1.
  EXPECT_EQ(large.ground_truth, 2);
  EXPECT_NEAR(large.class_ap[0][1], 1.0, kTolerance);
  EXPECT_EQ(large.class_ap[1][1], 0.0);
  EXPECT_EQ(large.abo, 0.5);
  // Inclusive bounds, as COCOeval: area 4 is both small and medium.
  EXPECT_EQ(result.by_size[1].ground_truth, 1);
  EXPECT_NEAR(result.by_size[1].mean_ap[1], 1.0, kTolerance);
  ASSERT_EQ(result.by_object_count.size(), 5u);
  EXPECT_EQ(result.by_object_count[0].images, 1);  // image 10
  EXPECT_NEAR(result.by_object_count[0].mean_ap[1], 1.0, kTolerance);
  EXPECT_EQ(result.by_object_count[1].images, 1);  // image 20
  EXPECT_NEAR(result.by_object_count[1].mean_ap[1], 0.5, kTolerance);
  EXPECT_EQ(result.by_object_count[4].images, 0);
  EXPECT_TRUE(std::isnan(result.by_object_count[4].abo));
  EXPECT_TRUE(std::isnan(result.by_object_count[4].mean_ap[0]));
  EXPECT_EQ(result.by_object_count[4].name, ">4 objects");
}

TEST(Evaluation, BadInputNamesTheDetectionOrAnnotation) {
  const Dataset dataset = two_class_dataset();
  const auto message_of = [&](const Dataset& gt, const std::vector<Detection>& detections) {
    try {
      evaluate(gt, detections);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::vector<Detection> unknown_image = as_detections(dataset, 0.9f);
  unknown_image[1].image_id = 99;
  EXPECT_NE(message_of(dataset, unknown_image).find("detection 1 has image_id 99"),
            std::string::npos) << message_of(dataset, unknown_image);
  std::vector<Detection> unknown_class = as_detections(dataset, 0.9f);
  unknown_class[2].category_id = 7;
  EXPECT_NE(message_of(dataset, unknown_class).find("detection 2 has category_id 7"),
            std::string::npos);
  std::vector<Detection> wrong_size = as_detections(dataset, 0.9f);
  wrong_size[0].segmentation = rle_empty(4, 8);
  EXPECT_NE(message_of(dataset, wrong_size).find("4 x 8 mask, expected image 10's size 8 x 8"),
            std::string::npos) << message_of(dataset, wrong_size);
  Dataset bad_annotation = dataset;
  bad_annotation.annotations[1].category_id = 5;
  EXPECT_NE(message_of(bad_annotation, {}).find("annotation 1 (id 2) has category_id 5"),
            std::string::npos);
  EXPECT_THROW(parse_protocol("coco"), std::invalid_argument);
  EXPECT_EQ(parse_protocol("wise"), Protocol::wise);
  EvaluationOptions no_thresholds;
  no_thresholds.iou_thresholds.clear();
  EXPECT_THROW(evaluate(dataset, {}, no_thresholds), std::invalid_argument);
  EvaluationOptions huge_threshold;
  huge_threshold.iou_thresholds = {0.5, 1e300};  // printed compactly, not as 301 digits
  try {
    evaluate(dataset, {}, huge_threshold);
    ADD_FAILURE() << "no error for an IoU threshold of 1e300";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("holds 1e+300, expected values in (0, 1]"),
              std::string::npos) << e.what();
  }
}

TEST(Evaluation, ReportNamesTheProtocolOnEveryTableAndJsonHasNullForNan) {
  Dataset dataset = two_class_dataset();
  dataset.categories.push_back({3, "cow"});
  const EvaluationResult result = evaluate(dataset, as_detections(dataset, 0.9f),
                                           with(Protocol::wise));
  const std::string tables = format_tables(result);
  std::size_t titles = 0;
  for (std::size_t at = tables.find("[protocol: wise]"); at != std::string::npos;
       at = tables.find("[protocol: wise]", at + 1)) {
    ++titles;
  }
  EXPECT_EQ(titles, 4u) << tables;  // summary, per class, by size, by objects per image
  EXPECT_NE(tables.find("ABO = mean over non-crowd ground-truth"), std::string::npos);
  const nlohmann::json json = nlohmann::json::parse(evaluation_to_json(result));
  EXPECT_EQ(json["protocol"], "wise");
  EXPECT_EQ(json["iou_thresholds"].size(), 3u);
  EXPECT_NEAR(json["all"]["mAP"][1].get<double>(), result.all.mean_ap[1], 1e-15);
  EXPECT_TRUE(json["all"]["classes"][2]["AP"][0].is_null());  // the cow has no GT
  EXPECT_EQ(json["all"]["classes"][2]["name"], "cow");
  EXPECT_EQ(json["by_size"].size(), 3u);
  EXPECT_EQ(json["by_object_count"][1]["name"], "2 objects");
}

}  // namespace
}  // namespace wise::data
