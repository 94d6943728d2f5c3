// segment: WISE at test time. A Mask R-CNN that train_maskrcnn trained segments images;
// each gets a picture with its coloured masks, boxes, class names and scores, and all go
// into one COCO results file that `evaluate` reads; --refine swaps each predicted mask for
// its best-IoU object proposal (the paper's Fig. 3). What it does is
// train/segment_images.h; this file only reads the command line.
//
//   segment --model runs/maskrcnn --out runs/segment photo.jpg more_photos/ list.txt
//   segment --model runs/maskrcnn --out runs/segment-val --refine runs/prm/proposals
//       --annotations data/shapes-v2/annotations/val.json --images data/shapes-v2/images/val
//   evaluate --annotations data/shapes-v2/annotations/val.json --results runs/segment-val/detections-refined.json
//   mpirun -np 4 segment ...   the same files, the images split over 4 processes
//
// Exit status: 0 done, 1 on an error (naming the file), 2 on a bad command line.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>

#include "apps/command_line.h"
#include "apps/job.h"
#include "train/segment_images.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

using namespace wise;

void print_usage(std::FILE* stream) {
  const SegmentOptions d;
  std::fprintf(stream,
               "usage: segment --model RUN --out DIR (IMAGE | FOLDER | LIST.txt)... [options]\n"
               "       segment --model RUN --out DIR --annotations COCO.json --images DIR [options]\n"
               "       segment --detections R.json --out DIR --annotations COCO.json --images DIR --refine CACHE\n"
               "  --model RUN           a train_maskrcnn --out folder (its newest checkpoint) or a checkpoint file\n"
               "  --detections R.json   no model: these COCO results (train_maskrcnn's detections-val.json) are\n"
               "                        the predictions, refined and drawn as a model's would be\n"
               "  --out DIR             detections.json (COCO results), images.json, pictures/<image>.png\n"
               "  IMAGE FOLDER LIST     .jpg/.jpeg/.png files, folders of them (sorted), .txt lists (a path per\n"
               "                        line, relative to the list); image ids 1..N in that order\n"
               "  --annotations F       segment this COCO file's images, with its image ids (for `evaluate`)\n"
               "  --images DIR          the folder the COCO file's file_names are relative to\n"
               "  --limit N             the first N images only (default: all)\n"
               "  --shard i/n           of those, the images at positions p with p %% n == i (default 0/1: all);\n"
               "                        merge_shards joins the n shards' --out folders; under mpirun the\n"
               "                        ranks split the images and rank 0 writes one run's files\n"
               "output:\n"
               "  --score-thresh X      the model's box score threshold: detections scoring > X are kept (default %g)\n"
               "  --draw-thresh X       detections drawn in the pictures, score >= X (default %g)\n"
               "  --no-pictures         results only\n"
               "refinement (WISE Fig. 3: each mask replaced by the proposal of highest IoU with it):\n"
               "  --refine CACHE        selective search's proposal cache (train_prm's <out>/proposals,\n"
               "                        make_proposals --out); missing images are computed and cached;\n"
               "                        also writes detections-refined.json, and the pictures show it\n"
               "  --refine-precomputed DIR  precomputed proposals instead (<image_id>.json, COCO RLE + score)\n"
               "  --refine-min-score X  only proposals scoring > X are candidates (default %g: all;\n"
               "                        WISE's released code: 0.75, for SharpMask's scores)\n"
               "run:\n"
               "  --batch-size N        images per inference batch (default %lld)\n"
               "  --workers N           loader threads (default %d)\n"
               "  --threads N           OpenMP threads (default: OMP_NUM_THREADS or all cores)\n"
               "  --device cpu|cuda     (default cpu)\n",
               static_cast<double>(d.score_thresh), static_cast<double>(d.draw_thresh),
               static_cast<double>(d.refinement.min_objectness), static_cast<long long>(d.batch_size), d.num_workers);
}

struct Invocation {
  SegmentOptions options;
  int threads = 0;
};

float probability(apps::CommandLine& args) {
  const double value = args.number();
  if (!(value >= 0 && value <= 1)) {
    throw std::invalid_argument(args.flag() + ": expected a number in [0, 1], found " + std::to_string(value));
  }
  return static_cast<float>(value);
}

Invocation parse_command_line(int argc, char** argv) {
  Invocation invocation;
  SegmentOptions& options = invocation.options;
  apps::CommandLine args(argc, argv);
  while (args.next()) {
    if (args.is("--help") || args.is("-h")) {
      print_usage(stdout);
      std::exit(0);
    } else if (args.is("--model")) {
      options.model = args.value();
    } else if (args.is("--detections")) {
      options.detections = args.value();
    } else if (args.is("--out")) {
      options.out_dir = args.value();
    } else if (args.is("--annotations")) {
      options.annotations = args.value();
    } else if (args.is("--images")) {
      options.image_folder = args.value();
    } else if (args.is("--limit")) {
      options.limit = args.integer(0);
    } else if (args.is("--shard")) {
      options.shard = proposals::parse_shard(args.value());
    } else if (args.is("--score-thresh")) {
      options.score_thresh = probability(args);
    } else if (args.is("--draw-thresh")) {
      options.draw_thresh = probability(args);
    } else if (args.is("--no-pictures")) {
      options.pictures = false;
    } else if (args.is("--refine")) {
      options.refine = true;
      options.proposals.cache = args.value();
    } else if (args.is("--refine-precomputed")) {
      options.refine = true;
      options.proposals.precomputed = args.value();
    } else if (args.is("--refine-min-score")) {
      options.refinement.min_objectness = probability(args);
    } else if (args.is("--batch-size")) {
      options.batch_size = args.integer(1);
    } else if (args.is("--workers")) {
      options.num_workers = static_cast<int>(args.integer(0));
    } else if (args.is("--threads")) {
      invocation.threads = static_cast<int>(args.integer(1));
    } else if (args.is("--device")) {
      options.device = apps::parse_device(args.value());
    } else if (!args.flag().empty() && args.flag()[0] == '-') {
      args.unknown();
    } else {
      options.paths.push_back(args.flag());
    }
  }
  if (options.model.empty() == options.detections.empty() || options.out_dir.empty()) {
    throw std::invalid_argument("--out and one of --model and --detections are required (--help lists the options)");
  }
  if (!options.detections.empty() && options.annotations.empty()) {
    throw std::invalid_argument("--detections needs --annotations and --images (the COCO file they are on)");
  }
  if (options.paths.empty() == options.annotations.empty()) {
    throw std::invalid_argument("give images (files, folders, .txt lists) or --annotations with --images");
  }
  if (!options.proposals.cache.empty() && !options.proposals.precomputed.empty()) {
    throw std::invalid_argument("--refine and --refine-precomputed: give one source of proposals");
  }
  return invocation;
}

}  // namespace

int main(int argc, char** argv) {
  Invocation command_line;
  try {
    command_line = parse_command_line(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "segment: %s\n", error.what());
    return 2;
  }
  try {
#ifdef _OPENMP
    if (command_line.threads > 0) omp_set_num_threads(command_line.threads);
#endif
    // Under mpirun, the ranks split the images and rank 0 writes the job's files.
    distributed::Session session(&argc, &argv);
    apps::speak_for_job(session);
    SegmentOptions& options = command_line.options;
    options.communicator = &session.communicator();
    const SegmentResult result = segment_images(options);
    if (options.detections.empty()) {
      std::printf("segment: %lld images with %s (iteration %lld): %lld detections (score > %g) in %.1f s%s\n",
                  static_cast<long long>(result.images), result.checkpoint.c_str(),
                  static_cast<long long>(result.iteration), static_cast<long long>(result.detections),
                  static_cast<double>(options.score_thresh), result.inference_seconds,
                  session.world_size() > 1 ? " (rank 0's shard)" : "");
    } else {
      std::printf("segment: %lld images, %lld detections from %s\n", static_cast<long long>(result.images),
                  static_cast<long long>(result.detections), options.detections.c_str());
    }
    if (options.refine) {
      const auto& counts = result.refinement;
      std::printf("refined: %lld of %lld masks replaced by a proposal (mean IoU with it %.3f) in %.1f s\n",
                  static_cast<long long>(counts.replaced), static_cast<long long>(counts.detections),
                  counts.replaced > 0 ? counts.iou_sum / static_cast<double>(counts.replaced) : 0.0,
                  result.refinement_seconds);
    }
    std::printf("written: %s%s%s, %s\n", result.results_path.c_str(), options.refine ? ", " : "",
                result.refined_results_path.c_str(), result.images_path.c_str());
    if (options.pictures) {
      std::printf("pictures: %s/ (%lld detections of score >= %g drawn, %.1f s)\n", result.pictures_dir.c_str(),
                  static_cast<long long>(result.drawn), static_cast<double>(options.draw_thresh),
                  result.drawing_seconds);
    }
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "segment: %s\n", error.what());
    return 1;
  }
}
