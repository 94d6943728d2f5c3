// wise_bench_maskrcnn: one timing of torchvision's maskrcnn_resnet50_fpn configuration in
// a fresh process, with its per-stage split and peak memory.
//
//   wise_bench_maskrcnn --mode train|infer|baseline|sgemm --height H --width W
// prints "stages <backbone> <rpn> <box_head> <mask_head> <backward> <optimizer>" (seconds
// per call; train only) and then "<seconds per call> <calls> <peak RSS KiB>" on stdout.
// benchmarks/maskrcnn_vs_torchvision.py runs it beside the same case in torchvision.
//
//   train   one training iteration on one image: forward_training (the five losses of
//           WISE Eq. 2, 512 sampled RoIs, 2000 / 2000 RPN proposals), backward into the
//           gradients (zeroed first, as torch's zero_grad), one SGD step (momentum 0.9,
//           weight decay 1e-4)
//   infer   MaskRcnn::infer on one image (1000 / 1000 RPN proposals, up to 100 detections
//           with their 28 x 28 masks; pasting is the caller's, outside the network, in
//           both runtimes' timing: torchvision's postprocess pastes, so its side includes
//           it, and it is a few ms)
//   baseline, sgemm  the runtime's own peak memory; the machine's 1024^3 sgemm probe
// The network: ResNet-50-FPN (frozen BN, trainable_layers 3, 256 channels), 91 classes,
// torchvision's initialisation from a fixed Philox seed. The image: H x W of N(0, 1),
// padded to a multiple of 32 as torchvision's transform pads; four ground-truth boxes with
// rectangular masks at fixed fractions of the image. Threads: OMP_NUM_THREADS. Timing:
// apps/bench/timing.h (a warm-up call, then calls until 0.1 s, at least 2).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "apps/bench/process_case.h"
#include "apps/bench/timing.h"
#include "apps/command_line.h"
#include "models/mask_rcnn.h"
#include "nn/parameter_buffer.h"
#include "nn/random.h"
#include "nn/sgd.h"

namespace wise {
namespace {

struct Options {
  std::string mode = "train";
  int64_t height = 512, width = 512;
};

void print_usage(std::FILE* stream) {
  std::fprintf(stream,
               "usage: wise_bench_maskrcnn [--mode train|infer|baseline|sgemm] [--height H] [--width W]\n"
               "  --mode M     train: one training iteration (forward, backward, SGD step) on one image;\n"
               "               infer: one inference; baseline: the runtime's own peak memory; sgemm: the\n"
               "               machine's 1024^3 sgemm probe (default train)\n"
               "  --height H   the image's height in pixels, >= 32 (default 512)\n"
               "  --width W    the image's width in pixels, >= 32 (default 512)\n"
               "prints \"stages ...\" (seconds per call, train only), then \"<seconds per call> <calls>\n"
               "<peak RSS KiB>\"; threads: OMP_NUM_THREADS. benchmarks/maskrcnn_vs_torchvision.py drives it.\n");
}

Options parse(int argc, char** argv) {
  Options options;
  apps::CommandLine args(argc, argv);
  while (args.next()) {
    if (args.is("--help") || args.is("-h")) {
      print_usage(stdout);
      std::exit(0);
    } else if (args.is("--mode")) options.mode = args.value();
    else if (args.is("--height")) options.height = args.integer(32);
    else if (args.is("--width")) options.width = args.integer(32);
    else args.unknown();
  }
  if (options.mode != "train" && options.mode != "infer" && options.mode != "baseline" && options.mode != "sgemm")
    throw std::invalid_argument("--mode must be train, infer, baseline or sgemm, got " + options.mode);
  return options;
}

int64_t padded(int64_t size) { return (size + 31) / 32 * 32; }

// Four boxes at fixed fractions of the image (x1, y1, x2, y2), labels 1..4, rectangles.
DetectionTarget targets_of(int64_t height, int64_t width) {
  const float fractions[4][4] = {{0.05f, 0.1f, 0.4f, 0.5f}, {0.5f, 0.2f, 0.9f, 0.7f},
                                 {0.2f, 0.55f, 0.6f, 0.95f}, {0.65f, 0.6f, 0.8f, 0.8f}};
  std::vector<float> boxes;
  std::vector<uint8_t> masks(static_cast<size_t>(4 * height * width), 0);
  for (int g = 0; g < 4; ++g) {
    const float x1 = fractions[g][0] * width, y1 = fractions[g][1] * height;
    const float x2 = fractions[g][2] * width, y2 = fractions[g][3] * height;
    boxes.insert(boxes.end(), {x1, y1, x2, y2});
    for (int64_t y = static_cast<int64_t>(y1); y < static_cast<int64_t>(y2); ++y)
      for (int64_t x = static_cast<int64_t>(x1); x < static_cast<int64_t>(x2); ++x)
        masks[static_cast<size_t>((g * height + y) * width + x)] = 1;
  }
  return {Tensor::from_vector(Shape{4, 4}, boxes), Tensor::from_vector(Shape{4}, std::vector<int64_t>{1, 2, 3, 4}),
          Tensor::from_vector(Shape{4, height, width}, masks)};
}

}  // namespace
}  // namespace wise

int main(int argc, char** argv) {
  using namespace wise;
  try {
    const Options options = parse(argc, argv);
    if (options.mode == "baseline") {
      bench::report_case({});
      return 0;
    }
    Generator generator{20261207, 0};
    if (options.mode == "sgemm") {
      bench::report_case(bench::time_sgemm_probe(generator));
      return 0;
    }
    ParameterBuffer buffer;
    MaskRcnn model(mask_rcnn_config(ResNetFpnConfig{}, 91), buffer);
    buffer.allocate(Device::cpu);
    model.initialize(generator);

    // The image, zero-padded to a multiple of 32.
    const int64_t H = options.height, W = options.width, PH = padded(H), PW = padded(W);
    Tensor image = Tensor::empty({1, 3, H, W});
    normal_(image, generator, 0.0f, 1.0f);
    std::vector<float> pixels(static_cast<size_t>(3 * PH * PW), 0.0f);
    const std::vector<float> values = image.to_vector<float>();
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < H; ++y)
        for (int64_t x = 0; x < W; ++x)
          pixels[static_cast<size_t>((c * PH + y) * PW + x)] = values[static_cast<size_t>((c * H + y) * W + x)];
    const ImageBatch batch{Tensor::from_vector(Shape{1, 3, PH, PW}, pixels), {{H, W}}};

    StageTimes times;
    model.time_stages(&times);
    // Per call, the warm-up included (it is in `times` too).
    auto print_stages = [&](int64_t calls, double optimizer_seconds) {
      const double n = static_cast<double>(calls);
      std::printf("stages %.6f %.6f %.6f %.6f %.6f %.6f\n", times.backbone / n, times.rpn / n, times.box_head / n,
                  times.mask_head / n, times.backward / n, optimizer_seconds / n);
    };
    if (options.mode == "infer") {
      int64_t calls = 0, detections = 0;
      const bench::Timing timing = bench::time_calls([&] {
        detections = model.infer(batch)[0].scores.numel();
        ++calls;
      });
      std::printf("detections %lld\n", static_cast<long long>(detections));
      print_stages(calls, 0);
      bench::report_case(timing);
      return 0;
    }
    const std::vector<DetectionTarget> targets{targets_of(H, W)};
    SgdOptions sgd_options;
    sgd_options.momentum = 0.9;
    sgd_options.weight_decay = 1e-4;
    Sgd sgd(buffer, sgd_options);
    double optimizer_seconds = 0;
    int64_t steps = 0;
    Generator sampling{7, 0};
    const bench::Timing timing = bench::time_calls([&] {
      buffer.zero_gradients();
      model.forward_training(batch, targets, sampling);
      model.backward();
      const auto start = std::chrono::steady_clock::now();
      sgd.step(1e-3);
      optimizer_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      ++steps;
    });
    print_stages(steps, optimizer_seconds);
    bench::report_case(timing);
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "wise_bench_maskrcnn: %s\n", error.what());
    return 1;
  }
}
