// train/checkpoint.h: the round trip of every piece of state, the file's names and
// metadata, keep-last-N, find_latest_checkpoint's tolerance of temporary and
// broken files, and the named errors (config, shapes, generators).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include "nn/state_dict.h"
#include "tests/support/devices.h"
#include "tests/train/tiny_trainer.h"
#include "train/checkpoint.h"
#include "weights/safetensors_file.h"

namespace wise::testing {
namespace {

namespace fs = std::filesystem;

std::vector<int64_t> iterations_in(const std::string& dir) {
  std::vector<int64_t> iterations;
  for (const auto& entry : list_checkpoints(dir)) iterations.push_back(entry.first);
  return iterations;
}

TEST(CheckpointPath, ZeroPadsTheIteration) {
  EXPECT_EQ(checkpoint_path("runs/a", 120), "runs/a/checkpoint-00000120.safetensors");
  EXPECT_EQ(checkpoint_path("d", 0), "d/checkpoint-00000000.safetensors");
  EXPECT_EQ(checkpoint_path("d", 123456789), "d/checkpoint-123456789.safetensors");
  EXPECT_THROW(checkpoint_path("d", -1), Error);
}

TEST(Checkpoint, RoundTripRestoresEveryPieceOfState) {
  ScratchDirectory dir;
  TinyTrainer trained;
  train_by_hand(trained, 3);
  const StateBits saved = state_bits(trained);
  ASSERT_GT(saved.generator_offset, 0u);
  ASSERT_EQ(saved.optimizer_steps, 3);
  const std::string path = save_checkpoint(dir.path(), 3, trained.state(), trained.config_json());
  EXPECT_EQ(path, checkpoint_path(dir.path(), 3));

  // A fresh trainer from another initialisation, generator elsewhere.
  TinyTrainer fresh(16, /*init_seed=*/99);
  fresh.data_generator = Generator{123, 456};
  ASSERT_FALSE(state_bits(fresh) == saved);
  TrainingState state = fresh.state();
  const CheckpointInfo info = load_checkpoint(path, state, fresh.config_json());
  EXPECT_EQ(info.iteration, 3);
  EXPECT_EQ(info.path, path);
  EXPECT_EQ(info.config_json, trained.config_json());
  EXPECT_TRUE(state_bits(fresh) == saved);
}

// AdamW's moments (amsgrad's maximum too) and step count travel in the checkpoint
// like SGD's momentum: the resumed run continues bit for bit.
TEST(Checkpoint, AdamStateResumesBitIdentically) {
  ScratchDirectory dir;
  TinyTrainer trained(16, 1, Device::cpu, TinyTrainer::Solver::adamw);
  train_by_hand(trained, 3);
  const std::string path = save_checkpoint(dir.path(), 3, trained.state(), trained.config_json());
  const auto tensors = read_tensors(path);
  for (const char* name : {"optimizer.adam.exp_avg", "optimizer.adam.exp_avg_sq", "optimizer.adam.max_exp_avg_sq",
                           "optimizer.adam.step"}) {
    EXPECT_EQ(tensors.count(name), 1u) << name;
  }
  TinyTrainer resumed(16, /*init_seed=*/99, Device::cpu, TinyTrainer::Solver::adamw);
  TrainingState state = resumed.state();
  load_checkpoint(path, state, resumed.config_json());
  ASSERT_TRUE(state_bits(resumed) == state_bits(trained));
  // Adam's bias corrections depend on the restored step count: 3 more steps agree.
  train_by_hand(trained, 3);
  train_by_hand(resumed, 3);
  EXPECT_EQ(resumed.optimizer.steps(), 6);
  EXPECT_TRUE(state_bits(resumed) == state_bits(trained));
}

// The same on each device: tensors go to the file from device memory and come
// back into it (CUDA rows skip without a GPU).
class CheckpointOnDevice : public ::testing::TestWithParam<Device> {};

TEST_P(CheckpointOnDevice, RoundTripRestoresEveryPieceOfState) {
  WISE_SKIP_IF_UNAVAILABLE(GetParam());
  ScratchDirectory dir;
  TinyTrainer trained(16, 1, GetParam());
  train_by_hand(trained, 3);
  const std::string path = save_checkpoint(dir.path(), 3, trained.state(), trained.config_json());
  TinyTrainer fresh(16, /*init_seed=*/99, GetParam());
  TrainingState state = fresh.state();
  load_checkpoint(path, state, fresh.config_json());
  EXPECT_EQ(fresh.parameters.all_values().device(), GetParam());
  EXPECT_TRUE(state_bits(fresh) == state_bits(trained));
}

INSTANTIATE_TEST_SUITE_P(Devices, CheckpointOnDevice, ::testing::ValuesIn(all_devices()), device_test_name);

TEST(Checkpoint, FileHoldsModelOptimizerAndBuffersUnderPrefixesAndMetadata) {
  ScratchDirectory dir;
  TinyTrainer trainer;
  train_by_hand(trainer, 2);
  const std::string path = save_checkpoint(dir.path(), 2, trainer.state(), trainer.config_json());

  const auto tensors = read_tensors(path);
  std::set<std::string> names;
  for (const auto& entry : tensors) names.insert(entry.first);
  const std::set<std::string> expected = {"model.embed.scale",  // frozen, saved too
                                          "model.fc1.weight",          "model.fc1.bias",
                                          "model.fc2.weight",          "model.fc2.bias",
                                          "optimizer.sgd.momentum_buffer", "optimizer.sgd.step",
                                          "buffers.steps_seen"};
  EXPECT_EQ(names, expected);
  EXPECT_EQ(tensors.at("optimizer.sgd.step").to_vector<int64_t>(), std::vector<int64_t>{2});
  EXPECT_EQ(tensors.at("buffers.steps_seen").to_vector<float>(), std::vector<float>{2.0f});
  EXPECT_EQ(tensors.at("model.fc1.weight").to_vector<float>(),
            trainer.parameters.value("fc1.weight").to_vector<float>());

  const auto metadata = read_safetensors_header(path).metadata;
  EXPECT_EQ(metadata.at("format"), "wise.checkpoint.v1");
  EXPECT_EQ(metadata.at("iteration"), "2");
  EXPECT_EQ(metadata.at("config"), trainer.config_json());
  // Each step draws 8 x 6 uniforms from the data generator.
  EXPECT_EQ(metadata.at("generators"), "{\"data\":{\"offset\":96,\"seed\":7}}");
}

TEST(Checkpoint, KeepLastDeletesOnlyOlderCheckpoints) {
  ScratchDirectory dir;
  TinyTrainer trainer;
  for (int64_t iteration = 1; iteration <= 5; ++iteration) {
    save_checkpoint(dir.path(), iteration, trainer.state(), trainer.config_json(), /*keep_last=*/2);
  }
  EXPECT_EQ(iterations_in(dir.path()), (std::vector<int64_t>{4, 5}));
  // Writing an older iteration never deletes newer ones.
  save_checkpoint(dir.path(), 3, trainer.state(), trainer.config_json(), /*keep_last=*/1);
  EXPECT_EQ(iterations_in(dir.path()), (std::vector<int64_t>{3, 4, 5}));
  // keep_last = 0 keeps everything.
  save_checkpoint(dir.path(), 6, trainer.state(), trainer.config_json(), /*keep_last=*/0);
  EXPECT_EQ(iterations_in(dir.path()), (std::vector<int64_t>{3, 4, 5, 6}));
  EXPECT_THROW(save_checkpoint(dir.path(), 7, trainer.state(), trainer.config_json(), -1), Error);
}

TEST(Checkpoint, FindLatestIgnoresTemporaryAndBrokenFiles) {
  ScratchDirectory dir;
  TinyTrainer trainer;
  std::ostringstream warnings;
  EXPECT_FALSE(find_latest_checkpoint(dir.path(), warnings));
  EXPECT_FALSE(find_latest_checkpoint(dir.file("does-not-exist"), warnings));

  const std::string good = save_checkpoint(dir.path(), 2, trainer.state(), trainer.config_json());
  const std::string bytes = read_file(good);
  // A crash mid-write leaves only a temporary file: not even listed.
  write_file(dir.file("checkpoint-00000009.safetensors.tmp.4242"), bytes.substr(0, bytes.size() / 2));
  // A truncated file under a checkpoint's name (a failing disk, a bad copy).
  write_file(checkpoint_path(dir.path(), 4), bytes.substr(0, bytes.size() - 10));
  // A safetensors file that is not a wise checkpoint.
  write_tensors(checkpoint_path(dir.path(), 5), {{"x", Tensor::zeros({2})}});
  // A checkpoint renamed to another iteration.
  write_file(checkpoint_path(dir.path(), 6), bytes);
  // Files that only look similar.
  write_file(dir.file("checkpoint-7.safetensors.bak"), bytes);
  write_file(dir.file("checkpoint-x8.safetensors"), bytes);

  EXPECT_EQ(iterations_in(dir.path()), (std::vector<int64_t>{2, 4, 5, 6}));
  const auto latest = find_latest_checkpoint(dir.path(), warnings);
  ASSERT_TRUE(latest);
  EXPECT_EQ(*latest, good);
  const std::string text = warnings.str();
  EXPECT_NE(text.find("checkpoint-00000004.safetensors"), std::string::npos) << text;
  EXPECT_NE(text.find("checkpoint-00000005.safetensors: checkpoint metadata has no \"format\""), std::string::npos)
      << text;
  EXPECT_NE(text.find("the file name says iteration 6 but its metadata says 2"), std::string::npos) << text;
  EXPECT_EQ(text.find(".tmp."), std::string::npos) << text;

  EXPECT_EQ(remove_temporary_checkpoint_files(dir.path()), 1);
  EXPECT_FALSE(fs::exists(dir.file("checkpoint-00000009.safetensors.tmp.4242")));
  EXPECT_TRUE(fs::exists(dir.file("checkpoint-7.safetensors.bak")));
}

TEST(Checkpoint, ConfigMismatchNamesTheFieldAndBothValues) {
  ScratchDirectory dir;
  TinyTrainer trainer;
  const std::string path = save_checkpoint(dir.path(), 1, trainer.state(), trainer.config_json(10));
  TrainingState state = trainer.state();

  // The model's size differs: a named error.
  const std::string deeper = "{\"model\": {\"hidden\": 32}, \"solver\": {\"base_lr\": 0.2, \"momentum\": 0.9}, "
                             "\"train\": {\"total_iterations\": 10}}";
  try {
    load_checkpoint(path, state, deeper);
    FAIL() << "expected ConfigMismatchError";
  } catch (const ConfigMismatchError& error) {
    EXPECT_EQ(error.field(), "model.hidden");
    const std::string message = error.what();
    EXPECT_NE(message.find(path + ": configuration field \"model.hidden\" differs: the checkpoint has 16, "
                                  "this run has 32"),
              std::string::npos)
        << message;
  }
  // A field only one side has.
  try {
    load_checkpoint(path, state, "{\"model\": {\"hidden\": 16}, \"solver\": {\"base_lr\": 0.2}, "
                                 "\"train\": {\"total_iterations\": 10}}");
    FAIL() << "expected ConfigMismatchError";
  } catch (const ConfigMismatchError& error) {
    EXPECT_EQ(error.field(), "solver.momentum");
    EXPECT_NE(std::string(error.what()).find("this run has no such field"), std::string::npos) << error.what();
  }
  // Fields the trainer allows to change (a field or an object prefix) may differ.
  EXPECT_THROW(load_checkpoint(path, state, trainer.config_json(20)), ConfigMismatchError);
  EXPECT_EQ(load_checkpoint(path, state, trainer.config_json(20), {"train.total_iterations"}).iteration, 1);
  EXPECT_EQ(load_checkpoint(path, state, trainer.config_json(20), {"train"}).iteration, 1);
  // "train" must not cover "trainer.x".
  EXPECT_THROW(check_config_compatible("{\"trainer\": {\"x\": 1}}", "{\"trainer\": {\"x\": 2}}", {"train"}, "f"),
               ConfigMismatchError);
  // Arrays are one field; key order does not matter.
  EXPECT_NO_THROW(check_config_compatible("{\"a\": [1, 2], \"b\": 1}", "{\"b\": 1, \"a\": [1, 2]}", {}, "f"));
  EXPECT_THROW(check_config_compatible("{\"a\": [1, 2]}", "{\"a\": [2, 1]}", {}, "f"), ConfigMismatchError);
  // Not JSON objects at all.
  EXPECT_THROW(check_config_compatible("{}", "[1]", {}, "f"), Error);
  EXPECT_THROW(check_config_compatible("{}", "{oops", {}, "f"), Error);
  EXPECT_THROW(save_checkpoint(dir.path(), 2, trainer.state(), "not json"), Error);
}

TEST(Checkpoint, ShapeMismatchIsNamedAndLeavesTheStateUnchanged) {
  ScratchDirectory dir;
  TinyTrainer small(/*hidden=*/16);
  const std::string path = save_checkpoint(dir.path(), 1, small.state(), "{}");
  TinyTrainer wide(/*hidden=*/8, /*init_seed=*/5);
  const StateBits before = state_bits(wide);
  TrainingState state = wide.state();
  try {
    load_checkpoint(path, state, "{}");
    FAIL() << "expected a shape mismatch";
  } catch (const std::exception& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("\"model.fc1.weight\": shape mismatch: expected [8, 6], found [16, 6]"), std::string::npos)
        << message;
  }
  EXPECT_TRUE(state_bits(wide) == before);
}

TEST(Checkpoint, GeneratorsMustMatchByName) {
  ScratchDirectory dir;
  TinyTrainer trainer;
  const std::string path = save_checkpoint(dir.path(), 1, trainer.state(), "{}");
  Generator augmentation{1, 2};
  TrainingState extra = trainer.state();
  extra.generators.emplace_back("augmentation", &augmentation);
  try {
    load_checkpoint(path, extra, "{}");
    FAIL() << "expected a generator mismatch";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("the checkpoint saved the generators {data} but this run has "
                                             "{augmentation, data}"),
              std::string::npos)
        << error.what();
  }
  EXPECT_EQ(augmentation.seed, 1u);
  EXPECT_EQ(augmentation.offset, 2u);
}

TEST(Checkpoint, MissingOrUnexpectedTensorsAreNamed) {
  ScratchDirectory dir;
  TinyTrainer trainer;
  TrainingState with_buffer = trainer.state();
  const std::string path = save_checkpoint(dir.path(), 1, with_buffer, "{}");
  TrainingState without_buffer = trainer.state();
  without_buffer.buffers.clear();
  try {
    load_checkpoint(path, without_buffer, "{}");
    FAIL() << "expected an unexpected-tensor error";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("buffers.steps_seen"), std::string::npos) << error.what();
  }
  TrainingState more = trainer.state();
  more.buffers.emplace_back("running_mean", Tensor::zeros({3}));
  try {
    load_checkpoint(path, more, "{}");
    FAIL() << "expected a missing-tensor error";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("missing 1 tensor(s) the model needs: buffers.running_mean"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace wise::testing
