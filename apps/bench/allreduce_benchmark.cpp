// wise_bench_allreduce: the all-reduce of data-parallel training (distributed/), timed on
// the gradient sizes of wise's models, under the job's own engine.
//
//   mpirun -np 2 wise_bench_allreduce [--floats N,N,...] [--calls K]
//
// Each size: a warm-up call, a barrier, then K calls of Communicator::all_reduce_sum on N
// floats (every rank the same K: a collective cannot stop on a per-rank clock), timed on
// each rank and averaged over the ranks. Columns (nccl-tests' definitions):
//   algbw = bytes / time                         what one rank's buffer moved at
//   busbw = algbw x 2 (W - 1) / W                a ring all-reduce's per-link traffic, the
//                                                figure to compare with a link's bandwidth
// The sum is checked once per size (rank r contributes r + 1: every element must be
// W (W + 1) / 2): a benchmark of a wrong collective is worthless.
// Default sizes: the trainable floats of train_prm's and train_maskrcnn's default models
// and of torchvision's maskrcnn_resnet50_fpn (docs/scaling.md).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "apps/command_line.h"
#include "distributed/session.h"
#include "kernels/check.h"

namespace {

using namespace wise;

struct Options {
  std::vector<int64_t> floats = {702880, 1943456, 44178993};
  int64_t calls = 20;
};

void print_usage() {
  std::printf(
      "usage: mpirun -np W wise_bench_allreduce [--floats N,N,...] [--calls K]\n"
      "  --floats N,..  buffer sizes in floats (default 702880,1943456,44178993: the PRM's, the\n"
      "                 default Mask R-CNN's and torchvision's R50-FPN Mask R-CNN's gradients)\n"
      "  --calls K      timed calls per size, after one warm-up (default 20)\n"
      "prints, from rank 0, one row per size: MB, ms per call, algbw and busbw in GB/s\n");
}

Options parse(int argc, char** argv) {
  Options options;
  apps::CommandLine args(argc, argv);
  while (args.next()) {
    if (args.is("--help") || args.is("-h")) {
      print_usage();
      std::exit(0);
    } else if (args.is("--floats")) {
      options.floats.clear();
      std::stringstream list(args.value());
      for (std::string item; std::getline(list, item, ',');) {
        char* end = nullptr;
        const long long value = std::strtoll(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || value < 1)
          throw std::invalid_argument("--floats: expected positive integers separated by commas, found \"" + item + "\"");
        options.floats.push_back(value);
      }
    } else if (args.is("--calls")) {
      options.calls = args.integer(1);
    } else {
      args.unknown();
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse(argc, argv);
    distributed::Session session(&argc, &argv);
    distributed::Communicator& job = session.communicator();
    const int world = job.world_size();
    if (job.rank() == 0) {
      std::printf("# all-reduce (sum) of float32 buffers: %d process(es), %s, %lld calls per size\n", world,
                  job.engine().c_str(), static_cast<long long>(options.calls));
      std::printf("| floats | MB | ms per call | algbw GB/s | busbw GB/s |\n|---|---|---|---|---|\n");
    }
    for (const int64_t n : options.floats) {
      std::vector<float> buffer(static_cast<size_t>(n), static_cast<float>(job.rank() + 1));
      job.all_reduce_sum(buffer.data(), n, kernels::Device::cpu);  // warm-up, and the check
      const float expected = static_cast<float>(world * (world + 1) / 2);
      for (const float value : buffer) WISE_CHECK(value == expected, "all-reduce: got ", value, ", expected ", expected);
      job.barrier();
      const auto start = std::chrono::steady_clock::now();
      for (int64_t call = 0; call < options.calls; ++call) job.all_reduce_sum(buffer.data(), n, kernels::Device::cpu);
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
                       static_cast<double>(options.calls);
      job.all_reduce_sum(&seconds, 1);
      seconds /= world;
      const double bytes = 4.0 * static_cast<double>(n), algbw = bytes / seconds / 1e9;
      if (job.rank() == 0) {
        std::printf("| %lld | %.1f | %.3f | %.2f | %.2f |\n", static_cast<long long>(n), bytes / 1e6, seconds * 1e3,
                    algbw, algbw * 2.0 * (world - 1) / world);
      }
    }
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "wise_bench_allreduce: %s\n", error.what());
    return 1;
  }
}
