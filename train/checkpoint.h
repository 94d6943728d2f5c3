// Full training checkpoints: everything a run needs to continue bit-identically.
//
// One safetensors file per checkpoint, <dir>/checkpoint-<iteration, 8 digits>.safetensors,
// where <iteration> is the number of optimizer steps completed. It holds
//
//   tensors   "model.<name>"      every ParameterBuffer value, frozen ones too
//             "optimizer.<name>"  Optimizer::named_state() ("optimizer.sgd.step",
//                                 "optimizer.sgd.momentum_buffer"; Adam's
//                                 "optimizer.adam.exp_avg", ...)
//             "buffers.<name>"    TrainingState::buffers (e.g. BN running stats a
//                                 model keeps outside its parameters)
//   metadata  "format"            "wise.checkpoint.v1"
//             "iteration"         "120" (decimal; also in the file name)
//             "config"            the trainer's configuration JSON, verbatim
//             "generators"        {"<name>": {"seed": s, "offset": o}, ...} (JSON,
//                                 exact uint64s): the Philox states (nn/random.h)
//
// Metadata rather than tiny tensors for the scalars: they stay readable with
// any safetensors tool (`safetensors metadata`), and uint64 seeds need no dtype
// the loader lacks.
//
// Durability: write_safetensors_file writes a temporary file
// "<path>.tmp.<pid>", fsyncs it, renames it over the path and fsyncs the
// directory. Older checkpoints beyond keep_last are deleted only after that, so
// a crash at any moment leaves at least the previous checkpoint intact;
// find_latest_checkpoint ignores temporary files and skips (with a warning) a
// file whose header, size or metadata is broken.
//
// What is NOT checked: the data bytes themselves (no checksum). A header that
// parses and a file of exactly the size the header promises is taken as whole;
// with atomic writes only a failing disk or a hand edit produces anything else.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kernels/check.h"
#include "nn/parameter_buffer.h"
#include "nn/random.h"
#include "nn/optimizer.h"
#include "nn/state_dict.h"

namespace wise {

// Handles to the live state of a run: saving reads through them, loading writes
// through them (parameters and buffers in place, on their device).
struct TrainingState {
  ParameterBuffer& parameters;
  Optimizer& optimizer;  // SGD (nn/sgd.h) or Adam/AdamW (nn/adam.h)
  // Named random generators whose positions must survive a resume (data
  // augmentation, sampling): each is saved and restored by name.
  std::vector<std::pair<std::string, Generator*>> generators;
  NamedTensors buffers;  // other tensors to save and restore, as "buffers.<name>"
};

// Raised by load_checkpoint when the run's configuration differs from the
// checkpoint's in a field that is not allowed to differ.
class ConfigMismatchError : public Error {
 public:
  ConfigMismatchError(const std::string& message, std::string field)
      : Error(message), field_(std::move(field)) {}
  const std::string& field() const { return field_; }  // dotted path: "model.depth"

 private:
  std::string field_;
};

// "<dir>/checkpoint-00000120.safetensors".
std::string checkpoint_path(const std::string& dir, int64_t iteration);

// Writes the checkpoint of `iteration` atomically, then deletes the oldest
// checkpoints of `dir` so that keep_last remain (0: keep all). Only checkpoints
// of earlier iterations are ever deleted. Creates `dir` if needed. Returns the
// path written. `config_json` must be a JSON object (checked).
std::string save_checkpoint(const std::string& dir, int64_t iteration, const TrainingState& state,
                            const std::string& config_json, int keep_last = 0);

// Every file of `dir` named like a checkpoint (temporary files excluded), by
// increasing iteration; no validation. An absent dir has none.
std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& dir);

// The path of the newest checkpoint of `dir` whose header and metadata are
// intact; broken ones are skipped with a line on `warnings` naming the file and
// the problem. nullopt if there is none.
std::optional<std::string> find_latest_checkpoint(const std::string& dir, std::ostream& warnings);

// Deletes temporary files a killed writer left in `dir`
// ("checkpoint-*.safetensors.tmp.*"); returns how many. Call it when no other
// process writes checkpoints into `dir`.
int remove_temporary_checkpoint_files(const std::string& dir);

// What load_checkpoint read besides the tensors.
struct CheckpointInfo {
  std::string path;
  int64_t iteration = 0;
  std::string config_json;  // the checkpoint's configuration, verbatim
};

// Restores `state` from the checkpoint at `path`. Checks, before anything is
// written: the format, the iteration, the configuration (see below), the
// generators (exactly the names of state.generators), and every tensor's name,
// shape and dtype (the model's, the optimizer's and the buffers'; a missing or
// unexpected one is an error naming it). Then copies, so a failed load leaves
// `state` as it was.
//
// Configuration: both JSON objects are flattened to dotted fields
// ("model.depth", "solver.base_lr"; arrays are one field). Every field must be
// equal in both, present in both, unless it is covered by an entry of
// `may_differ` (a field, or an object prefix: "train" covers "train.out_dir").
// Otherwise a ConfigMismatchError names the field and both values.
CheckpointInfo load_checkpoint(const std::string& path, TrainingState& state, const std::string& config_json,
                               const std::vector<std::string>& may_differ = {});

// The metadata check load_checkpoint does, on its own (throws ConfigMismatchError).
void check_config_compatible(const std::string& checkpoint_config, const std::string& run_config,
                             const std::vector<std::string>& may_differ, const std::string& path);

}  // namespace wise
