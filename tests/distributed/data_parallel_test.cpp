// Data parallelism's pieces in one process (distributed/, train/data_parallel.h, the
// training loop's job handling), against a stand-in communicator: a job of W ranks that
// all hold the same values ("mirror": a sum over ranks is W times one's own), which lets
// a single test process check the arithmetic around the collectives (the average of W
// equal gradients is the gradient, bit for bit; only the non-trainable range is
// broadcast), what rank 0 and the other ranks write, the world size in the checkpoints,
// and a stop request travelling from another rank. The real engine, across processes,
// is tests/distributed/mpi_job_test.cpp's.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "distributed/communicator.h"
#include "distributed/session.h"
#include "tests/train/tiny_trainer.h"
#include "train/checkpoint.h"
#include "train/data_parallel.h"
#include "train/training_loop.h"
#include "weights/safetensors_file.h"

namespace wise::testing {
namespace {

namespace fs = std::filesystem;

// W ranks holding what this one holds; rank() is whichever the test plays. Records the
// broadcasts, and can add a stop request "from another rank" at a chosen step.
class MirrorJob final : public distributed::Communicator {
 public:
  MirrorJob(int world, int rank) : world_(world), rank_(rank) {}
  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  std::string engine() const override { return "mirror"; }
  void all_reduce_sum(float* data, int64_t count, kernels::Device) override {
    for (int64_t i = 0; i < count; ++i) data[i] *= static_cast<float>(world_);
  }
  void all_reduce_sum(double* values, int64_t count) override {
    for (int64_t i = 0; i < count; ++i) values[i] *= world_;
    // The step's scalars end with the stop flag (train/training_loop.cpp).
    if (++scalar_reductions_ == stop_at_reduction) values[count - 1] += 1.0;
  }
  void broadcast(float* data, int64_t count, kernels::Device, int root) override {
    broadcasts.push_back({data, count, root});
  }
  void barrier() override {}

  struct Broadcast {
    const float* data;
    int64_t count;
    int root;
  };
  std::vector<Broadcast> broadcasts;
  int stop_at_reduction = 0;  // 1-based: the step whose scalars carry another rank's stop request

 private:
  int world_, rank_;
  int scalar_reductions_ = 0;
};

TrainingLoopOptions quiet_options(const std::string& dir, const TinyTrainer& trainer, int64_t total = 6) {
  TrainingLoopOptions options;
  options.total_iterations = total;
  options.checkpoint_every = 3;
  options.log_every = 1;
  options.out_dir = dir;
  options.config_json = trainer.config_json(total);
  options.progress_stream = nullptr;
  options.handle_signals = false;
  return options;
}

TEST(Communicator, OneProcessIsTheIdentity) {
  const auto job = distributed::single_process_communicator();
  EXPECT_EQ(job->rank(), 0);
  EXPECT_EQ(job->world_size(), 1);
  std::vector<float> values{1.5f, -2.0f};
  job->all_reduce_sum(values.data(), 2, kernels::Device::cpu);
  job->broadcast(values.data(), 2, kernels::Device::cpu, 0);
  EXPECT_EQ(values, (std::vector<float>{1.5f, -2.0f}));
}

TEST(Session, WithoutALauncherIsOneProcess) {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) ::unsetenv(name);
  EXPECT_EQ(distributed::launcher_world_size(), 0);
  int argc = 1;
  char name[] = "test";
  char* args[] = {name, nullptr};
  char** argv = args;
  distributed::Session session(&argc, &argv);
  EXPECT_EQ(session.world_size(), 1);
  EXPECT_EQ(session.communicator().engine(), "single process");
  ::setenv("OMPI_COMM_WORLD_SIZE", "3", 1);
  EXPECT_EQ(distributed::launcher_world_size(), 3);
  ::unsetenv("OMPI_COMM_WORLD_SIZE");
  ::setenv("PMIX_RANK", "0", 1);
  EXPECT_EQ(distributed::launcher_world_size(), 1);
  ::unsetenv("PMIX_RANK");
}

TEST(DataParallel, TheAverageOfEqualGradientsIsTheGradientBitForBit) {
  for (const int world : {2, 4}) {
    TinyTrainer trainer;
    trainer.step(0);  // fills the gradients
    const Tensor gradients = trainer.parameters.trainable_gradients();
    const std::vector<float> before = gradients.to_vector<float>();
    MirrorJob job(world, 0);
    average_gradients(trainer.parameters, job);
    EXPECT_EQ(gradients.to_vector<float>(), before) << "world " << world;
  }
}

TEST(DataParallel, BuffersAreTheNonTrainableRangeFromRankZero) {
  TinyTrainer trainer;
  MirrorJob job(2, 1);
  broadcast_buffers(trainer.parameters, job);
  const Tensor& values = trainer.parameters.all_values();
  ASSERT_EQ(job.broadcasts.size(), 1u);
  EXPECT_EQ(job.broadcasts[0].data, values.data<float>() + trainer.parameters.trainable_numel());
  EXPECT_EQ(job.broadcasts[0].count, values.numel() - trainer.parameters.trainable_numel());
  EXPECT_GT(job.broadcasts[0].count, 0);  // the tiny trainer's frozen "embed.scale"
  EXPECT_EQ(job.broadcasts[0].root, 0);

  broadcast_parameters(trainer.parameters, job);
  ASSERT_EQ(job.broadcasts.size(), 2u);
  EXPECT_EQ(job.broadcasts[1].data, values.data<float>());
  EXPECT_EQ(job.broadcasts[1].count, values.numel());
}

TEST(DataParallel, EachRankReadsItsShareOfTheGlobalBatch) {
  data::LoaderOptions loader;
  MirrorJob job(4, 3);
  shard_global_batch(loader, 16, &job);
  EXPECT_EQ(loader.batch_size, 4);
  EXPECT_EQ(loader.rank, 3);
  EXPECT_EQ(loader.world_size, 4);
  shard_global_batch(loader, 16, nullptr);
  EXPECT_EQ(loader.batch_size, 16);
  EXPECT_EQ(loader.world_size, 1);
  try {
    shard_global_batch(loader, 6, &job);
    FAIL() << "6 images into 4 shards";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("a global batch of 6 images does not split into 4"), std::string::npos)
        << error.what();
  }
}

TEST(DataParallelLoop, RankZeroOfIdenticalRanksTrainsAsOneProcessAndRecordsTheWorldSize) {
  ScratchDirectory scratch;
  const std::string alone_dir = scratch.file("alone"), job_dir = scratch.file("job");
  TinyTrainer alone;
  TrainingState alone_state = alone.state();
  ASSERT_EQ(run_training_loop(alone_state, alone.schedule, quiet_options(alone_dir, alone),
                              alone.step_function()).status,
            TrainingOutcome::Status::completed);

  TinyTrainer ranked;
  TrainingState ranked_state = ranked.state();
  MirrorJob job(2, 0);
  TrainingLoopOptions options = quiet_options(job_dir, ranked);
  options.communicator = &job;
  const TrainingOutcome outcome = run_training_loop(ranked_state, ranked.schedule, options, ranked.step_function());
  ASSERT_EQ(outcome.status, TrainingOutcome::Status::completed) << outcome.message;
  EXPECT_TRUE(state_bits(ranked) == state_bits(alone));
  // Every parameter at the start, then the buffers after each of the 6 steps.
  EXPECT_EQ(job.broadcasts.size(), 1u + 6u);

  auto config_of = [](const std::string& path) {
    return nlohmann::json::parse(read_safetensors_header(path).metadata.at("config"));
  };
  EXPECT_EQ(config_of(checkpoint_path(job_dir, 6))["data_parallel"]["world_size"], 2);
  EXPECT_FALSE(config_of(checkpoint_path(alone_dir, 6)).contains("data_parallel"));

  // Resumed by one process: an error that says the number of processes differs.
  TinyTrainer resumed;
  TrainingState resumed_state = resumed.state();
  TrainingLoopOptions resume = quiet_options(job_dir, resumed, 9);
  resume.config_json = ranked.config_json(6);
  resume.resume = true;
  try {
    run_training_loop(resumed_state, resumed.schedule, resume, resumed.step_function());
    FAIL() << "resumed a 2-process checkpoint in one process";
  } catch (const ConfigMismatchError& error) {
    EXPECT_EQ(error.field(), "data_parallel.world_size");
    EXPECT_NE(std::string(error.what()).find("a different number of processes than this one (1)"), std::string::npos)
        << error.what();
  }
}

TEST(DataParallelLoop, OnlyRankZeroWrites) {
  ScratchDirectory dir;
  TinyTrainer trainer;
  TrainingState state = trainer.state();
  MirrorJob job(2, 1);
  TrainingLoopOptions options = quiet_options(dir.path(), trainer);
  options.communicator = &job;
  const TrainingOutcome outcome = run_training_loop(state, trainer.schedule, options, trainer.step_function());
  ASSERT_EQ(outcome.status, TrainingOutcome::Status::completed) << outcome.message;
  EXPECT_TRUE(list_checkpoints(dir.path()).empty());
  EXPECT_FALSE(fs::exists(fs::path(dir.path()) / "log.jsonl"));
  EXPECT_EQ(outcome.last_checkpoint, checkpoint_path(dir.path(), 6));  // the one rank 0 wrote
}

TEST(DataParallelLoop, AStopRequestOnAnotherRankStopsThisOneAfterTheSameStep) {
  ScratchDirectory dir;
  TinyTrainer trainer;
  TrainingState state = trainer.state();
  MirrorJob job(2, 0);
  job.stop_at_reduction = 4;  // step 4's scalars carry it
  TrainingLoopOptions options = quiet_options(dir.path(), trainer);
  options.communicator = &job;
  const TrainingOutcome outcome = run_training_loop(state, trainer.schedule, options, trainer.step_function());
  EXPECT_EQ(outcome.status, TrainingOutcome::Status::interrupted);
  EXPECT_EQ(outcome.iteration, 4);
  EXPECT_EQ(outcome.last_checkpoint, checkpoint_path(dir.path(), 4));
  EXPECT_TRUE(fs::exists(checkpoint_path(dir.path(), 4)));
}

}  // namespace
}  // namespace wise::testing
