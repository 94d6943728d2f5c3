// merge_shards: the folders of `segment --shard i/n` runs joined into the one an unsharded
// run writes, after checking that the shards covered every image of the COCO file exactly
// once (data/shards.h).
//
//   merge_shards --annotations A.json [--limit N] --out DIR SHARD_DIR...
//
// Each SHARD_DIR holds images.json and detections.json (and detections-refined.json when
// the shards refined: all of them or none). DIR gets the same three files; the pictures
// stay in their shards' folders. Exit status: 0 merged, 1 on an error naming the image or
// shard, 2 on a bad command line.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "apps/command_line.h"
#include "data/coco.h"
#include "data/shards.h"

namespace {

using namespace wise;
namespace fs = std::filesystem;

struct Options {
  std::string annotations, out;
  int64_t limit = 0;
  std::vector<std::string> shards;
};

void print_usage(std::FILE* stream) {
  std::fprintf(stream,
               "usage: merge_shards --annotations A.json [--limit N] --out DIR SHARD_DIR...\n"
               "  --annotations A.json  the COCO file the shards segmented (segment --annotations)\n"
               "  --limit N             its first N images, as the shards were given (default: all)\n"
               "  --out DIR             writes images.json, detections.json and, when every shard has\n"
               "                        one, detections-refined.json\n"
               "  SHARD_DIR...          the shards' segment --out folders, any order\n"
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
    } else if (!args.flag().empty() && args.flag()[0] != '-') {
      options.shards.push_back(args.flag());
    } else {
      args.unknown();
    }
  }
  if (options.annotations.empty() || options.out.empty() || options.shards.empty())
    throw std::invalid_argument("--annotations, --out and at least one shard folder are required (--help)");
  return options;
}

// One results file of every shard (`file` in each folder), merged.
std::vector<data::Detection> merged(const data::Dataset& reference, const Options& options, const std::string& file) {
  std::vector<data::ResultShard> shards;
  for (const std::string& folder : options.shards) {
    data::ResultShard shard;
    shard.name = folder;
    const data::Dataset covered = data::read_coco_dataset((fs::path(folder) / "images.json").string());
    shard.images = covered.images;
    shard.detections = data::read_coco_results((fs::path(folder) / file).string(), covered);
    shards.push_back(std::move(shard));
  }
  return data::merge_result_shards(reference, shards);
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
    int refined = 0;
    for (const std::string& folder : options.shards) refined += fs::exists(fs::path(folder) / "detections-refined.json");
    if (refined != 0 && refined != static_cast<int>(options.shards.size()))
      throw std::invalid_argument("detections-refined.json is in " + std::to_string(refined) + " of the " +
                                  std::to_string(options.shards.size()) + " shards: refine all of them or none");
    fs::create_directories(options.out);
    const std::vector<data::Detection> detections = merged(reference, options, "detections.json");
    data::write_coco_results(detections, (fs::path(options.out) / "detections.json").string());
    if (refined != 0) {
      data::write_coco_results(merged(reference, options, "detections-refined.json"),
                               (fs::path(options.out) / "detections-refined.json").string());
    }
    // The listing an unsharded run writes: the images, and the categories the shards wrote
    // (the model's, when there was one).
    data::Dataset images;
    images.images = reference.images;
    images.categories = data::read_coco_dataset((fs::path(options.shards[0]) / "images.json").string()).categories;
    data::write_coco_dataset(images, (fs::path(options.out) / "images.json").string());
    std::printf("merge_shards: %zu shards, %zu images, %zu detections%s -> %s\n", options.shards.size(),
                reference.images.size(), detections.size(), refined != 0 ? " (and refined)" : "", options.out.c_str());
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "merge_shards: %s\n", error.what());
    return 1;
  }
}
