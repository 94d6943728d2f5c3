// evaluate: mask mAP at IoU 0.25 / 0.5 / 0.75 and ABO of a COCO results file, per class,
// by object size and by objects per image, under the `voc` (default) or `wise` protocol
// (evaluation/evaluation.h says what each computes).
//
//   evaluate --ground-truth gt.json --results results.json [--protocol voc|wise]
//            [--json out.json]
//   evaluate --voc VOC2012 [--split val] --results results.json ...
//
// Ground truth is COCO JSON (COCO itself, the shapes set's annotations/<split>.json, or
// any Dataset written by data/coco.h, void masks in "wise_void") or a PASCAL VOC 2012
// folder read by data/voc.h, whose image ids are YYYYNNNNNN (2007_000032 -> 2007000032):
// the results file must use the same ids.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>

#include "apps/command_line.h"
#include "data/atomic_file.h"
#include "data/coco.h"
#include "data/voc.h"
#include "evaluation/evaluation.h"
#include "evaluation/evaluation_report.h"

namespace {

using namespace wise::data;

struct Options {
  std::string ground_truth;
  std::string voc_root;
  std::string voc_split = "val";
  std::string results;
  std::string json;
  EvaluationOptions evaluation;
  int64_t limit = 0;  // the first N ground-truth images only; 0: all
  bool wise_filter_given = false;  // --max-detections / --score-threshold
};

void print_usage(std::FILE* stream) {
  std::fprintf(
      stream,
      "usage: evaluate (--ground-truth GT.json | --voc ROOT [--split val]) --results R.json\n"
      "                [--protocol voc|wise] [--json OUT.json] [--max-detections N]\n"
      "                [--score-threshold S] [--limit N] [--no-breakdowns]\n"
      "  --ground-truth     COCO instance JSON (COCO, the shapes set, wise's own files)\n"
      "  --voc, --split     a PASCAL VOC 2012 folder (VOCdevkit/VOC2012) and its split\n"
      "  --results          COCO results JSON [{image_id, category_id, segmentation, score}]\n"
      "  --protocol         voc (default): chainercv's VOC mAP, every prediction scored;\n"
      "                     wise: WISE's COCOeval, score >= 0.5, void pixels removed\n"
      "  --json             also write the full result as JSON (fractions, null = no GT)\n"
      "  --max-detections   wise: predictions kept per image and class (default 100)\n"
      "  --score-threshold  wise: predictions below it are dropped (default 0.5)\n"
      "  --limit N          the first N ground-truth images only (as train_prm --pseudo-limit and\n"
      "                     segment --limit pick them); results on other images are an error\n"
      "  --no-breakdowns    skip the size and objects-per-image tables\n");
}

Options parse_options(int argc, char** argv) {
  Options options;
  wise::apps::CommandLine args(argc, argv);
  while (args.next()) {
    if (args.is("--help") || args.is("-h")) {
      print_usage(stdout);
      std::exit(0);
    } else if (args.is("--ground-truth")) {
      options.ground_truth = args.value();
    } else if (args.is("--voc")) {
      options.voc_root = args.value();
    } else if (args.is("--split")) {
      options.voc_split = args.value();
    } else if (args.is("--results")) {
      options.results = args.value();
    } else if (args.is("--protocol")) {
      options.evaluation.protocol = parse_protocol(args.value());
    } else if (args.is("--json")) {
      options.json = args.value();
    } else if (args.is("--max-detections")) {
      options.evaluation.max_detections = args.integer(1);
      options.wise_filter_given = true;
    } else if (args.is("--score-threshold")) {
      options.evaluation.score_threshold = args.number();
      options.wise_filter_given = true;
    } else if (args.is("--limit")) {
      options.limit = args.integer(1);
    } else if (args.is("--no-breakdowns")) {
      options.evaluation.breakdowns = false;
    } else {
      args.unknown();
    }
  }
  if (options.ground_truth.empty() == options.voc_root.empty()) {
    throw std::invalid_argument("give exactly one of --ground-truth and --voc (--help lists the options)");
  }
  if (options.wise_filter_given && options.evaluation.protocol != Protocol::wise) {
    throw std::invalid_argument("--max-detections and --score-threshold apply to --protocol wise "
                                "only (voc scores every prediction)");
  }
  if (options.results.empty()) {
    throw std::invalid_argument("--results is required (--help lists the options)");
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse_options(argc, argv);
    Dataset ground_truth;
    if (!options.voc_root.empty()) {
      const VocDataset voc = read_voc(options.voc_root, options.voc_split);
      std::printf("%s\n", voc_summary(voc).c_str());
      ground_truth = voc.dataset;
    } else {
      ground_truth = read_coco_dataset(options.ground_truth);
    }
    if (options.limit > 0) ground_truth = first_images(ground_truth, options.limit);
    const std::vector<Detection> results = read_coco_results(options.results, ground_truth);
    const EvaluationResult result = evaluate(ground_truth, results, options.evaluation);
    std::printf("%s", format_tables(result).c_str());
    if (!options.json.empty()) {
      write_file_atomically(options.json, evaluation_to_json(result) + "\n");
      std::printf("\nwrote %s\n", options.json.c_str());
    }
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "evaluate: %s\n", error.what());
    return 1;
  }
}
