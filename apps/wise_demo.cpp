// wise_demo: a tour of the runtime, the README's main job until the pipeline lands.
//
// Follows one tiny training problem through every layer of the runtime:
//   1. which backends this build and machine have;
//   2. a model's parameters as named views into one buffer (nn/parameter_buffer.h),
//      initialised from the counter-based Philox generator (nn/random.h);
//   3. a few gradient-descent steps written with the elementwise and reduction
//      kernels, showing that after the first step no memory is allocated;
//   4. a checkpoint written atomically as safetensors and loaded back (weights/);
//   5. the memory bandwidth of one kernel at 1 and all threads.
//
// The problem: fit w so that relu(w * x) matches a target t (elementwise),
// loss = mean((relu(w * x) - t)^2) / 2.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "kernels/cpu/parallel_for.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"
#include "nn/allocator.h"
#include "nn/parameter_buffer.h"
#include "nn/random.h"
#include "nn/state_dict.h"

namespace {

using namespace wise;
namespace k = wise::kernels;

// One step: forward, loss, backward, SGD update. Returns the loss.
float training_step(ParameterBuffer& parameters, const Tensor& x, const Tensor& target,
                    float learning_rate) {
  const Device device = x.device();
  const int64_t n = x.numel();
  Tensor w = parameters.value("w");
  Tensor d_w = parameters.gradient(parameters.index_of("w"));

  Tensor pre = Tensor::empty({n}, DType::float32, device);    // w * x
  Tensor y = Tensor::empty({n}, DType::float32, device);      // relu(w * x)
  Tensor error = Tensor::empty({n}, DType::float32, device);  // y - t
  k::multiply(device, w.data<float>(), x.data<float>(), pre.data<float>(), n);
  k::relu_forward(device, pre.data<float>(), y.data<float>(), n);
  error.copy_from(y);
  k::axpy(device, -1.0f, target.data<float>(), error.data<float>(), n);

  // loss = mean(error^2) / 2
  Tensor squared = Tensor::empty({n}, DType::float32, device);
  k::multiply(device, error.data<float>(), error.data<float>(), squared.data<float>(), n);
  Tensor workspace = Tensor::empty({2 * k::reduce_workspace_size(n)}, DType::float32, device);
  Tensor loss = Tensor::empty({1}, DType::float32, device);
  k::mean(device, squared.data<float>(), n, static_cast<double*>(workspace.raw_data()), loss.data<float>());

  // d_loss/d_y = error / n; through relu; d_w += d_pre * x.
  parameters.zero_gradients();
  Tensor d_y = error;  // reuse the buffer: scaled in place
  k::scale(device, 1.0f / static_cast<float>(n), d_y.data<float>(), n);
  Tensor d_pre = Tensor::zeros({n}, DType::float32, device);
  k::relu_backward(device, y.data<float>(), d_y.data<float>(), d_pre.data<float>(), n);
  k::multiply_accumulate(device, d_pre.data<float>(), x.data<float>(), d_w.data<float>(), n);

  // SGD over the whole trainable range at once: one call, one buffer.
  Tensor values = parameters.trainable_values();
  k::axpy(device, -learning_rate, parameters.trainable_gradients().data<float>(), values.data<float>(),
          parameters.trainable_numel());
  return 0.5f * loss.to_vector<float>()[0];
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) {
    const std::string option = argv[1];
    if (option == "--help" || option == "-h") {
      std::printf(
          "usage: wise_demo\n"
          "  no options: a tour of the runtime -- its backends, one parameter buffer, a few training\n"
          "  steps on the elementwise kernels, an atomic checkpoint round trip, and one kernel's\n"
          "  memory bandwidth at 1 and all threads (OMP_NUM_THREADS); runs on CUDA when present\n");
      return 0;
    }
    std::fprintf(stderr, "wise_demo: unknown option \"%s\" (--help lists them)\n", option.c_str());
    return 2;
  }
  try {
    std::printf("wise runtime demo\n  backends: %s\n", k::describe_backends().c_str());
    const Device device = k::device_available(Device::cuda) ? Device::cuda : Device::cpu;
    std::printf("  running on: %s\n\n", k::device_name(device));

    // 2. Parameters: one buffer, named views, Philox initialisation.
    const int64_t n = 1 << 20;
    ParameterBuffer parameters;
    parameters.add("w", {n});
    parameters.allocate(device);
    Generator generator{/*seed=*/2024, /*offset=*/0};
    Tensor w = parameters.value("w");
    uniform_(w, generator, 0.5f, 1.5f);
    Tensor x = Tensor::empty({n}, DType::float32, device);
    uniform_(x, generator, -1.0f, 1.0f);
    // Target: relu(2 x), so the best w is 2 wherever x > 0.
    Tensor two = Tensor::empty({n}, DType::float32, device);
    two.fill(2.0f);
    Tensor target = Tensor::empty({n}, DType::float32, device);
    k::multiply(device, two.data<float>(), x.data<float>(), target.data<float>(), n);
    k::relu_forward(device, target.data<float>(), target.data<float>(), n);
    std::printf("parameters: %d tensor(s), %lld trainable floats in one buffer\n", parameters.size(),
                static_cast<long long>(parameters.trainable_numel()));

    // 3. Training steps; allocations come from the cache after step 1.
    CachingAllocator& allocator = allocator_for(device);
    int64_t raw_after_first = 0;
    for (int step = 1; step <= 20; ++step) {
      // The loss is a mean over n elements: a learning rate of n gives each
      // element a step of x^2 <= 1, which converges.
      const float loss = training_step(parameters, x, target, /*learning_rate=*/float(n));
      if (step == 1) raw_after_first = allocator.stats().raw_allocations;
      if (step == 1 || step % 5 == 0) {
        std::printf("  step %2d  loss %.6f  device allocations so far %lld\n", step, loss,
                    static_cast<long long>(allocator.stats().raw_allocations));
      }
    }
    std::printf("allocations after step 1: %lld (the caching allocator reuses every buffer)\n\n",
                static_cast<long long>(allocator.stats().raw_allocations - raw_after_first));

    // 4. Checkpoint round trip.
    const std::string path = (std::filesystem::temp_directory_path() / "wise_demo.safetensors").string();
    write_tensors(path, parameters.named_values(), {{"step", "20"}});
    ParameterBuffer restored;
    restored.add("w", {n});
    restored.allocate(device);
    const LoadReport report = load_into(path, restored.named_values_to_write());
    const bool same = restored.all_values().to_vector<float>() == parameters.all_values().to_vector<float>();
    std::printf("checkpoint: wrote %s, loaded %zu tensor(s) back: %s\n\n", path.c_str(),
                report.loaded.size(), same ? "identical" : "DIFFERENT");
    std::filesystem::remove(path);
    if (!same) return 1;

    // 5. Bandwidth of axpy (reads 2, writes 1 float per element).
    if (device == Device::cpu) {
      const int64_t big = 1 << 24;
      Tensor a = Tensor::zeros({big}), b = Tensor::zeros({big});
      const int saved = k::cpu::num_threads();
      for (int threads : {1, saved}) {
        k::cpu::set_num_threads(threads);
        k::axpy(Device::cpu, 0.5f, a.data<float>(), b.data<float>(), big);  // warm-up
        const auto start = std::chrono::steady_clock::now();
        const int repeats = 10;
        for (int r = 0; r < repeats; ++r) k::axpy(Device::cpu, 0.5f, a.data<float>(), b.data<float>(), big);
        const double seconds = seconds_since(start) / repeats;
        std::printf("axpy of %lld floats on %d thread(s): %.2f ms, %.1f GB/s\n",
                    static_cast<long long>(big), threads, seconds * 1e3, 12.0 * big / seconds / 1e9);
        if (threads == saved) break;
      }
      k::cpu::set_num_threads(saved);
    }
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "wise_demo: %s\n", error.what());
    return 1;
  }
}
