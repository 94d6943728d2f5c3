// Image-level classification metrics (train/classification_metrics.h) against
// values computed by hand: AP's steps, tied scores, classes without positives,
// exact match, accuracy, precision and recall at the threshold, the table, and
// named errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/check.h"
#include "tests/support/errors.h"
#include "train/classification_metrics.h"

namespace wise {
namespace {

TEST(AveragePrecision, StepsOfRecallTimesPrecision) {
  // Ranked: + - + -. Thresholds 0.9: P 1 R 1/2; 0.8: P 1/2 R 1/2; 0.7: P 2/3 R 1; 0.6: P 1/2 R 1.
  // AP = 1/2 * 1 + 0 + 1/2 * 2/3 + 0 = 5/6.
  EXPECT_NEAR(average_precision({0.9, 0.8, 0.7, 0.6}, {1, 0, 1, 0}), 5.0 / 6.0, 1e-12);
  // The input order does not matter, only the ranking.
  EXPECT_NEAR(average_precision({0.6, 0.7, 0.8, 0.9}, {0, 1, 0, 1}), 5.0 / 6.0, 1e-12);
  // The best and the worst ranking of 2 positives among 4: + + - - gives 1; - - + + gives
  // 0.9 P 0 R 0; 0.8 P 0 R 0; 0.7 P 1/3 R 1/2; 0.6 P 2/4 R 1 -> 1/2 * 1/3 + 1/2 * 1/2 = 5/12.
  EXPECT_DOUBLE_EQ(average_precision({0.9, 0.8, 0.7, 0.6}, {1, 1, 0, 0}), 1.0);
  EXPECT_NEAR(average_precision({0.9, 0.8, 0.7, 0.6}, {0, 0, 1, 1}), 5.0 / 12.0, 1e-12);
  // Every image positive: precision 1 at every threshold.
  EXPECT_DOUBLE_EQ(average_precision({0.1, 0.5, 0.3}, {1, 1, 1}), 1.0);
}

TEST(AveragePrecision, TiedScoresEnterTogether) {
  // 0.5 (+ and -) then 0.2 (+): threshold 0.5: P 1/2 R 1/2; 0.2: P 2/3 R 1 -> 1/4 + 1/3 = 7/12,
  // whichever of the tied images comes first (taken one by one it would be 5/6 or 7/12).
  EXPECT_NEAR(average_precision({0.5, 0.5, 0.2}, {1, 0, 1}), 7.0 / 12.0, 1e-12);
  EXPECT_NEAR(average_precision({0.5, 0.5, 0.2}, {0, 1, 1}), 7.0 / 12.0, 1e-12);
  // All scores equal: one threshold, AP = the positive fraction.
  EXPECT_NEAR(average_precision({0.3, 0.3, 0.3, 0.3}, {1, 0, 0, 0}), 0.25, 1e-12);
}

TEST(AveragePrecision, NoPositiveIsNaNAndSizesMustAgree) {
  EXPECT_TRUE(std::isnan(average_precision({0.9, 0.1}, {0, 0})));
  EXPECT_TRUE(std::isnan(average_precision({}, {})));
  try {
    average_precision({0.9, 0.1}, {1});
    ADD_FAILURE() << "2 scores and 1 label accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("2 scores but 1 labels"), std::string::npos) << error.what();
  }
}

// 4 images x 3 classes, by hand.
//   image  scores (c0, c1, c2)   labels   decisions at 0.5
//   0      0.9  0.2  0.6         1 0 0    1 0 1   (c2 wrong)
//   1      0.4  0.7  0.1         0 1 0    0 1 0   (all right)
//   2      0.8  0.6  0.3         1 0 0    1 1 0   (c1 wrong)
//   3      0.5  0.1  0.2         0 0 0    1 0 0   (c0 wrong)
TEST(MultilabelMetrics, HandComputedExample) {
  const std::vector<float> scores{0.9f, 0.2f, 0.6f, 0.4f, 0.7f, 0.1f, 0.8f, 0.6f, 0.3f, 0.5f, 0.1f, 0.2f};
  const std::vector<float> labels{1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0};
  const MultilabelMetrics metrics = multilabel_metrics(scores, labels, 4, 3);
  EXPECT_EQ(metrics.positives, (std::vector<int64_t>{2, 1, 0}));
  // c0: ranked 0.9 (+), 0.8 (+), 0.5, 0.4: AP 1. c1: 0.7 (+) first: AP 1. c2: no positive: NaN.
  EXPECT_DOUBLE_EQ(metrics.average_precision[0], 1.0);
  EXPECT_DOUBLE_EQ(metrics.average_precision[1], 1.0);
  EXPECT_TRUE(std::isnan(metrics.average_precision[2]));
  EXPECT_DOUBLE_EQ(metrics.mean_average_precision, 1.0);  // over c0 and c1 only
  // c0: predicted {0, 2, 3} (0.5 >= 0.5), true {0, 2}: P 2/3 R 1. c1: predicted {1, 2}: P 1/2 R 1.
  // c2: predicted {0}, no positive: P 0 R NaN.
  EXPECT_NEAR(metrics.precision[0], 2.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(metrics.recall[0], 1.0);
  EXPECT_DOUBLE_EQ(metrics.precision[1], 0.5);
  EXPECT_DOUBLE_EQ(metrics.precision[2], 0.0);
  EXPECT_TRUE(std::isnan(metrics.recall[2]));
  EXPECT_DOUBLE_EQ(metrics.exact_match, 0.25);      // image 1 only
  EXPECT_DOUBLE_EQ(metrics.accuracy, 9.0 / 12.0);  // 3 wrong decisions of 12

  // A ranking mistake lowers AP: swap c0's scores of images 2 (+) and 3 (-):
  // 0.9 (+), 0.8 (-), 0.5 (+) -> 1/2 * 1 + 1/2 * 2/3 = 5/6; mAP = (5/6 + 1) / 2.
  std::vector<float> swapped = scores;
  std::swap(swapped[2 * 3], swapped[3 * 3]);
  EXPECT_NEAR(multilabel_metrics(swapped, labels, 4, 3).mean_average_precision, 11.0 / 12.0, 1e-12);
  // A higher threshold changes the decisions, not the APs.
  const MultilabelMetrics strict = multilabel_metrics(scores, labels, 4, 3, 0.85);
  EXPECT_DOUBLE_EQ(strict.mean_average_precision, 1.0);
  EXPECT_DOUBLE_EQ(strict.accuracy, 10.0 / 12.0);  // image 1 c1 (0.7) and image 2 c0 (0.8) missed
  EXPECT_DOUBLE_EQ(strict.exact_match, 0.5);       // images 0 and 3
}

TEST(MultilabelMetrics, TableHasARowPerClassAndTheMeans) {
  const std::vector<float> scores{0.9f, 0.2f, 0.4f, 0.7f};
  const std::vector<float> labels{1, 0, 0, 1};
  const MultilabelMetrics metrics = multilabel_metrics(scores, labels, 2, 2);
  const std::string table = format_multilabel_table(metrics, {"circle", "square"});
  EXPECT_NE(table.find("class   images      AP  precision  recall\n"), std::string::npos) << table;
  EXPECT_NE(table.find("circle       1   1.000      1.000   1.000\n"), std::string::npos) << table;
  EXPECT_NE(table.find("square       1   1.000      1.000   1.000\n"), std::string::npos) << table;
  EXPECT_NE(table.find("mean       (2)   1.000  exact match 1.000  accuracy 1.000 (threshold 0.50)"),
            std::string::npos)
      << table;
  EXPECT_THROW(format_multilabel_table(metrics, {"circle"}), Error);
}

TEST(MultilabelMetrics, BadInputsAreNamed) {
  auto message_of = [](const std::vector<float>& scores, const std::vector<float>& labels, int64_t images,
                       int64_t classes) {
    return testing::error_of([&] { multilabel_metrics(scores, labels, images, classes); });
  };
  EXPECT_NE(message_of({0.1f, 0.2f, 0.3f}, {0, 1, 0, 1}, 2, 2).find("scores must hold images x classes = 2 x 2 = 4 "
                                                                    "values, got 3"),
            std::string::npos);
  EXPECT_NE(message_of({0.1f, 0.2f, 0.3f, 0.4f}, {0, 1, 0}, 2, 2).find("labels must hold"), std::string::npos);
  EXPECT_NE(message_of({0.1f, 0.2f, 0.3f, 0.4f}, {0, 1, 0.5f, 1}, 2, 2).find("labels must be 0 or 1, got 0.5 at "
                                                                            "image 1, class 0"),
            std::string::npos);
  EXPECT_NE(message_of({0.1f, NAN, 0.3f, 0.4f}, {0, 1, 0, 1}, 2, 2).find("scores must be finite, got nan at image 0, "
                                                                        "class 1"),
            std::string::npos);
  EXPECT_NE(message_of({}, {}, 0, 0).find("classes >= 1"), std::string::npos);
}

}  // namespace
}  // namespace wise
