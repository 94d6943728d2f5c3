// train_prm: WISE's first stage, a PRM classifier (models/prm.h) trained on the
// image-level labels of a COCO-layout dataset through the shared training loop
// (checkpoints, --resume, the NaN guard, progress, a JSONL log); at the end, the val
// split's classification metrics and how well the peaks find the instances. What it
// does is train/prm_training.h; this file only reads the command line.
//
//   train_prm --data data/shapes-v2 --out runs/prm [--weights body.safetensors] ...
//
// Exit status: 0 trained (and validated), 128 + signal when stopped by SIGINT or
// SIGTERM (a checkpoint was written: --resume continues), 1 on a non-finite step or an
// error, 2 on a bad command line.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>

#include "apps/command_line.h"
#include "apps/job.h"
#include "train/prm_training.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

using namespace wise;

void print_usage(std::FILE* stream) {
  const PrmTrainingOptions defaults;
  std::fprintf(stream,
               "usage: train_prm --data DIR --out DIR [options]\n"
               "  --data DIR            dataset: annotations/{train,val}.json, images/{train,val}/\n"
               "  --out DIR             checkpoints and log.jsonl\n"
               "  --resume              continue from the newest checkpoint in --out\n"
               "model:\n"
               "  --depth N             ResNet depth 18, 34, 50 or 101 (default %d)\n"
               "  --width M             width multiplier (default %g)\n"
               "  --output-stride S     the class maps' stride: 32, 16 or 8 (dilated layer4 / layer3+4;\n"
               "                        default %d)\n"
               "  --norm NAME           batch_norm, group_norm or frozen_batch_norm (default %s)\n"
               "  --weights FILE        backbone weights (safetensors, torchvision keys; e.g. from\n"
               "                        train_classifier --export-body)\n"
               "  --upsample N          class maps' upsampling factor before peak finding at inference (default %d)\n"
               "  --training-peak-fraction F  training PSL: a score averages the peaks >= F x the map's\n"
               "                        maximum (default 0: PRM's, those >= the map's lower median)\n"
               "  --peak-fraction F     peaks >= F x their map's maximum count, for val and pseudo masks (default %g)\n"
               "  --dominant-peaks      only peaks where their class's map is the highest of the present classes'\n"
               "  --peak-window W       inference peaks: maxima of W x W windows (upsampled-map cells, odd;\n"
               "                        default %d, PRM's)\n"
               "solver:\n"
               "  --optimizer NAME      sgd, adam or adamw (default %s)\n"
               "  --iterations N        optimizer steps (default %lld)\n"
               "  --batch-size N        images per step (default %lld)\n"
               "  --lr X                base learning rate, the classifier's (default %g)\n"
               "  --backbone-lr X       the backbone's rate as a multiple of --lr (default %g; PRM: 0.01)\n"
               "  --momentum X          SGD's (default %g)\n"
               "  --weight-decay X      (default %g; none on norm weights and biases)\n"
               "  --warmup N            linear warm-up, in steps (default %lld)\n"
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
               "  --log-every N         JSONL record every N steps (default %lld)\n"
               "  --no-val              skip the validation at the end\n"
               "pseudo masks (WISE Eq. 1, after training, on the train split):\n"
               "  --pseudo-masks        write <out>/pseudo_masks-<selection>.json (and -results.json: scored, for\n"
               "                        `evaluate`) and their mAP vs the train masks\n"
               "  --selection NAME      sample (Eq. 1, the default) or best (the released code's)\n"
               "  --pseudo-weighting W  candidates weighted by objectness (Eq. 1, the default) or class_map\n"
               "                        (objectness x the share of the proposal its class's map supports)\n"
               "  --pseudo-seed S       Eq. 1's seed (default 0)\n"
               "  --pseudo-nms T        suppress a pseudo mask of IoU >= T with a better-scored one of its class\n"
               "                        in its image (default 0: off, as WISE)\n"
               "  --pseudo-min-score S  write only the pseudo masks scored >= S (after the NMS; default 0: all)\n"
               "  --pseudo-score NAME   each pseudo mask's score in its mAP: class_map (the mean of its class's\n"
               "                        normalised map over the mask; the default) or objectness (its proposal's)\n"
               "  --pseudo-limit N      only the first N train images (default: all)\n"
               "  --pseudo-shard i/n    of those, positions p %% n == i (default 0/1: all), written to\n"
               "                        pseudo_masks-<selection>-shard-i-of-n[-results].json for merge_shards\n"
               "  --proposal-cache DIR  selective search's per-image cache (default: <out>/proposals)\n"
               "  --proposals DIR       precomputed proposals (<image_id>.json) instead of selective search\n"
               "  --figures N           Figure-1 panels of the first N train images: <out>/figures/<id>.png\n"
               "PRM's own instance segmentation (the baseline row of WISE's Table 1, after training, on val):\n"
               "  --prm-baseline        write <out>/prm_baseline-val.json (COCO results) and its mAP vs the val masks\n"
               "  --prm-baseline-limit N  only the first N val images (default: all)\n"
               "  --val-proposals DIR   precomputed val proposals (<image_id>.json); default: selective search, cached\n"
               "under mpirun: the ranks train data-parallel (--batch-size is the global batch), then split\n"
               "the images of --pseudo-masks and --prm-baseline; rank 0 writes one process's files\n",
               defaults.depth, defaults.width_multiplier, defaults.output_stride, normalization_name(defaults.norm), defaults.upsample_factor,
               static_cast<double>(defaults.peaks.fraction), defaults.peak_window, optimizer_name(defaults.optimizer),
               static_cast<long long>(defaults.iterations), static_cast<long long>(defaults.batch_size),
               defaults.base_lr, defaults.backbone_lr_multiplier, defaults.momentum, defaults.weight_decay,
               static_cast<long long>(defaults.warmup_iters), static_cast<double>(defaults.flip_probability),
               static_cast<double>(defaults.jitter), static_cast<unsigned long long>(defaults.seed),
               defaults.num_workers, static_cast<long long>(defaults.checkpoint_every),
               static_cast<long long>(defaults.log_every));
}

struct Invocation {
  PrmTrainingOptions options;
  int threads = 0;  // 0: OpenMP's default
};

Invocation parse_command_line(int argc, char** argv) {
  Invocation invocation;
  PrmTrainingOptions& options = invocation.options;
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
    } else if (args.is("--upsample")) {
      options.upsample_factor = static_cast<int>(args.integer(1));
    } else if (args.is("--training-peak-fraction")) {
      options.training_peak_fraction = static_cast<float>(args.number());
    } else if (args.is("--peak-window")) {
      options.peak_window = static_cast<int>(args.integer(1));
    } else if (args.is("--peak-fraction")) {
      options.peaks.fraction = static_cast<float>(args.number());
    } else if (args.is("--dominant-peaks")) {
      options.peaks.dominant = true;
    } else if (args.is("--optimizer")) {
      options.optimizer = parse_optimizer_kind(args.value());
    } else if (args.is("--iterations")) {
      options.iterations = args.integer(1);
    } else if (args.is("--batch-size")) {
      options.batch_size = args.integer(1);
    } else if (args.is("--lr")) {
      options.base_lr = args.number();
    } else if (args.is("--backbone-lr")) {
      options.backbone_lr_multiplier = args.number();
    } else if (args.is("--momentum")) {
      options.momentum = args.number();
    } else if (args.is("--weight-decay")) {
      options.weight_decay = args.number();
    } else if (args.is("--warmup")) {
      options.warmup_iters = args.integer(0);
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
    } else if (args.is("--log-every")) {
      options.log_every = args.integer(1);
    } else if (args.is("--pseudo-masks")) {
      options.pseudo_masks.enabled = true;
    } else if (args.is("--selection")) {
      options.pseudo_masks.selection.selection = wise::pseudo_masks::parse_selection(args.value());
    } else if (args.is("--pseudo-weighting")) {
      options.pseudo_masks.weighting = parse_pseudo_mask_weighting(args.value());
    } else if (args.is("--pseudo-nms")) {
      options.pseudo_masks.nms_threshold = args.number();
    } else if (args.is("--pseudo-min-score")) {
      options.pseudo_masks.min_score = args.number();
    } else if (args.is("--pseudo-score")) {
      options.pseudo_masks.score = parse_pseudo_mask_score(args.value());
    } else if (args.is("--pseudo-seed")) {
      options.pseudo_masks.selection.seed = static_cast<uint64_t>(args.integer(0));
    } else if (args.is("--pseudo-shard")) {
      options.pseudo_masks.shard = proposals::parse_shard(args.value());
    } else if (args.is("--pseudo-limit")) {
      options.pseudo_masks.limit = args.integer(1);
    } else if (args.is("--proposal-cache")) {
      options.pseudo_masks.proposals.cache = args.value();
    } else if (args.is("--proposals")) {
      options.pseudo_masks.proposals.precomputed = args.value();
    } else if (args.is("--figures")) {
      options.figures.count = args.integer(1);
    } else if (args.is("--prm-baseline")) {
      options.prm_baseline.enabled = true;
    } else if (args.is("--prm-baseline-limit")) {
      options.prm_baseline.limit = args.integer(1);
    } else if (args.is("--val-proposals")) {
      options.prm_baseline.proposals.precomputed = args.value();
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
    std::fprintf(stderr, "train_prm: %s\n", error.what());
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
    PrmTrainingOptions& options = command_line.options;
    options.communicator = &session.communicator();
    if (!lead) options.progress_stream = nullptr;
    if (options.pseudo_masks.proposals.cache.empty() && options.pseudo_masks.proposals.precomputed.empty())
      options.pseudo_masks.proposals.cache = options.out_dir + "/proposals";
    // One cache serves both splits: its file names carry the image's pixels.
    if (options.prm_baseline.proposals.precomputed.empty())
      options.prm_baseline.proposals.cache =
          options.pseudo_masks.proposals.cache.empty() ? options.out_dir + "/proposals" : options.pseudo_masks.proposals.cache;
    std::printf("train_prm: PRM on ResNet-%d x%g (%s, output stride %d), %lld iterations of %lld images, %s lr %g, %d threads%s\n",
                options.depth, options.width_multiplier, normalization_name(options.norm), options.output_stride,
                static_cast<long long>(options.iterations), static_cast<long long>(options.batch_size),
                optimizer_name(options.optimizer), options.base_lr, threads, apps::job_text(session).c_str());
    std::fflush(stdout);
    const PrmTrainingResult result = train_prm(options);
    if (result.outcome.status != TrainingOutcome::Status::completed) {
      if (lead) std::fprintf(stderr, "train_prm: %s\n", result.outcome.message.c_str());
      return result.outcome.exit_code();
    }
    std::printf("train_prm: %s (%lld train images, %lld batches per epoch)\n", result.outcome.message.c_str(),
                static_cast<long long>(result.train_images), static_cast<long long>(result.batches_per_epoch));
    if (result.validated) {
      const PrmValidation& validation = result.validation;
      std::printf("\nvalidation (val split, %lld images):\n%s%s (classes predicted present)\n%s (classes labelled)\n",
                  static_cast<long long>(validation.classification.images),
                  format_multilabel_table(validation.classification, validation.class_names).c_str(),
                  format_peak_quality(validation.peaks).c_str(),
                  format_peak_quality(validation.labelled_peaks).c_str());
    }
    if (result.made_pseudo_masks) {
      std::printf("\n%s\nwritten to %s (and scored, as COCO results, to %s)\n",
                  format_pseudo_mask_report(result.pseudo_masks, options.pseudo_masks).c_str(),
                  result.pseudo_masks.path.c_str(), result.pseudo_masks.results_path.c_str());
    }
    if (!result.figures.empty()) {
      std::printf("\nfigures: %zu panels in %s/figures/\n", result.figures.size(), options.out_dir.c_str());
    }
    if (result.ran_prm_baseline) {
      std::printf("\n%s\nwritten to %s\n", format_prm_baseline_report(result.prm_baseline).c_str(),
                  result.prm_baseline.path.c_str());
    }
    std::printf("\noutputs: %s/ (checkpoint-*.safetensors, log.jsonl)\n", options.out_dir.c_str());
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "train_prm: %s\n", error.what());
    return 1;
  }
}
