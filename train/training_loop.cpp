#include "train/training_loop.h"

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <ostream>

#include <nlohmann/json.hpp>

#include "train/data_parallel.h"
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
  WISE_CHECK(options.validate_every >= 0, "training loop: validate_every must be >= 0 (0: never), got ",
             options.validate_every);
  WISE_CHECK(!options.out_dir.empty(), "training loop: out_dir is empty (where should checkpoints go?)");
}

// The output directory, created if need be, without the temporary files an interrupted
// checkpoint write may have left in it.
void prepare_out_dir(const std::string& out_dir, std::ostream& notes) {
  std::error_code error;
  fs::create_directories(out_dir, error);
  WISE_CHECK(!error, out_dir, ": cannot create the output directory: ", error.message());
  if (const int removed = remove_temporary_checkpoint_files(out_dir)) {
    notes << "wise: removed " << removed << " temporary file(s) an interrupted checkpoint write left in " << out_dir
          << "\n";
  }
}

// The run's configuration as checkpoints record it: the trainer's, and for a job of
// W > 1 processes {"data_parallel": {"world_size": W}} beside it (a single process adds
// nothing, so its checkpoints read as they always did).
std::string job_config(const std::string& config_json, int world_size) {
  if (world_size == 1) return config_json;
  nlohmann::json config = nlohmann::json::parse(config_json);
  WISE_CHECK(config.is_object(), "training loop: config_json must be a JSON object, got ", config_json);
  config["data_parallel"] = {{"world_size", world_size}};
  return config.dump();
}

// Where to start: a fresh run (an out_dir without checkpoints), or, with resume, the
// newest intact checkpoint, which restores `state` and sets the outcome's start
// iteration and last checkpoint. Returns the log, kept up to the start iteration (rank 0
// of a job only: the others return none).
std::optional<JsonlLog> start_or_resume(TrainingState& state, const TrainingLoopOptions& options,
                                        const std::string& config, bool lead, const std::string& log_path,
                                        std::ostream& notes, TrainingOutcome& outcome) {
  const std::string& out_dir = options.out_dir;
  auto fresh_log = [&]() -> std::optional<JsonlLog> {
    if (!lead) return std::nullopt;
    return JsonlLog::create(log_path);
  };
  if (!options.resume) {
    const auto existing = list_checkpoints(out_dir);
    WISE_CHECK(existing.empty(), out_dir, ": already holds checkpoints (newest: ", existing.back().second,
               "); resume to continue that run, or choose another output directory");
    return fresh_log();
  }
  const auto latest = find_latest_checkpoint(out_dir, notes);
  if (!latest) {
    notes << "wise: no checkpoint to resume from in " << out_dir << "; starting at iteration 0\n";
    return fresh_log();
  }
  CheckpointInfo info;
  try {
    info = load_checkpoint(*latest, state, config, options.config_may_differ);
  } catch (const ConfigMismatchError& mismatch) {
    if (mismatch.field() != "data_parallel.world_size") throw;
    // A finished run takes no more steps, so any number of processes may resume it for
    // what follows training (train_prm's pseudo masks under mpirun, say); an unfinished
    // one continues only at the number it was written with.
    int64_t iteration = -1;  // the checkpoint's, from its name
    for (const auto& [at, path] : list_checkpoints(out_dir)) iteration = path == *latest ? at : iteration;
    if (iteration < options.total_iterations) {
      const int world = options.communicator ? options.communicator->world_size() : 1;
      throw ConfigMismatchError(
          concat(*latest, ": written by a job of a different number of processes than this one (", world,
                 "); resume it with the number it was written with (mpirun -np N; no mpirun for 1): each rank's "
                 "shard of the global batch depends on it. (", mismatch.what(), ")"),
          mismatch.field());
    }
    std::vector<std::string> may_differ = options.config_may_differ;
    may_differ.push_back(mismatch.field());
    info = load_checkpoint(*latest, state, config, may_differ);
  }
  WISE_CHECK(info.iteration <= options.total_iterations, *latest, ": the checkpoint is at iteration ",
             info.iteration, ", past total_iterations = ", options.total_iterations);
  outcome.start_iteration = info.iteration;
  outcome.last_checkpoint = *latest;
  notes << "wise: resumed from " << *latest << " (iteration " << info.iteration << " of "
        << options.total_iterations << ")\n";
  if (!lead) return std::nullopt;
  return JsonlLog::resume(log_path, info.iteration);
}

ProgressOptions progress_options_of(const TrainingLoopOptions& options) {
  ProgressOptions progress;
  progress.terminal =
      options.progress_terminal.value_or(options.progress_stream == &std::cerr && stderr_is_terminal());
  progress.line_every_seconds = options.progress_every_seconds;
  return progress;
}

// One step's forward and backward pass with the NaN guard's checks, all before the
// update can carry a bad value into the parameters.
struct CheckedStep {
  StepResult result;
  double loss = 0.0;           // the logged total (total_loss)
  std::optional<double> norm;  // the gradient norm, when checked (and the loss was finite)
  bool finite = true;          // false: stop before the update
  bool stop_requested = false; // a job of several ranks: a SIGINT/SIGTERM reached one of them
};

// A job of several ranks, after the local forward and backward: the gradients averaged,
// and the loss terms, metrics and a stop request (a signal this rank has seen) in one
// all-reduce of doubles, so every rank goes on with the same values and stops after the
// same step.
void reduce_over_ranks(TrainingState& state, distributed::Communicator& job, CheckedStep& checked) {
  average_gradients(state.parameters, job);
  std::vector<double> values;
  for (const auto& term : checked.result.losses) values.push_back(term.second);
  for (const auto& metric : checked.result.metrics) values.push_back(metric.second);
  values.push_back(stop_signal != 0 ? 1.0 : 0.0);
  average_scalars(values, job);
  size_t i = 0;
  for (auto& term : checked.result.losses) term.second = values[i++];
  for (auto& metric : checked.result.metrics) metric.second = values[i++];
  checked.stop_requested = values[i] > 0.0;
}

CheckedStep forward_backward(TrainingState& state, const TrainingLoopOptions& options, const StepFunction& step,
                             int64_t iteration) {
  CheckedStep checked;
  state.parameters.zero_gradients();
  checked.result = step(iteration);
  if (options.communicator != nullptr && options.communicator->world_size() > 1) {
    reduce_over_ranks(state, *options.communicator, checked);
  }
  checked.loss = total_loss(checked.result.losses);
  if (!all_finite(checked.result.losses) || !std::isfinite(checked.loss)) {
    checked.finite = false;
    return checked;
  }
  if (options.check_gradient_norm) {
    checked.norm = gradient_norm(state.parameters);
    checked.finite = std::isfinite(*checked.norm);
  }
  return checked;
}

// The log record of a completed step.
LogRecord step_record(int64_t completed, double learning_rate, const CheckedStep& checked, double time) {
  LogRecord record;
  record.add("step", completed).add("lr", learning_rate).add("loss", checked.loss);
  for (const auto& [name, value] : checked.result.losses) {
    if (name != "loss") record.add(name, value);
  }
  if (checked.norm) record.add("grad_norm", *checked.norm);
  for (const auto& [name, value] : checked.result.metrics) record.add(name, value);
  record.add("time", time);
  return record;
}

bool checkpoint_due(const TrainingLoopOptions& options, int64_t completed, int signal_number) {
  return (options.checkpoint_every > 0 && completed % options.checkpoint_every == 0) ||
         completed == options.total_iterations || signal_number != 0;
}

// Where a run reports: notes for the user, the JSONL log, the progress line.
struct Reporting {
  std::ostream& notes;
  JsonlLog* log;  // null on the ranks other than 0 of a job
  ProgressReporter& progress;
};

// Stops the run on a non-finite value: a log record, the message, no checkpoint.
TrainingOutcome stop_non_finite(Reporting& reporting, TrainingOutcome outcome, int64_t failed_step,
                                const LossTerms& terms, std::optional<double> norm, const std::string& message) {
  outcome.status = TrainingOutcome::Status::non_finite;
  outcome.message = message;
  LogRecord record;
  record.add("step", failed_step).add("event", "non_finite");
  for (const auto& [name, value] : terms) record.add(name, value);
  if (norm) record.add("grad_norm", *norm);
  if (reporting.log) reporting.log->write(record);
  reporting.progress.finish();
  reporting.notes << "wise: " << outcome.message << "\n";
  return outcome;
}

// Stops the run after a signal; the step's checkpoint is written.
TrainingOutcome stop_interrupted(Reporting& reporting, TrainingOutcome outcome, int64_t total_iterations,
                                 int signal_number) {
  reporting.progress.finish();
  outcome.status = TrainingOutcome::Status::interrupted;
  outcome.signal = signal_number;
  outcome.message = concat("stopped by ", signal_name(signal_number), " after step ", outcome.iteration, " of ",
                           total_iterations, "; saved ", outcome.last_checkpoint, " (resume to continue)");
  reporting.notes << "wise: " << outcome.message << "\n";
  return outcome;
}

TrainingOutcome finish_completed(Reporting& reporting, TrainingOutcome outcome, int64_t total_iterations) {
  reporting.progress.finish();
  outcome.status = TrainingOutcome::Status::completed;
  outcome.message = concat("trained ", total_iterations, " iterations",
                           outcome.last_checkpoint.empty() ? "" : "; last checkpoint " + outcome.last_checkpoint);
  return outcome;
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
  distributed::Communicator* job = options.communicator;
  const int world = job ? job->world_size() : 1;
  const bool lead = job == nullptr || job->rank() == 0;  // rank 0 writes and reports
  std::ostream null_stream(nullptr);  // discards everything
  std::ostream& notes = lead && options.progress_stream ? *options.progress_stream : null_stream;
  const std::function<double()> clock = options.clock ? options.clock : steady_seconds;
  const std::function<double()> wall_clock = options.wall_clock ? options.wall_clock : unix_seconds;
  prepare_out_dir(options.out_dir, notes);

  TrainingOutcome outcome;
  const std::string config = job_config(options.config_json, world);
  std::optional<JsonlLog> log = start_or_resume(
      state, options, config, lead, (fs::path(options.out_dir) / "log.jsonl").string(), notes, outcome);
  if (world > 1) broadcast_parameters(state.parameters, *job);  // rank 0's model everywhere
  outcome.iteration = outcome.start_iteration;
  ProgressReporter progress(notes, options.total_iterations, outcome.start_iteration, progress_options_of(options),
                            clock);
  Reporting reporting{notes, log ? &*log : nullptr, progress};
  const StopSignalHandlers handlers(options.handle_signals);
  int64_t last_checked_step = outcome.start_iteration;  // parameters known finite here

  for (int64_t iteration = outcome.start_iteration; iteration < options.total_iterations; ++iteration) {
    const int64_t completed = iteration + 1;
    const CheckedStep checked = forward_backward(state, options, step, iteration);
    if (!checked.finite) {
      return stop_non_finite(reporting, outcome, completed, checked.result.losses, checked.norm,
                             non_finite_message(completed, checked.result.losses, checked.norm,
                                                outcome.last_checkpoint));
    }
    const double learning_rate = schedule.lr_at(iteration);
    state.optimizer.step(learning_rate);
    if (world > 1) broadcast_buffers(state.parameters, *job);
    outcome.iteration = completed;

    if (log && (completed % options.log_every == 0 || completed == options.total_iterations)) {
      log->write(step_record(completed, learning_rate, checked, wall_clock()));
    }
    progress.update(completed, checked.loss, checked.result.losses);
    if (log && options.validate && options.validate_every > 0 && completed % options.validate_every == 0 &&
        completed < options.total_iterations) {
      LogRecord record;
      record.add("step", completed).add("event", "validation");
      for (const auto& [name, value] : options.validate(completed)) record.add(name, value);
      log->write(record);
    }

    // One process: the signal as it stands now. A job: the stop request every rank agreed
    // on with this step's loss terms (a signal arriving since counts at the next step).
    const int signal_number =
        world == 1 ? static_cast<int>(stop_signal)
                   : (checked.stop_requested ? (stop_signal != 0 ? static_cast<int>(stop_signal) : SIGTERM) : 0);
    if (checkpoint_due(options, completed, signal_number)) {
      // An update can overflow finite gradients into Inf: never save such parameters.
      if (!all_finite(state.parameters.all_values())) {
        return stop_non_finite(reporting, outcome, completed, checked.result.losses, checked.norm,
                               non_finite_parameters_message(completed, last_checked_step, outcome.last_checkpoint));
      }
      last_checked_step = completed;
      outcome.last_checkpoint = lead ? save_checkpoint(options.out_dir, completed, state, config, options.keep_last)
                                     : checkpoint_path(options.out_dir, completed);
      progress.message("wise: saved " + outcome.last_checkpoint);
    }
    if (signal_number != 0 && completed < options.total_iterations) {
      return stop_interrupted(reporting, outcome, options.total_iterations, signal_number);
    }
  }
  return finish_completed(reporting, outcome, options.total_iterations);
}

}  // namespace wise
