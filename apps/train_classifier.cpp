// train_classifier: a multi-label ResNet classifier trained on the image-level
// labels of a COCO-layout dataset (by default the shapes-v1 set), through the
// shared training loop: checkpoints, --resume, the NaN guard, progress and a
// JSONL log; validation on the val split at the end. What it does is
// train/classifier_training.h; this file only reads the command line.
//
//   train_classifier --data data/shapes-v1 --out runs/classifier [--resume] ...
//
// Exit status: 0 trained (and validated), 128 + signal when stopped by SIGINT or
// SIGTERM (a checkpoint was written: --resume continues), 1 on a non-finite step
// or an error, 2 on a bad command line.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "train/classifier_training.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

using namespace wise;

void print_usage(std::FILE* stream) {
  const ClassifierTrainingOptions defaults;
  std::fprintf(stream,
               "usage: train_classifier --data DIR --out DIR [options]\n"
               "  --data DIR            dataset: annotations/{train,val}.json, images/{train,val}/\n"
               "                        (make shapes-v1 with: make_shapes --config shapes-v1 --out DIR)\n"
               "  --out DIR             checkpoints and log.jsonl\n"
               "  --resume              continue from the newest checkpoint in --out\n"
               "model:\n"
               "  --depth N             ResNet depth 18, 34, 50 or 101 (default %d)\n"
               "  --width M             width multiplier (default %g; 1 = torchvision's widths)\n"
               "  --norm NAME           batch_norm, group_norm or frozen_batch_norm (default %s)\n"
               "  --weights FILE        ImageNet body weights (safetensors, torchvision keys)\n"
               "solver:\n"
               "  --iterations N        optimizer steps (default %lld)\n"
               "  --batch-size N        images per step (default %lld)\n"
               "  --lr X                base learning rate (default %g)\n"
               "  --momentum X          (default %g)\n"
               "  --weight-decay X      (default %g; none on norm weights and biases)\n"
               "  --warmup N            linear warm-up iterations (default %lld)\n"
               "  --milestones A,B,..   iterations where the lr drops x0.1 (default 2/3 and 8/9 of N)\n"
               "data:\n"
               "  --flip P              horizontal flip probability (default %g)\n"
               "  --jitter J            colour jitter strength (default %g)\n"
               "  --image-size S        resize to short side S (default: the native size)\n"
               "  --seed S              initialisation, epoch order, augmentation (default %llu)\n"
               "  --workers N           loader threads (default %d)\n"
               "run:\n"
               "  --threads N           OpenMP threads (default: OMP_NUM_THREADS or all cores)\n"
               "  --device cpu|cuda     (default cpu)\n"
               "  --checkpoint-every N  (default %lld; and at the end, and on SIGINT/SIGTERM)\n"
               "  --keep-last N         checkpoints kept (default %d; 0: all)\n"
               "  --log-every N         JSONL record every N steps (default %lld)\n"
               "  --val-batch-size N    (default %lld)\n"
               "  --no-val              skip the validation at the end\n",
               defaults.depth, defaults.width_multiplier, normalization_name(defaults.norm),
               static_cast<long long>(defaults.iterations), static_cast<long long>(defaults.batch_size),
               defaults.base_lr, defaults.momentum, defaults.weight_decay,
               static_cast<long long>(defaults.warmup_iters), static_cast<double>(defaults.flip_probability),
               static_cast<double>(defaults.jitter), static_cast<unsigned long long>(defaults.seed),
               defaults.num_workers, static_cast<long long>(defaults.checkpoint_every), defaults.keep_last,
               static_cast<long long>(defaults.log_every), static_cast<long long>(defaults.val_batch_size));
}

int64_t parse_integer(const std::string& flag, const std::string& text, int64_t minimum) {
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < minimum) {
    throw std::invalid_argument(flag + ": expected an integer >= " + std::to_string(minimum) + ", found \"" + text +
                                "\"");
  }
  return value;
}

double parse_real(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') throw std::invalid_argument(flag + ": expected a number, found \"" + text + "\"");
  return value;
}

Normalization parse_norm(const std::string& text) {
  for (Normalization norm : {Normalization::batch_norm, Normalization::group_norm, Normalization::frozen_batch_norm}) {
    if (text == normalization_name(norm)) return norm;
  }
  throw std::invalid_argument("--norm: expected batch_norm, group_norm or frozen_batch_norm, found \"" + text + "\"");
}

std::vector<int64_t> parse_milestones(const std::string& text) {
  std::vector<int64_t> milestones;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) milestones.push_back(parse_integer("--milestones", item, 0));
  return milestones;
}

struct CommandLine {
  ClassifierTrainingOptions options;
  int threads = 0;  // 0: OpenMP's default
};

CommandLine parse_command_line(int argc, char** argv) {
  CommandLine command_line;
  ClassifierTrainingOptions& options = command_line.options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(flag + ": missing value");
      return argv[++i];
    };
    if (flag == "--help" || flag == "-h") {
      print_usage(stdout);
      std::exit(0);
    } else if (flag == "--data") {
      options.data_dir = value();
    } else if (flag == "--out") {
      options.out_dir = value();
    } else if (flag == "--resume") {
      options.resume = true;
    } else if (flag == "--depth") {
      options.depth = static_cast<int>(parse_integer(flag, value(), 0));
    } else if (flag == "--width") {
      options.width_multiplier = parse_real(flag, value());
    } else if (flag == "--norm") {
      options.norm = parse_norm(value());
    } else if (flag == "--weights") {
      options.weights = value();
    } else if (flag == "--iterations") {
      options.iterations = parse_integer(flag, value(), 1);
    } else if (flag == "--batch-size") {
      options.batch_size = parse_integer(flag, value(), 1);
    } else if (flag == "--lr") {
      options.base_lr = parse_real(flag, value());
    } else if (flag == "--momentum") {
      options.momentum = parse_real(flag, value());
    } else if (flag == "--weight-decay") {
      options.weight_decay = parse_real(flag, value());
    } else if (flag == "--warmup") {
      options.warmup_iters = parse_integer(flag, value(), 0);
    } else if (flag == "--milestones") {
      options.milestones = parse_milestones(value());
    } else if (flag == "--flip") {
      options.flip_probability = static_cast<float>(parse_real(flag, value()));
    } else if (flag == "--jitter") {
      options.jitter = static_cast<float>(parse_real(flag, value()));
    } else if (flag == "--image-size") {
      options.image_size = parse_integer(flag, value(), 0);
    } else if (flag == "--seed") {
      options.seed = static_cast<uint64_t>(parse_integer(flag, value(), 0));
    } else if (flag == "--workers") {
      options.num_workers = static_cast<int>(parse_integer(flag, value(), 0));
    } else if (flag == "--threads") {
      command_line.threads = static_cast<int>(parse_integer(flag, value(), 1));
    } else if (flag == "--device") {
      const std::string device = value();
      if (device != "cpu" && device != "cuda") {
        throw std::invalid_argument("--device: expected cpu or cuda, found \"" + device + "\"");
      }
      options.device = device == "cpu" ? Device::cpu : Device::cuda;
    } else if (flag == "--checkpoint-every") {
      options.checkpoint_every = parse_integer(flag, value(), 0);
    } else if (flag == "--keep-last") {
      options.keep_last = static_cast<int>(parse_integer(flag, value(), 0));
    } else if (flag == "--log-every") {
      options.log_every = parse_integer(flag, value(), 1);
    } else if (flag == "--val-batch-size") {
      options.val_batch_size = parse_integer(flag, value(), 1);
    } else if (flag == "--no-val") {
      options.validate = false;
    } else {
      throw std::invalid_argument("unknown option \"" + flag + "\" (--help lists them)");
    }
  }
  if (options.data_dir.empty() || options.out_dir.empty()) {
    throw std::invalid_argument("--data and --out are required (--help lists the options)");
  }
  return command_line;
}

}  // namespace

int main(int argc, char** argv) {
  CommandLine command_line;
  try {
    command_line = parse_command_line(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "train_classifier: %s\n", error.what());
    return 2;
  }
  try {
    int threads = 1;
#ifdef _OPENMP
    if (command_line.threads > 0) omp_set_num_threads(command_line.threads);
    threads = omp_get_max_threads();
#endif
    const ClassifierTrainingOptions& options = command_line.options;
    std::printf("train_classifier: ResNet-%d x%g (%s), %lld iterations of %lld images, lr %g, %d threads\n",
                options.depth, options.width_multiplier, normalization_name(options.norm),
                static_cast<long long>(options.iterations), static_cast<long long>(options.batch_size),
                options.base_lr, threads);
    std::fflush(stdout);
    const ClassifierTrainingResult result = train_multilabel_classifier(options);
    if (result.outcome.status != TrainingOutcome::Status::completed) {
      std::fprintf(stderr, "train_classifier: %s\n", result.outcome.message.c_str());
      return result.outcome.exit_code();
    }
    std::printf("train_classifier: %s (%lld train images, %lld batches per epoch)\n",
                result.outcome.message.c_str(), static_cast<long long>(result.train_images),
                static_cast<long long>(result.batches_per_epoch));
    if (result.validated) {
      const ClassifierValidation& validation = result.validation;
      std::printf("\nvalidation (val split, %lld images, loss %.4f):\n%s", static_cast<long long>(validation.metrics.images),
                  validation.loss, format_multilabel_table(validation.metrics, validation.class_names).c_str());
    }
    std::printf("\noutputs: %s/ (checkpoint-*.safetensors, log.jsonl)\n", options.out_dir.c_str());
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "train_classifier: %s\n", error.what());
    return 1;
  }
}
