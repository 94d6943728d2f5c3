// wise_bench_backbone: one timing of a backbone in a fresh process, with its peak memory.
//
//   wise_bench_backbone --network resnet50|resnet50_fpn|baseline --height H --width W
//                       --batch N --mode forward|train
// prints "<seconds per call> <calls> <peak RSS KiB>" on stdout. benchmarks/
// backbone_vs_torch.py runs it once per repeat beside the same case in torchvision, so
// each measurement's peak resident memory (VmHWM) is that case's alone.
//
//   resnet50      ResNet-50 (models/resnet.h), the inference path: frozen BN folded into
//                 the convolutions (torchvision's eval-mode BatchNorm2d computes the same).
//   resnet50_fpn  ResNet-50-FPN (models/resnet_fpn.h) with torchvision's
//                 resnet_fpn_backbone defaults (FrozenBatchNorm2d, trainable_layers 3,
//                 256 channels). forward: the inference path. train: the training
//                 forward, then backward of loss = sum of every P level's sum (dL/dP = 1)
//                 into the trainable parameters' gradients, zeroed before each step as
//                 torch's zero_grad() does; no image gradient.
//   baseline      nothing: the runtime's own peak memory.
//   sgemm         the machine's probe: one 1024^3 sgemm (kernels/gemm.h), timed as the
//                 rest; the driver prints it before and after each table (a drop means
//                 the run was disturbed).
// Threads: OMP_NUM_THREADS. Timing: apps/bench/timing.h (one warm-up call, then calls
// until 0.1 s have passed, at least 2). Weights: torchvision's initialisation from a
// fixed Philox seed (the time does not depend on the values).
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "apps/bench/process_case.h"
#include "apps/bench/timing.h"
#include "apps/command_line.h"
#include "models/resnet.h"
#include "models/resnet_fpn.h"
#include "nn/parameter_buffer.h"
#include "nn/random.h"

namespace wise {
namespace {

struct Options {
  std::string network = "resnet50";
  int64_t height = 224, width = 224, batch = 1;
  std::string mode = "forward";
};

void print_usage(std::FILE* stream) {
  std::fprintf(stream,
               "usage: wise_bench_backbone [--network resnet50|resnet50_fpn|baseline|sgemm] [--height H]\n"
               "                           [--width W] [--batch N] [--mode forward|train]\n"
               "  --network NAME  resnet50 (the inference path), resnet50_fpn (torchvision's\n"
               "                  resnet_fpn_backbone defaults), baseline (the runtime's own peak memory) or\n"
               "                  sgemm (the machine's 1024^3 sgemm probe) (default resnet50)\n"
               "  --height H      the input's height in pixels (default 224)\n"
               "  --width W       the input's width in pixels (default 224)\n"
               "  --batch N       images per call (default 1)\n"
               "  --mode M        forward, or train: the training forward and backward (default forward)\n"
               "prints \"<seconds per call> <calls> <peak RSS KiB>\"; threads: OMP_NUM_THREADS.\n"
               "benchmarks/backbone_vs_torch.py drives it.\n");
}

Options parse(int argc, char** argv) {
  Options options;
  apps::CommandLine args(argc, argv);
  while (args.next()) {
    if (args.is("--help") || args.is("-h")) {
      print_usage(stdout);
      std::exit(0);
    } else if (args.is("--network")) options.network = args.value();
    else if (args.is("--height")) options.height = args.integer(1);
    else if (args.is("--width")) options.width = args.integer(1);
    else if (args.is("--batch")) options.batch = args.integer(1);
    else if (args.is("--mode")) options.mode = args.value();
    else args.unknown();
  }
  if (options.mode != "forward" && options.mode != "train")
    throw std::invalid_argument("--mode must be forward or train, got " + options.mode);
  return options;
}

}  // namespace
}  // namespace wise

int main(int argc, char** argv) {
  using namespace wise;
  try {
    const Options options = parse(argc, argv);
    if (options.network == "baseline") {
      bench::report_case({});
      return 0;
    }
    Generator generator{20261125, 0};
    if (options.network == "sgemm") {
      bench::report_case(bench::time_sgemm_probe(generator));
      return 0;
    }
    Tensor images = Tensor::empty({options.batch, 3, options.height, options.width});
    normal_(images, generator, 0.0f, 1.0f);
    ParameterBuffer buffer;

    if (options.network == "resnet50") {
      if (options.mode != "forward") throw std::invalid_argument("resnet50 is timed in forward mode only");
      ResNet model(ResNetConfig{}, buffer);
      buffer.allocate(Device::cpu);
      model.initialize(generator);
      bench::report_case(bench::time_calls([&] { model.forward(images, /*training=*/false); }));
      return 0;
    }
    if (options.network != "resnet50_fpn")
      throw std::invalid_argument("--network must be resnet50, resnet50_fpn, baseline or sgemm, got " + options.network);

    ResNetFpnBackbone backbone(ResNetFpnConfig{}, buffer);
    buffer.allocate(Device::cpu);
    backbone.initialize(generator);
    if (options.mode == "forward") {
      bench::report_case(bench::time_calls([&] { backbone.forward(images, /*training=*/false); }));
      return 0;
    }
    // dL/dP = 1 at every level, made once at the outputs' shapes and in their layout,
    // as the heads' backward passes will produce it.
    std::vector<Tensor> d_outputs;
    for (const Tensor& level : backbone.forward(images, /*training=*/true)) {
      Tensor ones = Tensor::empty(level.shape(), DType::float32, level.device(), level.format());
      ones.fill(1.0f);
      d_outputs.push_back(ones);
    }
    bench::report_case(bench::time_calls([&] {
      buffer.zero_gradients();
      backbone.forward(images, /*training=*/true);
      backbone.backward(d_outputs, nullptr);
    }));
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "wise_bench_backbone: %s\n", error.what());
    return 1;
  }
}
