// The training loop every trainer shares: steps, resume, checkpoints, the NaN
// guard, progress and the JSONL log. A trainer supplies the state (parameters,
// optimizer, generators), the learning-rate schedule and a step callback that
// does one forward and backward pass; the loop does the rest:
//
//   for iteration i = start .. total_iterations - 1:
//     zero the gradients
//     terms = step(i)                  forward + backward of batch i (callback)
//     NaN guard on the terms           -> stop before the update
//     gradient norm, NaN guard         -> stop before the update
//     optimizer.step(schedule.lr_at(i))
//     k = i + 1 steps are now complete
//     log record every log_every steps and at the end; progress
//     validation record every validate_every steps (when a validate callback is given)
//     checkpoint every checkpoint_every steps, at the end, and on SIGINT/SIGTERM
//       (after a finiteness check of every parameter)
//
// Resume (options.resume): the newest intact checkpoint of out_dir restores the
// parameters, the optimizer (momentum, step count), the generators and the
// iteration k; the log keeps its first k steps; the loop continues at i = k.
// For the continuation to be bit-identical the callback must be a function of
// the iteration and the restored state only: choose batch i from i (e.g. epoch
// i / batches_per_epoch shuffled by a generator seeded with the epoch), and draw
// augmentation from the TrainingState's generators. On the CPU wise is
// bitwise deterministic, so a resumed run then ends with exactly the bits of an
// uninterrupted one (tests/train/kill_and_resume_test.cpp checks it).
//
// A SIGINT or SIGTERM lets the current step finish, writes a checkpoint and
// returns (status interrupted; completed if that step was the last); a second
// one before the step ends kills the process as the default action would. The handlers are installed for the
// duration of run_training_loop only.
//
// Files in out_dir: checkpoint-<k>.safetensors (train/checkpoint.h) and
// log.jsonl (train/jsonl_log.h). Without resume, an out_dir that already holds
// checkpoints is an error (so a run is never silently mixed with an older one).
//
// A trainer, in outline (what apps/train_* do around their model):
//
//   ParameterBuffer parameters = ...;            // the model declares, allocates, initialises
//   Sgd optimizer(parameters, sgd_options);
//   LrSchedule schedule(schedule_options);
//   Generator augmentation{seed, 0};
//   TrainingState state{parameters, optimizer, {{"augmentation", &augmentation}}, {}};
//   TrainingLoopOptions options;                 // from the command line / config file
//   options.total_iterations = 20000; options.out_dir = "runs/prm"; options.resume = resume_flag;
//   options.config_json = config.dump();         // e.g. {"model": {"depth": 50}, "train": {...}}
//   options.config_may_differ = {"train.total_iterations", "train.out_dir"};
//   const TrainingOutcome outcome = run_training_loop(state, schedule, options, [&](int64_t i) {
//     Batch batch = loader.batch(i);             // a function of i (and the generators)
//     const Losses losses = model_forward_backward(parameters, batch);
//     return StepResult{{{"loss_classifier", losses.classifier}}, {}};
//   });
//   if (outcome.status != TrainingOutcome::Status::completed) std::cerr << outcome.message << "\n";
//   return outcome.exit_code();
#pragma once

#include <cstdint>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "distributed/communicator.h"
#include "nn/lr_schedule.h"
#include "train/checkpoint.h"
#include "train/nan_guard.h"
#include "train/progress.h"

namespace wise {

// What one step reports.
struct StepResult {
  // The loss terms, checked by the NaN guard. Their sum is the logged "loss",
  // unless one of them is named "loss" (then that one is the total).
  LossTerms losses;
  // Anything else worth logging (accuracy, number of positives); not checked.
  std::vector<std::pair<std::string, double>> metrics;
};

// One forward and backward pass for iteration `iteration` (0-based: the
// (iteration + 1)-th step), accumulating into the zeroed gradients.
using StepFunction = std::function<StepResult(int64_t iteration)>;

struct TrainingLoopOptions {
  int64_t total_iterations = 0;
  int64_t checkpoint_every = 1000;  // 0: only at the end and on a signal
  int keep_last = 3;                // checkpoints kept in out_dir (0: all)
  int64_t log_every = 20;           // JSONL record every this many steps (and the last)
  std::string out_dir;              // checkpoints and log.jsonl
  bool resume = false;              // continue from out_dir's newest intact checkpoint
  // Saved in every checkpoint; on resume compared field by field with the
  // checkpoint's, except the fields (or object prefixes) in config_may_differ.
  std::string config_json = "{}";
  std::vector<std::string> config_may_differ;
  // The NaN guard on the gradients: one pass over them and one host read-back
  // per step (also when the optimizer clips and computes the norm itself: the
  // check must come before its update). Off: a NaN gradient is still caught, by
  // the next step's loss or the parameter check before a checkpoint.
  bool check_gradient_norm = true;
  bool handle_signals = true;       // SIGINT/SIGTERM -> checkpoint and return
  // Validation during training: after every `validate_every` completed steps (k > 0, the
  // update applied; not after the last, which a trainer validates itself), validate(k)
  // returns metrics written as a record {"step": k, "event": "validation", ...} of the
  // log. It must not change the training state (it runs inference), so a resumed run is
  // still bit-identical.
  int64_t validate_every = 0;
  std::function<std::vector<std::pair<std::string, double>>(int64_t completed)> validate;

  // Progress and notes (resumed from, checkpoint saved, broken checkpoints
  // skipped): a stream (nullptr: silent) showing a bar or plain lines (unset:
  // a bar when the stream is std::cerr and stderr is a terminal).
  std::ostream* progress_stream = &std::cerr;
  std::optional<bool> progress_terminal;
  double progress_every_seconds = 30.0;     // plain lines: at least this often
  // Clocks in seconds, injectable for tests: monotonic (rates, ETA) and wall
  // (the log's "time", seconds since the Unix epoch). Empty: the system's.
  std::function<double()> clock;
  std::function<double()> wall_clock;

  // The job's processes (distributed/communicator.h, train/data_parallel.h); null or a
  // world of one: this process alone. With W > 1 ranks, each step's gradients are
  // averaged over the ranks before the NaN guard and the update, every parameter is
  // broadcast from rank 0 at the start and the non-trainable ones (BatchNorm's running
  // statistics) after each step, and the loss terms and metrics are averaged, so the
  // NaN guard, the log and the progress line see the job's values. A SIGINT or SIGTERM
  // on any rank stops every rank after the same step (the stop request travels with the
  // loss terms). Rank 0 alone writes the checkpoints, the log, progress and notes, and
  // runs `validate`. The world size is part of the configuration ("data_parallel.
  // world_size" when W > 1): a checkpoint resumes only at the world size that wrote it,
  // and a mismatch is an error saying so.
  distributed::Communicator* communicator = nullptr;
};

struct TrainingOutcome {
  enum class Status { completed, interrupted, non_finite };
  Status status = Status::completed;
  int64_t iteration = 0;        // steps complete (and saved, unless non_finite)
  int64_t start_iteration = 0;  // where this run began (the resumed checkpoint's iteration)
  std::string last_checkpoint;  // newest checkpoint written or resumed from ("" if none)
  int signal = 0;               // interrupted: the signal number
  std::string message;          // one line for the user: what happened and what next
  // 0 completed, 128 + signal interrupted (the shell's convention), 1 non_finite.
  int exit_code() const;
};

// Runs (or resumes) the loop described above. Throws on bad options, on a
// checkpoint that cannot be loaded (named error, e.g. ConfigMismatchError), and
// on I/O errors; a non-finite step is not an exception but an outcome whose
// message names the step, the loss terms and the last good checkpoint.
TrainingOutcome run_training_loop(TrainingState& state, const LrSchedule& schedule,
                                  const TrainingLoopOptions& options, const StepFunction& step);

}  // namespace wise
