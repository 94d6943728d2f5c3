// report/: a pipeline run's folder read back, the paper's tables laid out from it, the
// goals checked, Markdown and self-contained HTML written; base64 against RFC 4648's
// vectors, ticks, and the errors a damaged run gets.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "report/document.h"
#include "report/plots.h"
#include "report/run_record.h"
#include "report/wise_report.h"

namespace wise::report {
namespace {

namespace fs = std::filesystem;

TEST(Base64, MatchesRfc4648) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64(std::string("\xff\x00\x10", 3)), "/wAQ");
}

TEST(NiceTicks, AreRoundAndCoverTheRange) {
  EXPECT_EQ(nice_ticks(0, 1), (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(nice_ticks(20, 700), (std::vector<double>{0, 200, 400, 600, 800}));
  EXPECT_EQ(nice_ticks(0.3, 2.1), (std::vector<double>{0, 0.5, 1, 1.5, 2, 2.5}));
  const std::vector<double> one = nice_ticks(3, 3);  // a single value: a range around it
  ASSERT_GE(one.size(), 2u);
  EXPECT_LT(one.front(), 3);
  EXPECT_GT(one.back(), 3);
}

class RunFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("wise_report_test_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "stages");
    fs::create_directories(root_ / "eval");
    fs::create_directories(root_ / "maskrcnn-wise");
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const fs::path& relative, const std::string& text) {
    fs::create_directories((root_ / relative).parent_path());
    std::ofstream(root_ / relative) << text;
  }
  // An `evaluate --json` file with mAP50 `ap50` (and the others around it), two classes.
  void evaluation(const std::string& row, const std::string& protocol, double ap50) {
    const std::string aps = "[" + std::to_string(ap50 + 0.05) + ", " + std::to_string(ap50) + ", " +
                            std::to_string(ap50 - 0.1) + "]";
    write("eval/" + row + "-" + protocol + ".json",
          "{\"protocol\": \"" + protocol + "\", \"all\": {\"name\": \"all\", \"images\": 10, \"ground_truth\": 30, "
          "\"predictions\": 50, \"mAP\": " + aps + ", \"ABO\": 0.6, \"classes\": ["
          "{\"id\": 1, \"name\": \"circle\", \"ground_truth\": 20, \"AP\": " + aps + ", \"ABO\": 0.7},"
          "{\"id\": 2, \"name\": \"ring\", \"ground_truth\": 0, \"AP\": [null, null, null], \"ABO\": null}]},"
          "\"by_size\": [{\"name\": \"small\", \"ground_truth\": 30, \"mAP\": " + aps + ", \"ABO\": 0.6}],"
          "\"by_object_count\": [{\"name\": \"1 object\", \"ground_truth\": 10, \"mAP\": " + aps + ", \"ABO\": 0.6}]}");
  }
  fs::path root_;
};

TEST_F(RunFolder, ReadsStagesEvaluationsAndCurves) {
  write("stages/prm.json", R"({"name": "prm", "budget_s": 420, "seconds": 300, "key": "ab", "finished": "2026-12-07T01:00:00Z"})");
  write("stages/data.json", R"({"name": "data", "budget_s": 60, "seconds": 50, "key": "cd", "finished": "2026-12-07T00:59:00Z"})");
  evaluation("wise", "voc", 0.5);
  write("maskrcnn-wise/log.jsonl",
        "{\"step\":20,\"loss\":2.0}\n{\"step\":40,\"loss\":1.0}\n"
        "{\"step\":40,\"event\":\"validation\",\"mAP50\":0.4}\n{\"step\":60,\"loss\":0.");  // torn last line
  const RunRecord run = read_run(root_.string());
  ASSERT_EQ(run.stages.size(), 2u);
  EXPECT_EQ(run.stages[0].name, "data");  // in the order they finished
  EXPECT_EQ(run.stages[1].seconds, 300);
  const Evaluation& wise = run.evaluations.at("wise").at("voc");
  EXPECT_DOUBLE_EQ(wise.all.ap[1], 0.5);
  ASSERT_EQ(wise.classes.size(), 2u);
  EXPECT_TRUE(std::isnan(wise.classes[1].scores.ap[1]));  // null: no ground truth of the class
  ASSERT_EQ(run.losses.size(), 1u);
  EXPECT_EQ(run.losses[0].points.size(), 2u);
  ASSERT_EQ(run.validation.size(), 1u);
  EXPECT_DOUBLE_EQ(run.validation[0].points[0][1], 0.4);
}

TEST_F(RunFolder, DamageIsANamedError) {
  write("eval/wise-voc.json", "{\"protocol\": \"voc\", \"all\": {\"mAP\": [0.1, 0.2]}}");
  try {
    read_run(root_.string());
    FAIL() << "a two-number mAP was accepted";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("wise-voc.json"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("three numbers"), std::string::npos) << error.what();
  }
  fs::remove(root_ / "eval/wise-voc.json");
  write("maskrcnn-wise/log.jsonl", "{\"step\":20,\"loss\":2.0}\nnot json\n{\"step\":40,\"loss\":1.0}\n");
  try {
    read_run(root_.string());
    FAIL() << "a damaged log line was accepted";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("log.jsonl: line 2"), std::string::npos) << error.what();
  }
  EXPECT_THROW(read_run((root_ / "missing").string()), std::runtime_error);
}

TEST_F(RunFolder, GoalsAreCheckedAgainstTheIssuesBars) {
  evaluation("supervised", "voc", 0.80);
  evaluation("wise-refine", "voc", 0.72);  // 90 % of 0.80: met
  evaluation("prm-baseline", "voc", 0.30);
  evaluation("pseudo-masks-train", "voc", 0.40);
  evaluation("wise-train", "voc", 0.50);  // 1.25 x: not met
  const std::vector<GoalCheck> checks = check_goals(read_run(root_.string()));
  ASSERT_EQ(checks.size(), 4u);
  for (const GoalCheck& check : checks) EXPECT_TRUE(check.known) << check.goal;
  EXPECT_TRUE(checks[0].met);
  EXPECT_TRUE(checks[1].met);
  EXPECT_EQ(checks[1].measured, "72.0 / 80.0 = 90 %");
  EXPECT_TRUE(checks[2].met);
  EXPECT_FALSE(checks[3].met);
  EXPECT_EQ(checks[3].measured, "50.0 / 40.0 = 1.25 x");

  fs::remove(root_ / "eval/supervised-voc.json");
  const std::vector<GoalCheck> partial = check_goals(read_run(root_.string()));
  EXPECT_FALSE(partial[0].known);
  EXPECT_FALSE(partial[1].known);
  EXPECT_TRUE(partial[2].known);
}

TEST_F(RunFolder, TheReportHasThePapersTablesInBothFormats) {
  for (const std::string protocol : {"voc", "wise"}) {
    evaluation("prm-baseline", protocol, 0.30);
    evaluation("wise", protocol, 0.50);
    evaluation("wise-refine", protocol, 0.55);
    evaluation("supervised", protocol, 0.80);
    evaluation("pseudo-masks-train", protocol, 0.40);
    evaluation("wise-train", protocol, 0.60);
  }
  write("stages/prm.json", R"({"name": "prm", "budget_s": 420, "seconds": 430, "key": "ab", "finished": "x"})");
  write("maskrcnn-wise/log.jsonl", "{\"step\":20,\"loss\":2.0}\n{\"step\":40,\"loss\":1.0}\n");
  ReportContext context{"default", "abc1234", "Test CPU, 2 cores", 2, "2026-12-07 08:00 UTC"};
  const Document document = make_wise_report(read_run(root_.string()), context);
  const std::string markdown = to_markdown(document);
  for (const char* expected :
       {"# WISE", "## Table 1", "## Table 2", "## Table 3", "## Figure 5", "| WISE + Refine | image-level labels | 60.0 | 55.0 | 45.0 | 60.0 |",
        "| relative change | +44 % | +50 % | +67 % | +0 % |", "| circle | ring | mean |", "commit abc1234",
        "Test CPU, 2 cores", "| prm | 7:00 | 7:10 | over budget |", "![Training loss", "report-files/losses.png"}) {
    EXPECT_NE(markdown.find(expected), std::string::npos) << "missing: " << expected << "\n" << markdown;
  }
  EXPECT_TRUE(fs::exists(root_ / "report-files" / "losses.png"));
  const std::string html = to_html(document, root_.string());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<td>WISE + Refine</td>"), std::string::npos);
  EXPECT_NE(html.find("src=\"data:image/png;base64,iVBORw0KGgo"), std::string::npos);  // the PNG signature
  EXPECT_NE(html.find("</html>"), std::string::npos);
}

TEST(Document, TablesAndTextAreEscapedForEachFormat) {
  Document document;
  document.heading("a <b> & c", 1);
  document.table({{"x|y", "z"}, {{"1", "<2>"}}});
  EXPECT_NE(to_markdown(document).find("| x\\|y | z |"), std::string::npos);
  const std::string html = to_html(document, ".");
  EXPECT_NE(html.find("<h1>a &lt;b&gt; &amp; c</h1>"), std::string::npos);
  EXPECT_NE(html.find("<td>&lt;2&gt;</td>"), std::string::npos);
  EXPECT_THROW(document.table({{"one", "two"}, {{"only one"}}}), std::invalid_argument);
  Document missing;
  missing.image("nowhere.png", "a caption");
  EXPECT_THROW(to_html(missing, "/nonexistent"), std::runtime_error);
}

}  // namespace
}  // namespace wise::report
