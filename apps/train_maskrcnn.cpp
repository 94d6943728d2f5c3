// train_maskrcnn: WISE's second stage, Mask R-CNN (models/mask_rcnn.h) trained on the
// masks of a COCO-layout dataset (ground truth, or the PRM stage's pseudo masks through
// --train-annotations) through the shared training loop (checkpoints, --resume, the NaN
// guard, progress, a JSONL log); validation mask mAP on the val split every --val-every
// steps and at the end. What it does is train/mask_rcnn_training.h; this file only reads
// the command line.
//
//   train_maskrcnn --data data/shapes-v2 --out runs/maskrcnn --weights body.safetensors
//   train_maskrcnn --data data/shapes-v2 --train-annotations runs/prm/pseudo_masks-sample.json ...
//
// Exit status: 0 trained (and validated), 128 + signal when stopped by SIGINT or
// SIGTERM (a checkpoint was written: --resume continues), 1 on a non-finite step or an
// error, 2 on a bad command line.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "apps/command_line.h"
#include "apps/job.h"
#include "train/mask_rcnn_training.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

using namespace wise;

std::string joined(const std::vector<float>& values) {
  std::ostringstream text;
  for (size_t i = 0; i < values.size(); ++i) text << (i ? "," : "") << values[i];
  return text.str();
}

std::vector<float> parse_sizes(const std::string& text) {
  std::vector<float> sizes;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    std::size_t used = 0;
    float value = 0;
    try {
      value = std::stof(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || !(value > 0)) {
      throw std::invalid_argument("--anchor-sizes: '" + text + "' must be 5 positive numbers separated by commas");
    }
    sizes.push_back(value);
  }
  return sizes;
}

void print_usage(std::FILE* stream) {
  const MaskRcnnTrainingOptions d;
  std::fprintf(stream,
               "usage: train_maskrcnn --data DIR --out DIR [options]\n"
               "  --data DIR            dataset: annotations/{train,val}.json, images/{train,val}/\n"
               "  --train-annotations F train on this COCO file's masks instead of annotations/train.json\n"
               "                        (train_prm's pseudo_masks-*.json: WISE)\n"
               "  --out DIR             checkpoints, log.jsonl, detections-val.json\n"
               "  --resume              continue from the newest checkpoint in --out\n"
               "model (defaults: small and fast for the shapes sets; torchvision's R50-FPN in brackets):\n"
               "  --depth N             ResNet depth 18, 34, 50 or 101 (default %d) [50]\n"
               "  --width M             width multiplier (default %g) [1]\n"
               "  --norm NAME           frozen_batch_norm, batch_norm or group_norm (default %s)\n"
               "  --trainable-layers N  ResNet stages that train, 0..5 (default %d) [3]\n"
               "  --fpn-channels N      FPN feature channels (default %lld) [256]\n"
               "  --weights FILE        the body's weights (safetensors, torchvision ResNet names: ImageNet,\n"
               "                        weights/shapes_v2_resnet18_w025_os8.safetensors, a classifier's)\n"
               "  --anchor-sizes A,..   anchor sides in pixels, one per level P2..P6 (default %s) [32,64,128,256,512]\n"
               "  --representation N    box head width, features (default %lld) [1024]\n"
               "  --mask-layers N       mask head convs (default %lld) [4]\n"
               "  --rpn-batch N         RPN anchors sampled per image (default %lld) [256]\n"
               "  --rpn-top-n PRE,POST  RPN proposals in training: per level before NMS, per image after\n"
               "                        (default %lld,%lld) [2000,2000]\n"
               "  --rpn-test-top-n PRE,POST  the same at inference (default %lld,%lld) [1000,1000]\n"
               "  --box-batch N         RoIs sampled per image (default %lld) [512]\n"
               "  --torchvision         torchvision's maskrcnn_resnet50_fpn: all the bracketed values, 800/1333\n"
               "solver (SGD):\n"
               "  --iterations N        optimizer steps (default %lld)\n"
               "  --batch-size N        images per step (default %lld)\n"
               "  --lr X                base learning rate (default %g)\n"
               "  --momentum X          SGD's (default %g)\n"
               "  --weight-decay X      (default %g; none on norm weights and biases)\n"
               "  --bias-lr X           biases' rate as a multiple of --lr (default %g)\n"
               "  --warmup N            linear warm-up from 1/3 of the rate, in steps (default %lld)\n"
               "  --milestones A,B      the lr drops x0.1 at these steps (default: 2/3 and 8/9 of the run)\n"
               "  --paper               WISE's schedule: lr 0.00125 x batch size, bias lr x2, 500 warm-up\n"
               "                        (give it after --batch-size)\n"
               "data:\n"
               "  --flip P              horizontal flip probability (default %g)\n"
               "  --jitter J            colour jitter strength (default %g)\n"
               "  --image-size S        resize to a short side of S pixels, long side <= --max-size (default: native)\n"
               "  --max-size L          the long side's limit in pixels, with --image-size (default %lld)\n"
               "  --seed S              initialisation, epoch order, augmentation, samples (default %llu)\n"
               "  --workers N           loader threads (default %d)\n"
               "run:\n"
               "  --threads N           OpenMP threads (default: OMP_NUM_THREADS or all cores)\n"
               "  --device cpu|cuda     (default cpu)\n"
               "  --checkpoint-every N  a checkpoint every N steps (default %lld; and at the end, on SIGINT/SIGTERM)\n"
               "  --log-every N         JSONL record every N steps (default %lld)\n"
               "  --val-every N         val mask mAP of the first --val-limit images into the log every N steps\n"
               "  --val-limit N         images in each --val-every validation (default %lld)\n"
               "  --no-val              skip the validation at the end\n",
               d.depth, d.width_multiplier, normalization_name(d.norm), d.trainable_layers,
               static_cast<long long>(d.fpn_channels), joined(d.anchor_sizes).c_str(),
               static_cast<long long>(d.representation_size), static_cast<long long>(d.mask_layers),
               static_cast<long long>(d.rpn_batch_size_per_image), static_cast<long long>(d.rpn_pre_nms_top_n_train),
               static_cast<long long>(d.rpn_post_nms_top_n_train), static_cast<long long>(d.rpn_pre_nms_top_n_test),
               static_cast<long long>(d.rpn_post_nms_top_n_test), static_cast<long long>(d.box_batch_size_per_image),
               static_cast<long long>(d.iterations), static_cast<long long>(d.batch_size), d.base_lr, d.momentum,
               d.weight_decay, d.bias_lr_multiplier, static_cast<long long>(d.warmup_iters),
               static_cast<double>(d.flip_probability), static_cast<double>(d.jitter),
               static_cast<long long>(d.max_image_size), static_cast<unsigned long long>(d.seed), d.num_workers,
               static_cast<long long>(d.checkpoint_every), static_cast<long long>(d.log_every),
               static_cast<long long>(d.val_limit));
}

// torchvision's maskrcnn_resnet50_fpn defaults.
void apply_torchvision_model(MaskRcnnTrainingOptions& options) {
  options.depth = 50;
  options.width_multiplier = 1.0;
  options.norm = Normalization::frozen_batch_norm;
  options.trainable_layers = 3;
  options.fpn_channels = 256;
  options.anchor_sizes = {32, 64, 128, 256, 512};
  options.representation_size = 1024;
  options.mask_layers = 4;
  options.rpn_batch_size_per_image = 256;
  options.rpn_pre_nms_top_n_train = options.rpn_post_nms_top_n_train = 2000;
  options.rpn_pre_nms_top_n_test = options.rpn_post_nms_top_n_test = 1000;
  options.box_batch_size_per_image = 512;
  options.image_size = 800;
  options.max_image_size = 1333;
}

std::pair<int64_t, int64_t> parse_pair(const std::string& flag, const std::string& text) {
  const std::size_t comma = text.find(',');
  try {
    if (comma != std::string::npos) {
      std::size_t a = 0, b = 0;
      const long long first = std::stoll(text.substr(0, comma), &a);
      const long long second = std::stoll(text.substr(comma + 1), &b);
      if (a == comma && b == text.size() - comma - 1 && first > 0 && second > 0) return {first, second};
    }
  } catch (const std::exception&) {
  }
  throw std::invalid_argument(flag + ": '" + text + "' must be two positive integers PRE,POST");
}

struct Invocation {
  MaskRcnnTrainingOptions options;
  int threads = 0;
};

Invocation parse_command_line(int argc, char** argv) {
  Invocation invocation;
  MaskRcnnTrainingOptions& options = invocation.options;
  apps::CommandLine args(argc, argv);
  while (args.next()) {
    if (args.is("--help") || args.is("-h")) {
      print_usage(stdout);
      std::exit(0);
    } else if (args.is("--data")) {
      options.data_dir = args.value();
    } else if (args.is("--train-annotations")) {
      options.train_annotations = args.value();
    } else if (args.is("--out")) {
      options.out_dir = args.value();
    } else if (args.is("--resume")) {
      options.resume = true;
    } else if (args.is("--depth")) {
      options.depth = static_cast<int>(args.integer(0));
    } else if (args.is("--width")) {
      options.width_multiplier = args.number();
    } else if (args.is("--norm")) {
      options.norm = parse_normalization(args.value());
    } else if (args.is("--trainable-layers")) {
      options.trainable_layers = static_cast<int>(args.integer(0));
    } else if (args.is("--fpn-channels")) {
      options.fpn_channels = args.integer(1);
    } else if (args.is("--weights")) {
      options.weights = args.value();
    } else if (args.is("--anchor-sizes")) {
      options.anchor_sizes = parse_sizes(args.value());
    } else if (args.is("--representation")) {
      options.representation_size = args.integer(1);
    } else if (args.is("--mask-layers")) {
      options.mask_layers = args.integer(1);
    } else if (args.is("--rpn-batch")) {
      options.rpn_batch_size_per_image = args.integer(1);
    } else if (args.is("--rpn-top-n")) {
      std::tie(options.rpn_pre_nms_top_n_train, options.rpn_post_nms_top_n_train) = parse_pair("--rpn-top-n", args.value());
    } else if (args.is("--rpn-test-top-n")) {
      std::tie(options.rpn_pre_nms_top_n_test, options.rpn_post_nms_top_n_test) =
          parse_pair("--rpn-test-top-n", args.value());
    } else if (args.is("--box-batch")) {
      options.box_batch_size_per_image = args.integer(1);
    } else if (args.is("--torchvision")) {
      apply_torchvision_model(options);
    } else if (args.is("--iterations")) {
      options.iterations = args.integer(1);
    } else if (args.is("--batch-size")) {
      options.batch_size = args.integer(1);
    } else if (args.is("--lr")) {
      options.base_lr = args.number();
    } else if (args.is("--momentum")) {
      options.momentum = args.number();
    } else if (args.is("--weight-decay")) {
      options.weight_decay = args.number();
    } else if (args.is("--bias-lr")) {
      options.bias_lr_multiplier = args.number();
    } else if (args.is("--warmup")) {
      options.warmup_iters = args.integer(0);
    } else if (args.is("--milestones")) {
      const auto [first, second] = parse_pair("--milestones", args.value());
      options.milestones = {first, second};
    } else if (args.is("--paper")) {
      apply_paper_preset(options);
    } else if (args.is("--flip")) {
      options.flip_probability = static_cast<float>(args.number());
    } else if (args.is("--jitter")) {
      options.jitter = static_cast<float>(args.number());
    } else if (args.is("--image-size")) {
      options.image_size = args.integer(0);
    } else if (args.is("--max-size")) {
      options.max_image_size = args.integer(1);
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
    } else if (args.is("--log-every")) {
      options.log_every = args.integer(1);
    } else if (args.is("--val-every")) {
      options.val_every = args.integer(0);
    } else if (args.is("--val-limit")) {
      options.val_limit = args.integer(0);
    } else if (args.is("--no-val")) {
      options.validate = false;
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
    std::fprintf(stderr, "train_maskrcnn: %s\n", error.what());
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
    MaskRcnnTrainingOptions& options = command_line.options;
    options.communicator = &session.communicator();
    if (!lead) options.progress_stream = nullptr;
    std::printf("train_maskrcnn: Mask R-CNN on ResNet-%d x%g FPN %lld (%s), %lld iterations of %lld images, "
                "sgd lr %g, %d threads%s%s\n",
                options.depth, options.width_multiplier, static_cast<long long>(options.fpn_channels),
                normalization_name(options.norm), static_cast<long long>(options.iterations),
                static_cast<long long>(options.batch_size), options.base_lr, threads, apps::job_text(session).c_str(),
                options.train_annotations.empty() ? "" : (", masks from " + options.train_annotations).c_str());
    std::fflush(stdout);
    const MaskRcnnTrainingResult result = train_mask_rcnn(options);
    if (result.outcome.status != TrainingOutcome::Status::completed) {
      if (lead) std::fprintf(stderr, "train_maskrcnn: %s\n", result.outcome.message.c_str());
      return result.outcome.exit_code();
    }
    std::printf("train_maskrcnn: %s (%lld train images, %lld instances, %lld batches per epoch; %.0f s)\n",
                result.outcome.message.c_str(), static_cast<long long>(result.train_images),
                static_cast<long long>(result.train_instances), static_cast<long long>(result.batches_per_epoch),
                result.train_seconds);
    if (result.validated) {
      std::printf("\nvalidation (val split): %s\nwritten to %s\n",
                  format_mask_rcnn_validation(result.validation).c_str(), result.validation.results_path.c_str());
    }
    std::printf("\noutputs: %s/ (checkpoint-*.safetensors, log.jsonl)\n", options.out_dir.c_str());
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "train_maskrcnn: %s\n", error.what());
    return 1;
  }
}
