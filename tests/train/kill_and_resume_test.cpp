// The kill-and-resume test: a run killed with SIGKILL (no handler, no cleanup)
// and resumed in a fresh process state ends with exactly the bits, and exactly
// the log, of a run that was never interrupted.
//
// The killed run is a child process. It must be a fresh program, not a bare
// fork(): libgomp's thread pool does not survive fork() (the child's first
// parallel region waits forever for threads that were not copied), so the child
// re-executes this test binary, running only the DISABLED_ test below, which
// trains in the directory the parent names in an environment variable and kills
// itself during step 8, after the checkpoint of step 6.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/train/tiny_trainer.h"
#include "train/training_loop.h"

extern char** environ;

namespace wise::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kChildDirectory = "WISE_TRAIN_TEST_KILL_DIR";
constexpr int64_t kTotal = 10, kKilledDuring = 7;  // iteration 7 = step 8

TrainingLoopOptions run_options(const std::string& dir, const TinyTrainer& trainer) {
  TrainingLoopOptions options;
  options.total_iterations = kTotal;
  options.checkpoint_every = 3;
  options.keep_last = 2;
  options.log_every = 1;
  options.out_dir = dir;
  options.config_json = trainer.config_json(kTotal);
  options.progress_stream = nullptr;
  options.wall_clock = [] { return 1000.0; };  // the log's "time" is the same in every run
  return options;
}

// Runs this binary's child test in a new process; returns its wait status.
int run_child(const std::string& run_dir, const std::string& output_path) {
  // Everything the child needs is prepared before fork(): after it, only
  // async-signal-safe calls (dup2, execve, _exit).
  const std::string executable = fs::read_symlink("/proc/self/exe").string();
  std::vector<std::string> arguments = {executable,
                                        "--gtest_filter=KillAndResumeChild.DISABLED_TrainsUntilItKillsItself",
                                        "--gtest_also_run_disabled_tests"};
  // The parent's environment, but our directory, and no GTEST_OUTPUT: the child
  // must not overwrite the parent's XML report.
  std::vector<std::string> environment = {std::string(kChildDirectory) + "=" + run_dir};
  for (char** entry = environ; *entry; ++entry) {
    const std::string variable = *entry;
    if (variable.rfind(std::string(kChildDirectory) + "=", 0) == 0 || variable.rfind("GTEST_OUTPUT=", 0) == 0) continue;
    environment.push_back(variable);
  }
  std::vector<char*> argv, envp;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  for (std::string& variable : environment) envp.push_back(variable.data());
  envp.push_back(nullptr);
  const int output = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (output < 0) return -1;

  const pid_t child = ::fork();
  if (child == 0) {
    ::dup2(output, STDOUT_FILENO);
    ::dup2(output, STDERR_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(output);
  if (child < 0) return -1;
  // Wait at most 60 s: a hung child must fail the test, not hang it.
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (::waitpid(child, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
      return -2;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status;
}

TEST(KillAndResumeChild, DISABLED_TrainsUntilItKillsItself) {
  const char* dir = std::getenv(kChildDirectory);
  if (dir == nullptr) GTEST_SKIP() << "runs only as the child of KillAndResume (" << kChildDirectory << " unset)";
  TinyTrainer trainer;
  TrainingState state = trainer.state();
  const StepFunction step = [&](int64_t iteration) {
    if (iteration == kKilledDuring) std::raise(SIGKILL);  // mid-step: no handler, no flush
    return trainer.step(iteration);
  };
  run_training_loop(state, trainer.schedule, run_options(dir, trainer), step);
  FAIL() << "the child should have been killed during iteration " << kKilledDuring;
}

TEST(KillAndResume, ResumedRunEndsWithTheBitsAndLogOfAnUninterruptedOne) {
  ScratchDirectory scratch;
  const std::string clean_dir = scratch.file("clean"), killed_dir = scratch.file("killed");

  // The uninterrupted run.
  TinyTrainer clean;
  TrainingState clean_state = clean.state();
  ASSERT_EQ(run_training_loop(clean_state, clean.schedule, run_options(clean_dir, clean), clean.step_function())
                .status,
            TrainingOutcome::Status::completed);

  // The killed run.
  const std::string child_output = scratch.file("child.txt");
  const int status = run_child(killed_dir, child_output);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "child status " << status << ", output:\n" << read_file(child_output);
  ASSERT_TRUE(fs::exists(checkpoint_path(killed_dir, 6)));
  EXPECT_FALSE(fs::exists(checkpoint_path(killed_dir, 9)));
  const auto killed_log = lines_of(read_file((fs::path(killed_dir) / "log.jsonl").string()));
  ASSERT_EQ(killed_log.size(), 7u);  // steps 1..7; step 8 never finished

  // What else a crash can leave: a torn log line, a temporary checkpoint file
  // and a damaged checkpoint newer than the last good one.
  {
    std::ofstream log((fs::path(killed_dir) / "log.jsonl").string(), std::ios::app);
    log << "{\"step\":8,\"lr\":0.0";
  }
  const std::string bytes = read_file(checkpoint_path(killed_dir, 6));
  write_file(checkpoint_path(killed_dir, 6) + ".tmp.99999", bytes.substr(0, 100));
  write_file(checkpoint_path(killed_dir, 9), bytes.substr(0, bytes.size() - 1));

  // Resume with a fresh model, optimizer and generator (all different).
  TinyTrainer resumed(16, /*init_seed=*/1234);
  resumed.data_generator = Generator{555, 666};
  TrainingState resumed_state = resumed.state();
  TrainingLoopOptions options = run_options(killed_dir, resumed);
  options.resume = true;
  std::ostringstream notes;
  options.progress_stream = &notes;
  options.progress_terminal = false;
  const TrainingOutcome outcome = run_training_loop(resumed_state, resumed.schedule, options, resumed.step_function());
  EXPECT_EQ(outcome.status, TrainingOutcome::Status::completed) << outcome.message;
  EXPECT_EQ(outcome.start_iteration, 6) << notes.str();
  EXPECT_NE(notes.str().find("skipping broken checkpoint: " + checkpoint_path(killed_dir, 9)), std::string::npos)
      << notes.str();
  EXPECT_NE(notes.str().find("removed 1 temporary file(s)"), std::string::npos) << notes.str();

  // Bit for bit: parameters, momentum, optimizer step count, generator, buffer.
  const StateBits expected = state_bits(clean), found = state_bits(resumed);
  EXPECT_TRUE(found == expected);
  EXPECT_EQ(found.parameters, expected.parameters);
  EXPECT_EQ(found.optimizer_buffers, expected.optimizer_buffers);
  // The final checkpoints are the same bytes, and so is the log.
  EXPECT_EQ(read_file(checkpoint_path(killed_dir, 10)), read_file(checkpoint_path(clean_dir, 10)));
  EXPECT_EQ(read_file((fs::path(killed_dir) / "log.jsonl").string()),
            read_file((fs::path(clean_dir) / "log.jsonl").string()));
}

}  // namespace
}  // namespace wise::testing
