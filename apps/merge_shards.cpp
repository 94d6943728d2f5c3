// merge_shards: the outputs of per-image stages run in shards (`--shard i/n`) joined into
// what one unsharded run writes, after checking that the shards covered every image of the
// COCO file exactly once (data/shard_files.h).
//
//   merge_shards --annotations A.json [--limit N] --out DIR SHARD_DIR...
//       segment --shard folders: each holds images.json and detections.json (and
//       detections-refined.json when the shards refined: all of them or none); DIR gets
//       the same three files; the pictures stay in their shards' folders
//   merge_shards --annotations A.json [--limit N] --instances OUT.json SHARD.json...
//       train_prm --pseudo-shard files (COCO instance files: the pseudo masks); with each
//       one's X-results.json beside it, OUT-results.json too
//
// Exit status: 0 merged, 1 on an error naming the image or shard, 2 on a bad command line.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "apps/command_line.h"
#include "data/coco.h"
#include "data/shard_files.h"

namespace {

using namespace wise;

struct Options {
  std::string annotations, out, instances;
  int64_t limit = 0;
  std::vector<std::string> shards;
};

void print_usage(std::FILE* stream) {
  std::fprintf(stream,
               "usage: merge_shards --annotations A.json [--limit N] --out DIR SHARD_DIR...\n"
               "       merge_shards --annotations A.json [--limit N] --instances OUT.json SHARD.json...\n"
               "  --annotations A.json  the COCO file the shards segmented (segment --annotations)\n"
               "  --limit N             its first N images, as the shards were given (default: all)\n"
               "  --out DIR             writes images.json, detections.json and, when every shard has\n"
               "                        one, detections-refined.json\n"
               "  SHARD_DIR...          the shards' segment --out folders, any order\n"
               "  --instances OUT.json  instead: merge COCO instance files (train_prm --pseudo-shard's\n"
               "                        pseudo masks) into OUT.json, and their -results.json files into\n"
               "                        OUT-results.json when every shard has one\n"
               "every image of the file must be in exactly one shard (an error names it otherwise)\n");
}

Options parse(int argc, char** argv) {
  Options options;
  apps::CommandLine args(argc, argv);
  while (args.next()) {
    if (args.is("--help") || args.is("-h")) {
      print_usage(stdout);
      std::exit(0);
    } else if (args.is("--annotations")) {
      options.annotations = args.value();
    } else if (args.is("--limit")) {
      options.limit = args.integer(0);
    } else if (args.is("--out")) {
      options.out = args.value();
    } else if (args.is("--instances")) {
      options.instances = args.value();
    } else if (!args.flag().empty() && args.flag()[0] != '-') {
      options.shards.push_back(args.flag());
    } else {
      args.unknown();
    }
  }
  if (options.annotations.empty() || options.out.empty() == options.instances.empty() || options.shards.empty())
    throw std::invalid_argument("--annotations, one of --out and --instances, and at least one shard are required (--help)");
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = parse(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "merge_shards: %s\n", error.what());
    return 2;
  }
  try {
    const data::Dataset reference = data::first_images(data::read_coco_dataset(options.annotations), options.limit);
    if (!options.instances.empty()) {
      const data::MergedInstanceFiles merged = data::merge_instance_files(reference, options.shards, options.instances);
      std::printf("merge_shards: %zu shards, %zu images, %zu annotations%s -> %s\n", options.shards.size(),
                  merged.images, merged.annotations, merged.results ? " (and their results)" : "",
                  options.instances.c_str());
      return 0;
    }
    const data::MergedSegmentFolders merged = data::merge_segment_folders(reference, options.shards, options.out);
    std::printf("merge_shards: %zu shards, %zu images, %zu detections%s -> %s\n", options.shards.size(), merged.images,
                merged.detections, merged.refined ? " (and refined)" : "", options.out.c_str());
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "merge_shards: %s\n", error.what());
    return 1;
  }
}
