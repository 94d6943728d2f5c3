// train/progress.h with an injected clock and stream: the exact text of the bar
// and of the plain lines, when each is printed, the rate and the ETA (computed
// by hand below).
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>

#include "tests/train/tiny_trainer.h"
#include "train/progress.h"

namespace wise::testing {
namespace {

TEST(FormatDuration, ShortFormsByMagnitude) {
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(59.4), "59s");
  EXPECT_EQ(format_duration(59.6), "1m00s");
  EXPECT_EQ(format_duration(274), "4m34s");
  EXPECT_EQ(format_duration(3600), "1h00m");
  EXPECT_EQ(format_duration(7500), "2h05m");
  EXPECT_EQ(format_duration(3 * 86400 + 7 * 3600 + 59), "3d07h");
  EXPECT_EQ(format_duration(std::nan("")), "?");
  EXPECT_EQ(format_duration(-1), "?");
}

struct FakeClock {
  double now = 0;
  std::function<double()> function() {
    return [this] { return now; };
  }
};

TEST(Progress, PlainLinesOnFirstStepEveryIntervalAndLastStep) {
  std::ostringstream out;
  FakeClock clock;
  ProgressOptions options;
  options.terminal = false;
  options.line_every_seconds = 30;
  ProgressReporter progress(out, 100, 0, options, clock.function());
  const LossTerms terms = {{"loss_classifier", 2.0}, {"loss_box", 0.5}};
  for (int64_t step = 1; step <= 100; ++step) {
    clock.now = step * 0.5;  // 2 it/s
    progress.update(step, 2.5, terms);
  }
  progress.finish();
  // Step 1 (the first, t = 0.5), step 61 (t = 30.5: 30 s after the last line), and
  // the last step (the next 30 s would be step 121).
  EXPECT_EQ(out.str(),
            "train: step   1/100 (1%) loss 2.5 loss_classifier 2 loss_box 0.5  2.00 it/s  ETA 50s\n"
            "train: step  61/100 (61%) loss 2.5 loss_classifier 2 loss_box 0.5  2.00 it/s  ETA 20s\n"
            "train: step 100/100 (100%) loss 2.5 loss_classifier 2 loss_box 0.5  2.00 it/s  ETA 0s\n");
}

TEST(Progress, PlainLinesEveryNStepsAndTheLastOnFinish) {
  std::ostringstream out;
  FakeClock clock;
  ProgressOptions options;
  options.line_every_seconds = 1e9;
  options.line_every_steps = 10;
  options.label = "prm";
  ProgressReporter progress(out, 1000, 0, options, clock.function());
  for (int64_t step = 1; step <= 25; ++step) {
    clock.now = static_cast<double>(step);
    progress.update(step, 1.0, {{"loss", 1.0}});  // a term named "loss" is the total, not repeated
  }
  progress.finish();
  progress.finish();  // idempotent
  const auto lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 4u) << out.str();
  EXPECT_EQ(lines[0], "prm: step    1/1000 (0%) loss 1  1.00 it/s  ETA 16m39s");
  EXPECT_EQ(lines[1].substr(0, 19), "prm: step   10/1000");
  EXPECT_EQ(lines[2].substr(0, 19), "prm: step   20/1000");
  EXPECT_EQ(lines[3], "prm: step   25/1000 (2%) loss 1  1.00 it/s  ETA 16m15s");
}

TEST(Progress, ResumedRunMeasuresOnlyItsOwnSteps) {
  std::ostringstream out;
  FakeClock clock{100.0};
  ProgressReporter progress(out, 100, 40, ProgressOptions(), clock.function());
  clock.now = 102.0;
  progress.update(41, 0.75, {});
  // 1 step in 2 s: 0.5 it/s, shown as 2.00 s/it; 59 steps left: 118 s.
  EXPECT_EQ(out.str(), "train: step  41/100 (41%) loss 0.75  2.00 s/it  ETA 1m58s\n");
}

TEST(Progress, TerminalBarRedrawsInPlaceAtMostEveryInterval) {
  std::ostringstream out;
  FakeClock clock;
  ProgressOptions options;
  options.terminal = true;
  options.bar_width = 10;
  options.redraw_every_seconds = 0.1;
  ProgressReporter progress(out, 100, 0, options, clock.function());
  clock.now = 0.05;
  progress.update(1, 2.5, {{"loss_classifier", 2.5}});  // first: drawn
  clock.now = 0.1;
  progress.update(2, 2.5, {});  // 0.05 s after the last draw: skipped
  clock.now = 0.2;
  progress.update(3, 2.5, {});  // drawn
  progress.message("saved x");  // above the bar, which is redrawn
  clock.now = 1.0;
  progress.update(50, 2.5, {});  // drawn, half full
  clock.now = 1.01;
  progress.update(51, 2.5, {});  // skipped...
  progress.finish();             // ...so finish draws it, then ends the line
  const std::string bar_at_3 = "\r[----------]   3/100   3% loss 2.5  15.00 it/s  ETA 6s\x1b[K";
  EXPECT_EQ(out.str(), "\r[----------]   1/100   1% loss 2.5  20.00 it/s  ETA 5s\x1b[K" + bar_at_3 +
                           "\r\x1b[Ksaved x\n" + bar_at_3 +
                           "\r[#####-----]  50/100  50% loss 2.5  50.00 it/s  ETA 1s\x1b[K"
                           "\r[#####-----]  51/100  51% loss 2.5  50.50 it/s  ETA 1s\x1b[K\n");
}

TEST(Progress, MessagesWithoutABarArePlainLines) {
  std::ostringstream out;
  FakeClock clock;
  ProgressOptions options;
  options.terminal = true;
  ProgressReporter progress(out, 10, 0, options, clock.function());
  progress.message("resumed");
  progress.finish();  // nothing drawn: nothing to end
  EXPECT_EQ(out.str(), "resumed\n");
}

TEST(Progress, BadArgumentsAreNamed) {
  std::ostringstream out;
  FakeClock clock;
  EXPECT_THROW(ProgressReporter(out, 10, 11, ProgressOptions(), clock.function()), Error);
  EXPECT_THROW(ProgressReporter(out, 10, 0, ProgressOptions(), nullptr), Error);
}

}  // namespace
}  // namespace wise::testing
