// train/training_loop.h on the tiny trainer: the loop against the same steps
// written out by hand, its log and checkpoints, the NaN guard (loss, gradient,
// parameters), SIGINT/SIGTERM, resume, and the errors.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/train/tiny_trainer.h"
#include "train/jsonl_log.h"
#include "train/training_loop.h"

namespace wise::testing {
namespace {

namespace fs = std::filesystem;

TrainingLoopOptions quiet_options(const std::string& dir, const TinyTrainer& trainer, int64_t total = 10) {
  TrainingLoopOptions options;
  options.total_iterations = total;
  options.checkpoint_every = 3;
  options.keep_last = 2;
  options.log_every = 1;
  options.out_dir = dir;
  options.config_json = trainer.config_json(total);
  options.progress_stream = nullptr;
  options.wall_clock = [] { return 1000.0; };
  return options;
}

std::vector<int64_t> iterations_in(const std::string& dir) {
  std::vector<int64_t> iterations;
  for (const auto& entry : list_checkpoints(dir)) iterations.push_back(entry.first);
  return iterations;
}

std::vector<nlohmann::ordered_json> log_records(const std::string& dir) {
  std::vector<nlohmann::ordered_json> records;
  for (const std::string& line : lines_of(read_file((fs::path(dir) / "log.jsonl").string()))) {
    records.push_back(nlohmann::ordered_json::parse(line));
  }
  return records;
}

StateBits reference_bits(int64_t steps) {
  TinyTrainer reference;
  train_by_hand(reference, steps);
  return state_bits(reference);
}

TEST(TrainingLoop, MatchesTheStepsWrittenByHandAndLogsEachStep) {
  ScratchDirectory dir;
  TinyTrainer trainer;
  TrainingState state = trainer.state();
  const TrainingOutcome outcome =
      run_training_loop(state, trainer.schedule, quiet_options(dir.path(), trainer), trainer.step_function());
  EXPECT_EQ(outcome.status, TrainingOutcome::Status::completed);
  EXPECT_EQ(outcome.exit_code(), 0);
  EXPECT_EQ(outcome.iteration, 10);
  EXPECT_EQ(outcome.start_iteration, 0);
  EXPECT_EQ(outcome.last_checkpoint, checkpoint_path(dir.path(), 10));

  TinyTrainer reference;
  const std::vector<double> losses = train_by_hand(reference, 10);
  EXPECT_TRUE(state_bits(trainer) == state_bits(reference));
  EXPECT_LT(losses.back(), losses.front());  // it learns

  // Checkpoints at 3, 6, 9 and the end; keep_last = 2.
  EXPECT_EQ(iterations_in(dir.path()), (std::vector<int64_t>{9, 10}));

  const auto records = log_records(dir.path());
  ASSERT_EQ(records.size(), 10u);
  for (int64_t i = 0; i < 10; ++i) {
    const auto& record = records[i];
    std::vector<std::string> keys;
    for (const auto& item : record.items()) keys.push_back(item.key());
    EXPECT_EQ(keys, (std::vector<std::string>{"step", "lr", "loss", "loss_classifier", "grad_norm", "batch_size",
                                              "time"}));
    EXPECT_EQ(record["step"].get<int64_t>(), i + 1);
    EXPECT_EQ(record["lr"].get<double>(), trainer.schedule.lr_at(i));
    EXPECT_EQ(record["loss"].get<double>(), losses[i]);
    EXPECT_EQ(record["loss_classifier"].get<double>(), losses[i]);
    EXPECT_GT(record["grad_norm"].get<double>(), 0.0);
    EXPECT_EQ(record["batch_size"].get<double>(), 8.0);
    EXPECT_EQ(record["time"].get<double>(), 1000.0);
  }
  // Warm-up from 0.1 x 0.2, then the milestone at iteration 6 (hand-computed).
  EXPECT_DOUBLE_EQ(records[0]["lr"].get<double>(), 0.02);
  EXPECT_DOUBLE_EQ(records[1]["lr"].get<double>(), 0.2 * (0.1 * (1 - 1.0 / 3) + 1.0 / 3));
  EXPECT_DOUBLE_EQ(records[6]["lr"].get<double>(), 0.02);
}

TEST(TrainingLoop, LogsEveryNStepsAndTheLastAndReportsProgress) {
  ScratchDirectory dir;
  TinyTrainer trainer;
  TrainingState state = trainer.state();
  TrainingLoopOptions options = quiet_options(dir.path(), trainer);
  options.log_every = 4;
  std::ostringstream progress;
  options.progress_stream = &progress;
  options.progress_terminal = false;
  double now = 0;
  options.clock = [&now] { return now += 0.5; };
  run_training_loop(state, trainer.schedule, options, trainer.step_function());
  std::vector<int64_t> steps;
  for (const auto& record : log_records(dir.path())) steps.push_back(record["step"].get<int64_t>());
  EXPECT_EQ(steps, (std::vector<int64_t>{4, 8, 10}));
  const std::string text = progress.str();
  EXPECT_NE(text.find("train: step  1/10 (10%) loss "), std::string::npos) << text;
  EXPECT_NE(text.find("train: step 10/10 (100%) loss "), std::string::npos) << text;
  EXPECT_NE(text.find("wise: saved " + checkpoint_path(dir.path(), 3) + "\n"), std::string::npos) << text;
}

TEST(TrainingLoop, NanLossStopsBeforeTheUpdateAndNamesTheLastGoodCheckpoint) {
  ScratchDirectory dir;
  TinyTrainer trainer;
  trainer.nan_loss_at = 7;  // step 8
  TrainingState state = trainer.state();
  const TrainingOutcome outcome =
      run_training_loop(state, trainer.schedule, quiet_options(dir.path(), trainer), trainer.step_function());
  EXPECT_EQ(outcome.status, TrainingOutcome::Status::non_finite);
  EXPECT_EQ(outcome.exit_code(), 1);
  EXPECT_EQ(outcome.iteration, 7);
  const std::string last_good = checkpoint_path(dir.path(), 6);
  EXPECT_EQ(outcome.last_checkpoint, last_good);
  EXPECT_EQ(outcome.message,
            "non-finite values in step 8 (iteration 7): loss_classifier = nan; gradient norm not computed (the "
            "losses already failed). Nothing was saved after this step; the last good checkpoint is " +
                last_good + " (resume from it, perhaps with a lower learning rate or gradient clipping).");
  // Nothing after step 7 reached the parameters or the disk.
  const StateBits after_7 = reference_bits(7);
  EXPECT_EQ(trainer.parameters.all_values().to_vector<float>(), after_7.parameters);
  EXPECT_EQ(state_bits(trainer).optimizer_buffers, after_7.optimizer_buffers);
  EXPECT_EQ(trainer.optimizer.steps(), 7);
  EXPECT_EQ(iterations_in(dir.path()), (std::vector<int64_t>{3, 6}));
  const auto records = log_records(dir.path());
  ASSERT_EQ(records.size(), 8u);
  EXPECT_EQ(records.back().dump(), "{\"step\":8,\"event\":\"non_finite\",\"loss_classifier\":\"nan\"}");

  // Resuming (the fault gone) continues from step 6 to the same end as a clean run.
  TinyTrainer resumed(16, /*init_seed=*/42);
  TrainingState resumed_state = resumed.state();
  TrainingLoopOptions options = quiet_options(dir.path(), resumed);
  options.resume = true;
  const TrainingOutcome finished =
      run_training_loop(resumed_state, resumed.schedule, options, resumed.step_function());
  EXPECT_EQ(finished.status, TrainingOutcome::Status::completed);
  EXPECT_EQ(finished.start_iteration, 6);
  EXPECT_TRUE(state_bits(resumed) == reference_bits(10));
  std::vector<int64_t> steps;
  for (const auto& record : log_records(dir.path())) steps.push_back(record["step"].get<int64_t>());
  EXPECT_EQ(steps, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
}

TEST(TrainingLoop, NanGradientBehindAFiniteLossStopsBeforeTheUpdate) {
  ScratchDirectory dir;
  TinyTrainer trainer;
  trainer.nan_gradient_at = 4;  // step 5
  TrainingState state = trainer.state();
  const TrainingOutcome outcome =
      run_training_loop(state, trainer.schedule, quiet_options(dir.path(), trainer), trainer.step_function());
  EXPECT_EQ(outcome.status, TrainingOutcome::Status::non_finite);
  EXPECT_EQ(outcome.iteration, 4);
  EXPECT_NE(outcome.message.find("non-finite values in step 5 (iteration 4): loss_classifier = "),
            std::string::npos);
  EXPECT_NE(outcome.message.find("; gradient norm nan. Nothing was saved"), std::string::npos) << outcome.message;
  EXPECT_EQ(trainer.parameters.all_values().to_vector<float>(), reference_bits(4).parameters);
  EXPECT_EQ(iterations_in(dir.path()), (std::vector<int64_t>{3}));
}

TEST(TrainingLoop, ParametersThatTurnNonFiniteAreNeverCheckpointed) {
  ScratchDirectory dir;
  TinyTrainer trainer;
  trainer.nan_parameter_at = 4;  // step 5: losses and gradients stay finite
  TrainingState state = trainer.state();
  const TrainingOutcome outcome =
      run_training_loop(state, trainer.schedule, quiet_options(dir.path(), trainer), trainer.step_function());
  EXPECT_EQ(outcome.status, TrainingOutcome::Status::non_finite);
  // Found by the check before the checkpoint of step 6, which is never written.
  EXPECT_EQ(outcome.iteration, 6);
  EXPECT_EQ(outcome.message,
            "non-finite parameters after step 6, found before writing its checkpoint (they went bad in one of steps "
            "4..6, whose losses and gradient norms were all finite: an update overflowed?). Nothing was saved after "
            "step 3; the last good checkpoint is " +
                checkpoint_path(dir.path(), 3) +
                " (resume from it, perhaps with a lower learning rate or gradient clipping).");
  EXPECT_EQ(iterations_in(dir.path()), (std::vector<int64_t>{3}));
}

TEST(TrainingLoop, SignalFinishesTheStepWritesACheckpointAndResumesExactly) {
  for (const int signal_number : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
    ScratchDirectory dir;
    TinyTrainer trainer;
    TrainingState state = trainer.state();
    struct sigaction before = {};
    sigaction(signal_number, nullptr, &before);
    const StepFunction step = [&](int64_t iteration) {
      const StepResult result = trainer.step(iteration);
      if (iteration == 4) std::raise(signal_number);  // during step 5
      return result;
    };
    const TrainingOutcome outcome =
        run_training_loop(state, trainer.schedule, quiet_options(dir.path(), trainer), step);
    EXPECT_EQ(outcome.status, TrainingOutcome::Status::interrupted);
    EXPECT_EQ(outcome.signal, signal_number);
    EXPECT_EQ(outcome.exit_code(), 128 + signal_number);
    EXPECT_EQ(outcome.iteration, 5);
    EXPECT_EQ(outcome.last_checkpoint, checkpoint_path(dir.path(), 5));
    EXPECT_EQ(iterations_in(dir.path()), (std::vector<int64_t>{3, 5}));
    EXPECT_TRUE(state_bits(trainer) == reference_bits(5));
    // The handlers are gone again.
    struct sigaction after = {};
    sigaction(signal_number, nullptr, &after);
    EXPECT_EQ(after.sa_handler, before.sa_handler);

    TinyTrainer resumed(16, /*init_seed=*/3);
    TrainingState resumed_state = resumed.state();
    TrainingLoopOptions options = quiet_options(dir.path(), resumed);
    options.resume = true;
    const TrainingOutcome finished =
        run_training_loop(resumed_state, resumed.schedule, options, resumed.step_function());
    EXPECT_EQ(finished.status, TrainingOutcome::Status::completed);
    EXPECT_EQ(finished.start_iteration, 5);
    EXPECT_TRUE(state_bits(resumed) == reference_bits(10));
  }
}

TEST(TrainingLoop, SignalDuringTheLastStepStillCompletes) {
  ScratchDirectory dir;
  TinyTrainer trainer;
  TrainingState state = trainer.state();
  const StepFunction step = [&](int64_t iteration) {
    const StepResult result = trainer.step(iteration);
    if (iteration == 3) std::raise(SIGINT);
    return result;
  };
  const TrainingOutcome outcome =
      run_training_loop(state, trainer.schedule, quiet_options(dir.path(), trainer, 4), step);
  EXPECT_EQ(outcome.status, TrainingOutcome::Status::completed);
  EXPECT_EQ(outcome.exit_code(), 0);
  EXPECT_EQ(iterations_in(dir.path()), (std::vector<int64_t>{3, 4}));
}

TEST(TrainingLoop, ResumeChecksTheConfigurationAndHandlesEdgeCases) {
  ScratchDirectory dir;
  TinyTrainer trainer;
  TrainingState state = trainer.state();
  TrainingLoopOptions options = quiet_options(dir.path(), trainer, 6);
  run_training_loop(state, trainer.schedule, options, trainer.step_function());

  // A fresh run into a directory with checkpoints is refused.
  try {
    run_training_loop(state, trainer.schedule, options, trainer.step_function());
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("already holds checkpoints"), std::string::npos) << error.what();
  }
  // Resuming a finished run does nothing.
  options.resume = true;
  TrainingOutcome outcome = run_training_loop(state, trainer.schedule, options, trainer.step_function());
  EXPECT_EQ(outcome.status, TrainingOutcome::Status::completed);
  EXPECT_EQ(outcome.start_iteration, 6);
  // More iterations: train.total_iterations differs, which the trainer must allow.
  options.total_iterations = 8;
  options.config_json = trainer.config_json(8);
  EXPECT_THROW(run_training_loop(state, trainer.schedule, options, trainer.step_function()), ConfigMismatchError);
  options.config_may_differ = {"train.total_iterations"};
  outcome = run_training_loop(state, trainer.schedule, options, trainer.step_function());
  EXPECT_EQ(outcome.start_iteration, 6);
  EXPECT_EQ(outcome.iteration, 8);
  // Another model size is a named error even when train.* may differ.
  TinyTrainer wider(32);
  TrainingState wider_state = wider.state();
  TrainingLoopOptions wider_options = options;
  wider_options.config_json = wider.config_json(8);
  try {
    run_training_loop(wider_state, wider.schedule, wider_options, wider.step_function());
    FAIL() << "expected ConfigMismatchError";
  } catch (const ConfigMismatchError& error) {
    EXPECT_EQ(error.field(), "model.hidden");
  }
  // Fewer iterations than the checkpoint holds.
  options.total_iterations = 4;
  EXPECT_THROW(run_training_loop(state, trainer.schedule, options, trainer.step_function()), Error);
}

TEST(TrainingLoop, ResumeWithoutACheckpointStartsAtZero) {
  ScratchDirectory dir;
  TinyTrainer trainer;
  TrainingState state = trainer.state();
  TrainingLoopOptions options = quiet_options(dir.path(), trainer, 4);
  options.resume = true;
  std::ostringstream notes;
  options.progress_stream = &notes;
  options.progress_terminal = false;
  const TrainingOutcome outcome = run_training_loop(state, trainer.schedule, options, trainer.step_function());
  EXPECT_EQ(outcome.start_iteration, 0);
  EXPECT_EQ(outcome.iteration, 4);
  EXPECT_NE(notes.str().find("wise: no checkpoint to resume from in " + dir.path() + "; starting at iteration 0"),
            std::string::npos)
      << notes.str();
  EXPECT_TRUE(state_bits(trainer) == reference_bits(4));
}

TEST(TrainingLoop, BadOptionsAreNamed) {
  ScratchDirectory dir;
  TinyTrainer trainer;
  TrainingState state = trainer.state();
  auto fails_with = [&](TrainingLoopOptions options, const std::string& text) {
    try {
      run_training_loop(state, trainer.schedule, options, trainer.step_function());
      ADD_FAILURE() << "expected an error containing " << text;
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find(text), std::string::npos) << error.what();
    }
  };
  TrainingLoopOptions options = quiet_options(dir.path(), trainer);
  options.log_every = 0;
  fails_with(options, "log_every must be >= 1, got 0");
  options = quiet_options(dir.path(), trainer);
  options.out_dir = "";
  fails_with(options, "out_dir is empty");
  options = quiet_options(dir.path(), trainer);
  options.total_iterations = -1;
  fails_with(options, "total_iterations must be >= 0, got -1");
  options = quiet_options(dir.path(), trainer);
  options.checkpoint_every = -2;
  fails_with(options, "checkpoint_every must be >= 0");
  EXPECT_THROW(run_training_loop(state, trainer.schedule, quiet_options(dir.path(), trainer), nullptr), Error);
}

}  // namespace
}  // namespace wise::testing
