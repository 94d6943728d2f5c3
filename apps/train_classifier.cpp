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

#include "apps/command_line.h"
#include "apps/job.h"
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
               "  --output-stride S     C5's stride: 32, 16 or 8 (dilated layer4 / layer3+4; default %d)\n"
               "  --norm NAME           batch_norm, group_norm or frozen_batch_norm (default %s)\n"
               "  --weights FILE        ImageNet body weights (safetensors, torchvision keys)\n"
               "solver:\n"
               "  --iterations N        optimizer steps (default %lld)\n"
               "  --batch-size N        images per step (default %lld)\n"
               "  --optimizer NAME      sgd, adam or adamw (default sgd)\n"
               "  --lr X                base learning rate (default %g)\n"
               "  --momentum X          SGD's (default %g)\n"
               "  --weight-decay X      (default %g; none on norm weights and biases; adamw: decoupled)\n"
               "  --warmup N            linear warm-up, in steps (default %lld)\n"
               "  --milestones A,B,..   steps where the lr drops x0.1 (default 2/3 and 8/9 of N)\n"
               "data:\n"
               "  --flip P              horizontal flip probability (default %g)\n"
               "  --jitter J            colour jitter strength (default %g)\n"
               "  --image-size S        resize to a short side of S pixels (default: the native size)\n"
               "  --seed S              initialisation, epoch order, augmentation (default %llu)\n"
               "  --workers N           loader threads (default %d)\n"
               "run:\n"
               "  --threads N           OpenMP threads (default: OMP_NUM_THREADS or all cores)\n"
               "  --device cpu|cuda     (default cpu)\n"
               "  --checkpoint-every N  a checkpoint every N steps (default %lld; and at the end, on SIGINT/SIGTERM)\n"
               "  --keep-last N         checkpoints kept (default %d; 0: all)\n"
               "  --log-every N         JSONL record every N steps (default %lld)\n"
               "  --val-batch-size N    images per validation batch (default %lld)\n"
               "  --no-val              skip the validation at the end\n"
               "  --export-body FILE    after training, the ResNet body as safetensors with torchvision's\n"
               "                        names (what --weights loads)\n",
               defaults.depth, defaults.width_multiplier, defaults.output_stride, normalization_name(defaults.norm),
               static_cast<long long>(defaults.iterations), static_cast<long long>(defaults.batch_size),
               defaults.base_lr, defaults.momentum, defaults.weight_decay,
               static_cast<long long>(defaults.warmup_iters), static_cast<double>(defaults.flip_probability),
               static_cast<double>(defaults.jitter), static_cast<unsigned long long>(defaults.seed),
               defaults.num_workers, static_cast<long long>(defaults.checkpoint_every), defaults.keep_last,
               static_cast<long long>(defaults.log_every), static_cast<long long>(defaults.val_batch_size));
}

std::vector<int64_t> parse_milestones(const std::string& text) {
  std::vector<int64_t> milestones;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    char* end = nullptr;
    const long long value = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || value < 0)
      throw std::invalid_argument("--milestones: expected integers >= 0 separated by commas, found \"" + text + "\"");
    milestones.push_back(value);
  }
  return milestones;
}

struct Invocation {
  ClassifierTrainingOptions options;
  int threads = 0;  // 0: OpenMP's default
};

Invocation parse_command_line(int argc, char** argv) {
  Invocation invocation;
  ClassifierTrainingOptions& options = invocation.options;
  apps::CommandLine args(argc, argv);
  while (args.next()) {
    if (args.is("--help") || args.is("-h")) {
      print_usage(stdout);
      std::exit(0);
    } else if (args.is("--data")) {
      options.data_dir = args.value();
    } else if (args.is("--out")) {
      options.out_dir = args.value();
    } else if (args.is("--resume")) {
      options.resume = true;
    } else if (args.is("--depth")) {
      options.depth = static_cast<int>(args.integer(0));
    } else if (args.is("--width")) {
      options.width_multiplier = args.number();
    } else if (args.is("--output-stride")) {
      options.output_stride = static_cast<int>(args.integer(8));
    } else if (args.is("--norm")) {
      options.norm = parse_normalization(args.value());
    } else if (args.is("--weights")) {
      options.weights = args.value();
    } else if (args.is("--iterations")) {
      options.iterations = args.integer(1);
    } else if (args.is("--batch-size")) {
      options.batch_size = args.integer(1);
    } else if (args.is("--optimizer")) {
      options.optimizer = parse_optimizer_kind(args.value());
    } else if (args.is("--lr")) {
      options.base_lr = args.number();
    } else if (args.is("--momentum")) {
      options.momentum = args.number();
    } else if (args.is("--weight-decay")) {
      options.weight_decay = args.number();
    } else if (args.is("--warmup")) {
      options.warmup_iters = args.integer(0);
    } else if (args.is("--milestones")) {
      options.milestones = parse_milestones(args.value());
    } else if (args.is("--flip")) {
      options.flip_probability = static_cast<float>(args.number());
    } else if (args.is("--jitter")) {
      options.jitter = static_cast<float>(args.number());
    } else if (args.is("--image-size")) {
      options.image_size = args.integer(0);
    } else if (args.is("--seed")) {
      options.seed = static_cast<uint64_t>(args.integer(0));
    } else if (args.is("--workers")) {
      options.num_workers = static_cast<int>(args.integer(0));
    } else if (args.is("--threads")) {
      invocation.threads = static_cast<int>(args.integer(1));
    } else if (args.is("--device")) {
      options.device = apps::parse_device(args.value());
    } else if (args.is("--checkpoint-every")) {
      options.checkpoint_every = args.integer(0);
    } else if (args.is("--keep-last")) {
      options.keep_last = static_cast<int>(args.integer(0));
    } else if (args.is("--log-every")) {
      options.log_every = args.integer(1);
    } else if (args.is("--val-batch-size")) {
      options.val_batch_size = args.integer(1);
    } else if (args.is("--no-val")) {
      options.validate = false;
    } else if (args.is("--export-body")) {
      options.export_body = args.value();
    } else {
      args.unknown();
    }
  }
  if (options.data_dir.empty() || options.out_dir.empty()) {
    throw std::invalid_argument("--data and --out are required (--help lists the options)");
  }
  return invocation;
}

}  // namespace

int main(int argc, char** argv) {
  Invocation command_line;
  try {
    command_line = parse_command_line(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "train_classifier: %s\n", error.what());
    return 2;
  }
  try {
    // Under mpirun, one rank of a data-parallel job (rank 0 prints and writes).
    distributed::Session session(&argc, &argv);
    apps::speak_for_job(session);
    const bool lead = session.rank() == 0;
    int threads = 1;
#ifdef _OPENMP
    if (command_line.threads > 0) omp_set_num_threads(command_line.threads);
    threads = omp_get_max_threads();
#endif
    ClassifierTrainingOptions& options = command_line.options;
    options.communicator = &session.communicator();
    if (!lead) options.progress_stream = nullptr;
    std::printf("train_classifier: ResNet-%d x%g (%s), %lld iterations of %lld images, %s lr %g, %d threads%s\n",
                options.depth, options.width_multiplier, normalization_name(options.norm),
                static_cast<long long>(options.iterations), static_cast<long long>(options.batch_size),
                optimizer_name(options.optimizer), options.base_lr, threads, apps::job_text(session).c_str());
    std::fflush(stdout);
    const ClassifierTrainingResult result = train_multilabel_classifier(options);
    if (result.outcome.status != TrainingOutcome::Status::completed) {
      if (lead) std::fprintf(stderr, "train_classifier: %s\n", result.outcome.message.c_str());
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
