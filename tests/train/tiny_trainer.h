// A tiny trainer for the train/ tests: a two-layer perceptron on random data.
//
//   x (8, 6) ~ U(-1, 1) from the "data" generator (a fresh batch every step)
//   label    = argmax of x's first 4 features (learnable, so the loss falls)
//   logits   = fc2(relu(fc1(x)))          fc1: 6 -> hidden, fc2: hidden -> 4
//   loss_classifier = cross_entropy(logits, label)
//
// It has everything a checkpoint must carry: trainable and frozen parameters
// (a frozen "embed.scale" that the step never touches), SGD with momentum and
// weight decay (or AdamW, on request), a warm-up + multi-step schedule, a generator whose position
// advances every step, and a buffer outside the parameters (a step counter
// the step bumps, standing in for BN running statistics). Faults on request,
// at a chosen iteration: a NaN loss, a NaN gradient behind a finite loss, or an
// Inf parameter behind finite losses and gradients.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "nn/activation.h"
#include "nn/linear.h"
#include "nn/losses.h"
#include "nn/lr_schedule.h"
#include "nn/parameter_buffer.h"
#include "nn/random.h"
#include "nn/adam.h"
#include "nn/sgd.h"
#include "train/checkpoint.h"
#include "train/training_loop.h"

namespace wise::testing {

struct TinyTrainer {
  static constexpr int64_t kBatch = 8, kInputs = 6, kClasses = 4;

  enum class Solver { sgd, adamw };

  explicit TinyTrainer(int64_t hidden = 16, uint64_t init_seed = 1, Device device = Device::cpu,
                       Solver solver = Solver::sgd)
      : hidden_features(hidden), parameters(make_parameters(hidden, init_seed, device)),
        owned_optimizer(make_optimizer(solver, parameters)), optimizer(*owned_optimizer),
        schedule(schedule_options()), buffer(Tensor::zeros({1}, DType::float32, device)) {}

  TrainingState state() {
    return TrainingState{parameters, optimizer, {{"data", &data_generator}}, {{"steps_seen", buffer}}};
  }

  // The configuration a real trainer would save: the model's shape and the solver.
  std::string config_json(int64_t total_iterations = 10) const {
    return "{\"model\": {\"hidden\": " + std::to_string(hidden_features) +
           "}, \"solver\": {\"base_lr\": 0.2, \"momentum\": 0.9}, \"train\": {\"total_iterations\": " +
           std::to_string(total_iterations) + "}}";
  }

  // One forward and backward pass (the loop zeroes the gradients first).
  StepResult step(int64_t iteration) {
    const Device device = parameters.all_values().device();
    Tensor x = Tensor::empty({kBatch, kInputs}, DType::float32, device);
    uniform_(x, data_generator, -1.0f, 1.0f);
    const std::vector<float> host_x = x.to_vector<float>();
    std::vector<int64_t> labels(kBatch);
    for (int64_t n = 0; n < kBatch; ++n) {
      const float* row = host_x.data() + n * kInputs;
      labels[n] = std::max_element(row, row + kClasses) - row;
    }
    const Tensor targets = Tensor::from_vector<int64_t>({kBatch}, labels).to(device);

    Tensor hidden, activated, logits, loss;
    linear_forward(x, parameters.value("fc1.weight"), parameters.value("fc1.bias"), hidden);
    relu_forward(hidden, activated);
    linear_forward(activated, parameters.value("fc2.weight"), parameters.value("fc2.bias"), logits);
    softmax_cross_entropy_forward(logits, targets, {}, loss);

    const Tensor d_loss = Tensor::from_vector<float>({1}, {1.0f}).to(device);
    Tensor d_logits = Tensor::zeros(logits.shape(), DType::float32, device);
    softmax_cross_entropy_backward(d_loss, logits, targets, {}, d_logits);
    Tensor d_activated = Tensor::zeros(activated.shape(), DType::float32, device);
    Tensor d_hidden = Tensor::zeros(hidden.shape(), DType::float32, device);
    Tensor d_fc2_weight = gradient("fc2.weight"), d_fc2_bias = gradient("fc2.bias");
    Tensor d_fc1_weight = gradient("fc1.weight"), d_fc1_bias = gradient("fc1.bias");
    linear_backward(activated, parameters.value("fc2.weight"), d_logits, &d_activated, &d_fc2_weight, &d_fc2_bias);
    relu_backward(activated, d_activated, d_hidden);
    linear_backward(x, parameters.value("fc1.weight"), d_hidden, nullptr, &d_fc1_weight, &d_fc1_bias);

    buffer.copy_from(Tensor::from_vector<float>({1}, {buffer.to_vector<float>()[0] + 1.0f}).to(device));
    double loss_value = loss.to_vector<float>()[0];
    if (nan_loss_at == iteration) loss_value = std::numeric_limits<double>::quiet_NaN();
    if (nan_gradient_at == iteration) {
      Tensor d = gradient("fc2.bias");
      d.copy_from(Tensor::from_vector<float>({kClasses}, {0.0f, std::nanf(""), 0.0f, 0.0f}).to(device));
    }
    if (nan_parameter_at == iteration) {
      // A frozen parameter the forward never reads: losses and gradients stay finite.
      Tensor scale = parameters.value("embed.scale");
      scale.fill(std::numeric_limits<float>::infinity());
    }
    return StepResult{{{"loss_classifier", loss_value}}, {{"batch_size", double(kBatch)}}};
  }

  StepFunction step_function() {
    return [this](int64_t iteration) { return step(iteration); };
  }

  Tensor gradient(const std::string& name) const { return parameters.gradient(parameters.index_of(name)); }

  static ParameterBuffer make_parameters(int64_t hidden, uint64_t seed, Device device) {
    ParameterBuffer buffer;
    buffer.add("embed.scale", {kInputs}, /*trainable=*/false);
    buffer.add("fc1.weight", {hidden, kInputs});
    buffer.add("fc1.bias", {hidden});
    buffer.add("fc2.weight", {kClasses, hidden});
    buffer.add("fc2.bias", {kClasses});
    buffer.allocate(device);
    Generator init{seed, 0};
    for (int i = 0; i < buffer.size(); ++i) {
      Tensor value = buffer.value(i);
      uniform_(value, init, -0.5f, 0.5f);
    }
    return buffer;
  }
  static SgdOptions sgd_options() {
    SgdOptions options;
    options.momentum = 0.9;
    options.weight_decay = 1e-4;
    return options;
  }
  static std::unique_ptr<Optimizer> make_optimizer(Solver solver, const ParameterBuffer& parameters) {
    if (solver == Solver::sgd) return std::make_unique<Sgd>(parameters, sgd_options());
    AdamOptions options = adamw_options(1e-2);
    options.amsgrad = true;  // every Adam buffer in the checkpoint
    return std::make_unique<Adam>(parameters, options);
  }
  static LrScheduleOptions schedule_options() {
    LrScheduleOptions options;
    options.base_lr = 0.2;
    options.warmup_iters = 3;
    options.warmup_factor = 0.1;
    options.milestones = {6};
    return options;
  }

  int64_t hidden_features;
  ParameterBuffer parameters;
  std::unique_ptr<Optimizer> owned_optimizer;
  Optimizer& optimizer;
  LrSchedule schedule;
  Generator data_generator{/*seed=*/7, /*offset=*/0};
  Tensor buffer;
  std::optional<int64_t> nan_loss_at, nan_gradient_at, nan_parameter_at;
};

// The reference for the loop: `steps` steps written out by hand, as a trainer
// without train/ would. Returns each step's loss.
inline std::vector<double> train_by_hand(TinyTrainer& trainer, int64_t steps) {
  std::vector<double> losses;
  for (int64_t i = 0; i < steps; ++i) {
    trainer.parameters.zero_gradients();
    losses.push_back(trainer.step(i).losses[0].second);
    trainer.optimizer.step(trainer.schedule.lr_at(i));
  }
  return losses;
}

// Every bit of the state a resume must restore, for exact comparisons.
struct StateBits {
  std::vector<float> parameters, buffer;
  std::vector<float> optimizer_buffers;  // SGD's momentum, or Adam's moments, one after the other
  int64_t optimizer_steps = 0;
  uint64_t generator_seed = 0, generator_offset = 0;
  bool operator==(const StateBits& other) const {
    // Compared as bits: equal floats, NaNs included, and -0 distinct from +0.
    auto same = [](const std::vector<float>& a, const std::vector<float>& b) {
      return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](float x, float y) {
               return std::memcmp(&x, &y, sizeof x) == 0;
             });
    };
    return same(parameters, other.parameters) && same(buffer, other.buffer) && same(optimizer_buffers, other.optimizer_buffers) &&
           optimizer_steps == other.optimizer_steps && generator_seed == other.generator_seed &&
           generator_offset == other.generator_offset;
  }
};

inline StateBits state_bits(const TinyTrainer& trainer) {
  StateBits bits;
  bits.parameters = trainer.parameters.all_values().to_vector<float>();
  bits.buffer = trainer.buffer.to_vector<float>();
  for (const auto& [name, tensor] : trainer.optimizer.named_state()) {
    if (tensor.dtype() != DType::float32) continue;  // the step count, below
    const std::vector<float> values = tensor.to_vector<float>();
    bits.optimizer_buffers.insert(bits.optimizer_buffers.end(), values.begin(), values.end());
  }
  bits.optimizer_steps = trainer.optimizer.steps();
  bits.generator_seed = trainer.data_generator.seed;
  bits.generator_offset = trainer.data_generator.offset;
  return bits;
}

// A fresh directory for one test, named after it, removed afterwards.
class ScratchDirectory {
 public:
  ScratchDirectory() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    // Parametrised names hold '/' ("Devices/CheckpointOnDevice"): one directory level only.
    std::string name = "wise_train_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
                       std::to_string(::getpid());
    std::replace(name.begin(), name.end(), '/', '_');
    path_ = (std::filesystem::temp_directory_path() / name).string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDirectory() {
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return (std::filesystem::path(path_) / name).string(); }

 private:
  std::string path_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void write_file(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace wise::testing
