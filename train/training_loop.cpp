#include "train/training_loop.h"

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <ostream>

#include "train/jsonl_log.h"

namespace wise {

namespace {

namespace fs = std::filesystem;

// ---- SIGINT / SIGTERM: finish the step, checkpoint, return. --------------------------

volatile std::sig_atomic_t stop_signal = 0;  // the signal that asked us to stop, 0 if none

extern "C" void handle_stop_signal(int signal_number) {
  if (stop_signal != 0) {
    // A second request while the first is handled: act as if we had no handler.
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
    return;
  }
  stop_signal = signal_number;
}

// Installs the handler for SIGINT and SIGTERM while alive, then restores the old ones.
class StopSignalHandlers {
 public:
  explicit StopSignalHandlers(bool install) : installed_(install) {
    stop_signal = 0;
    if (!installed_) return;
    struct sigaction action = {};
    action.sa_handler = handle_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;  // a read or write the signal interrupts carries on
    sigaction(SIGINT, &action, &old_interrupt_);
    sigaction(SIGTERM, &action, &old_terminate_);
  }
  ~StopSignalHandlers() {
    if (!installed_) return;
    sigaction(SIGINT, &old_interrupt_, nullptr);
    sigaction(SIGTERM, &old_terminate_, nullptr);
  }
  StopSignalHandlers(const StopSignalHandlers&) = delete;
  StopSignalHandlers& operator=(const StopSignalHandlers&) = delete;

 private:
  bool installed_;
  struct sigaction old_interrupt_ = {}, old_terminate_ = {};
};

const char* signal_name(int signal_number) {
  switch (signal_number) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "a signal";
  }
}

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The logged total: the term named "loss" if there is one, else the sum of the terms.
double total_loss(const LossTerms& terms) {
  double sum = 0;
  for (const auto& [name, value] : terms) {
    if (name == "loss") return value;
    sum += value;
  }
  return sum;
}

void check_options(const TrainingLoopOptions& options) {
  WISE_CHECK(options.total_iterations >= 0, "training loop: total_iterations must be >= 0, got ",
             options.total_iterations);
  WISE_CHECK(options.checkpoint_every >= 0, "training loop: checkpoint_every must be >= 0 (0: only at the end), got ",
             options.checkpoint_every);
  WISE_CHECK(options.keep_last >= 0, "training loop: keep_last must be >= 0 (0: keep all), got ", options.keep_last);
  WISE_CHECK(options.log_every >= 1, "training loop: log_every must be >= 1, got ", options.log_every);
  WISE_CHECK(!options.out_dir.empty(), "training loop: out_dir is empty (where should checkpoints go?)");
}

}  // namespace

int TrainingOutcome::exit_code() const {
  switch (status) {
    case Status::completed: return 0;
    case Status::interrupted: return 128 + signal;
    case Status::non_finite: return 1;
  }
  return 1;
}

TrainingOutcome run_training_loop(TrainingState& state, const LrSchedule& schedule,
                                  const TrainingLoopOptions& options, const StepFunction& step) {
  check_options(options);
  WISE_CHECK(step != nullptr, "training loop: the step function is empty");
  std::ostream null_stream(nullptr);  // discards everything
  std::ostream& notes = options.progress_stream ? *options.progress_stream : null_stream;
  const std::function<double()> clock = options.clock ? options.clock : steady_seconds;
  const std::function<double()> wall_clock = options.wall_clock ? options.wall_clock : unix_seconds;
  const std::string& out_dir = options.out_dir;
  const std::string log_path = (fs::path(out_dir) / "log.jsonl").string();

  std::error_code error;
  fs::create_directories(out_dir, error);
  WISE_CHECK(!error, out_dir, ": cannot create the output directory: ", error.message());
  if (const int removed = remove_temporary_checkpoint_files(out_dir)) {
    notes << "wise: removed " << removed << " temporary file(s) an interrupted checkpoint write left in " << out_dir
          << "\n";
  }

  // ---- Where to start: a fresh run, or the newest intact checkpoint. ----
  TrainingOutcome outcome;
  std::optional<JsonlLog> log;
  if (options.resume) {
    if (const auto latest = find_latest_checkpoint(out_dir, notes)) {
      const CheckpointInfo info = load_checkpoint(*latest, state, options.config_json, options.config_may_differ);
      WISE_CHECK(info.iteration <= options.total_iterations, *latest, ": the checkpoint is at iteration ",
                 info.iteration, ", past total_iterations = ", options.total_iterations);
      outcome.start_iteration = info.iteration;
      outcome.last_checkpoint = *latest;
      log.emplace(JsonlLog::resume(log_path, info.iteration));
      notes << "wise: resumed from " << *latest << " (iteration " << info.iteration << " of "
            << options.total_iterations << ")\n";
    } else {
      notes << "wise: no checkpoint to resume from in " << out_dir << "; starting at iteration 0\n";
    }
  } else {
    const auto existing = list_checkpoints(out_dir);
    WISE_CHECK(existing.empty(), out_dir, ": already holds checkpoints (newest: ", existing.back().second,
               "); resume to continue that run, or choose another output directory");
  }
  if (!log) log.emplace(JsonlLog::create(log_path));
  outcome.iteration = outcome.start_iteration;

  ProgressOptions progress_options;
  progress_options.terminal = options.progress_terminal.value_or(options.progress_stream == &std::cerr &&
                                                                 stderr_is_terminal());
  progress_options.line_every_seconds = options.progress_every_seconds;
  ProgressReporter progress(notes, options.total_iterations, outcome.start_iteration, progress_options, clock);
  const StopSignalHandlers handlers(options.handle_signals);

  // Stops the run on a non-finite value: a log record, the message, no checkpoint.
  auto stop_non_finite = [&](int64_t failed_step, const LossTerms& terms, std::optional<double> norm,
                             const std::string& message) {
    outcome.status = TrainingOutcome::Status::non_finite;
    outcome.message = message;
    LogRecord record;
    record.add("step", failed_step).add("event", "non_finite");
    for (const auto& [name, value] : terms) record.add(name, value);
    if (norm) record.add("grad_norm", *norm);
    log->write(record);
    progress.finish();
    notes << "wise: " << outcome.message << "\n";
    return outcome;
  };
  int64_t last_checked_step = outcome.start_iteration;  // parameters known finite here

  for (int64_t iteration = outcome.start_iteration; iteration < options.total_iterations; ++iteration) {
    const int64_t completed = iteration + 1;
    state.parameters.zero_gradients();
    const StepResult result = step(iteration);
    const double loss = total_loss(result.losses);

    // The NaN guard, before the update can carry a bad value into the parameters.
    std::optional<double> norm;
    if (!all_finite(result.losses) || !std::isfinite(loss)) {
      return stop_non_finite(completed, result.losses, norm,
                             non_finite_message(completed, result.losses, norm, outcome.last_checkpoint));
    }
    if (options.check_gradient_norm) {
      norm = gradient_norm(state.parameters);
      if (!std::isfinite(*norm)) {
        return stop_non_finite(completed, result.losses, norm,
                               non_finite_message(completed, result.losses, norm, outcome.last_checkpoint));
      }
    }
    const double learning_rate = schedule.lr_at(iteration);
    state.optimizer.step(learning_rate);
    outcome.iteration = completed;

    if (completed % options.log_every == 0 || completed == options.total_iterations) {
      LogRecord record;
      record.add("step", completed).add("lr", learning_rate).add("loss", loss);
      for (const auto& [name, value] : result.losses) {
        if (name != "loss") record.add(name, value);
      }
      if (norm) record.add("grad_norm", *norm);
      for (const auto& [name, value] : result.metrics) record.add(name, value);
      record.add("time", wall_clock());
      log->write(record);
    }
    progress.update(completed, loss, result.losses);

    const int signal_number = stop_signal;
    const bool checkpoint_due = (options.checkpoint_every > 0 && completed % options.checkpoint_every == 0) ||
                                completed == options.total_iterations || signal_number != 0;
    if (checkpoint_due) {
      // An update can overflow finite gradients into Inf: never save such parameters.
      if (!all_finite(state.parameters.all_values())) {
        return stop_non_finite(completed, result.losses, norm,
                               non_finite_parameters_message(completed, last_checked_step, outcome.last_checkpoint));
      }
      last_checked_step = completed;
      outcome.last_checkpoint = save_checkpoint(out_dir, completed, state, options.config_json, options.keep_last);
      progress.message("wise: saved " + outcome.last_checkpoint);
    }
    if (signal_number != 0 && completed < options.total_iterations) {
      progress.finish();
      outcome.status = TrainingOutcome::Status::interrupted;
      outcome.signal = signal_number;
      outcome.message = concat("stopped by ", signal_name(signal_number), " after step ", completed, " of ",
                               options.total_iterations, "; saved ", outcome.last_checkpoint,
                               " (resume to continue)");
      notes << "wise: " << outcome.message << "\n";
      return outcome;
    }
  }
  progress.finish();
  outcome.status = TrainingOutcome::Status::completed;
  outcome.message = concat("trained ", options.total_iterations, " iterations",
                           outcome.last_checkpoint.empty() ? "" : "; last checkpoint " + outcome.last_checkpoint);
  return outcome;
}

}  // namespace wise
