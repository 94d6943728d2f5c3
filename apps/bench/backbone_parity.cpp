// wise_backbone_parity: the full-size ResNet-FPN parity check against torchvision that
// developers run locally (scripts/parity_resnet50_fpn.py exports the files and runs this).
//
//   wise_backbone_parity DIR [--depth 50] [--out-channels 256] [--trainable-layers 3]
//                            [--tolerance 1e-4]
//
// DIR holds what the script wrote from torchvision's resnet_fpn_backbone:
//   weights.safetensors   the state dict under "backbone." (backbone.body.*, backbone.fpn.*)
//   io.safetensors        images, d_P0..d_P4 (inputs); P0..P4 (eval outputs), d_images and
//                         grad.<state-dict name> (training-mode gradients of
//                         sum_k <P_k, d_P_k>), as torch computed them
// The backbone (FrozenBatchNorm2d) loads the weights by name, runs the inference forward,
// then a training forward and backward, and prints one row per compared tensor:
// max |wise - torch|, max |torch|, their ratio (the relative error), pass or FAIL. Exit
// status 1 when any ratio exceeds the tolerance, 2 on bad usage or files.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "models/resnet_fpn.h"
#include "nn/state_dict.h"

namespace {

using namespace wise;

struct Options {
  std::string directory;
  ResNetFpnConfig config;
  double tolerance = 1e-4;
};

void print_usage(std::FILE* stream) {
  std::fprintf(stream,
               "usage: wise_backbone_parity DIR [--depth 50] [--out-channels 256] [--trainable-layers 3]\n"
               "                            [--tolerance 1e-4]\n"
               "  DIR                 what scripts/parity_resnet50_fpn.py exported (weights.safetensors,\n"
               "                      io.safetensors)\n"
               "  --depth N           the ResNet's depth (default 50)\n"
               "  --out-channels N    the FPN's channels (default 256)\n"
               "  --trainable-layers N  the script's --trainable-layers (default 3)\n"
               "  --tolerance X       the largest max|wise - torch| / max|torch| that passes (default 1e-4)\n"
               "exit status: 0 all pass, 1 a tensor fails, 2 bad usage or files\n");
}

Options parse(int argc, char** argv) {
  Options options;
  // d_images is one of the compared tensors, so the frozen stages must save their
  // activations (by default a training forward runs them on the inference path).
  options.config.body.image_gradient = true;
  for (int i = 1; i < argc; ++i) {
    const std::string argument = argv[i];
    auto value = [&]() -> std::string {
      WISE_CHECK(i + 1 < argc, "option ", argument, " needs a value");
      return argv[++i];
    };
    if (argument == "--help" || argument == "-h") {
      print_usage(stdout);
      std::exit(0);
    } else if (argument == "--depth") {
      options.config.body.depth = std::stoi(value());
    } else if (argument == "--out-channels") {
      options.config.out_channels = std::stoll(value());
    } else if (argument == "--trainable-layers") {
      options.config.body.trainable_layers = std::stoi(value());
    } else if (argument == "--tolerance") {
      options.tolerance = std::stod(value());
    } else if (!argument.empty() && argument[0] != '-' && options.directory.empty()) {
      options.directory = argument;
    } else {
      throw Error("unknown argument \"" + argument + "\" (--help lists them)");
    }
  }
  WISE_CHECK(!options.directory.empty(), "the directory the export script wrote is required");
  return options;
}

// One row of the report; returns whether it passed.
bool compare(const std::string& what, const Tensor& actual, const Tensor& expected, double tolerance) {
  WISE_CHECK(actual.shape() == expected.shape(), what, ": wise computed ", actual.describe(), ", torch ",
             expected.describe());
  const std::vector<float> ours = actual.to(Device::cpu).to_format(MemoryFormat::plain).to_vector<float>();
  const std::vector<float> theirs = expected.to_vector<float>();
  double worst = 0.0, scale = 0.0;
  for (size_t i = 0; i < ours.size(); ++i) {
    const double error = std::fabs(static_cast<double>(ours[i]) - theirs[i]);
    worst = std::isnan(error) ? INFINITY : std::max(worst, error);
    scale = std::max(scale, static_cast<double>(std::fabs(theirs[i])));
  }
  const double relative = scale > 0.0 ? worst / scale : worst;
  const bool passed = relative <= tolerance;
  std::printf("%-48s %12.4e %12.4e %12.4e  %s\n", what.c_str(), worst, scale, relative, passed ? "pass" : "FAIL");
  return passed;
}

const Tensor& stored(const std::map<std::string, Tensor>& file, const std::string& name) {
  const auto found = file.find(name);
  WISE_CHECK(found != file.end(), "io.safetensors has no tensor \"", name, "\"; re-run scripts/parity_resnet50_fpn.py");
  return found->second;
}

int run(const Options& options) {
  ParameterBuffer parameters;
  ResNetFpnBackbone backbone(options.config, parameters, "backbone.");
  parameters.allocate(Device::cpu);
  load_into(options.directory + "/weights.safetensors", parameters.named_values_to_write());
  const std::map<std::string, Tensor> io = read_tensors(options.directory + "/io.safetensors");
  const Tensor& images = stored(io, "images");

  std::printf("%-48s %12s %12s %12s\n", "tensor", "max|error|", "max|torch|", "relative");
  bool passed = true;
  const std::vector<Tensor>& inference = backbone.forward(images, /*training=*/false);
  for (int level = 0; level < ResNetFpnBackbone::kLevels; ++level) {
    passed &= compare(std::string("eval ") + ResNetFpnBackbone::output_name(level), inference[static_cast<size_t>(level)],
                      stored(io, "P" + std::to_string(level)), options.tolerance);
  }
  const std::vector<Tensor>& training = backbone.forward(images, /*training=*/true);
  std::vector<Tensor> d_outputs;
  for (int level = 0; level < ResNetFpnBackbone::kLevels; ++level) {
    passed &= compare(std::string("train ") + ResNetFpnBackbone::output_name(level),
                      training[static_cast<size_t>(level)], stored(io, "P" + std::to_string(level)),
                      options.tolerance);
    d_outputs.push_back(stored(io, "d_P" + std::to_string(level)));
  }
  Tensor d_images = Tensor::zeros(images.shape());
  backbone.backward(d_outputs, &d_images);
  passed &= compare("d_images", d_images, stored(io, "d_images"), options.tolerance);
  int gradients = 0;
  for (int p = 0; p < parameters.size(); ++p) {
    const auto found = io.find("grad." + parameters.name(p));
    if (found == io.end()) continue;
    ++gradients;
    WISE_CHECK(parameters.gradient(p).defined(), parameters.name(p), " has a torch gradient but is frozen here; ",
               "pass the script's --trainable-layers");
    passed &= compare("grad " + parameters.name(p), parameters.gradient(p), found->second, options.tolerance);
  }
  std::printf("%d weight gradients compared; %s at relative tolerance %g\n", gradients,
              passed ? "all passed" : "SOME FAILED", options.tolerance);
  return passed ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "wise_backbone_parity: %s\n", error.what());
    return 2;
  }
}
