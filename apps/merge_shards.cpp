// merge_shards: the outputs of per-image stages run in shards (`--shard i/n`) joined into
// what one unsharded run writes, after checking that the shards covered every image of the
// COCO file exactly once (data/shards.h).
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

// "X.json" -> "X-results.json".
std::string results_path_of(const std::string& instances) {
  const std::string stem = instances.size() > 5 && instances.compare(instances.size() - 5, 5, ".json") == 0
                               ? instances.substr(0, instances.size() - 5)
                               : instances;
  return stem + "-results.json";
}

// --instances: the shards' instance files, and their results beside them.
int merge_instances(const data::Dataset& reference, const Options& options) {
  std::vector<data::InstanceShard> shards;
  std::vector<data::ResultShard> results;
  for (const std::string& file : options.shards) {
    data::InstanceShard shard{file, data::read_coco_dataset(file)};
    if (fs::exists(results_path_of(file))) {
      results.push_back({file, shard.dataset.images, data::read_coco_results(results_path_of(file), shard.dataset)});
    }
    shards.push_back(std::move(shard));
  }
  if (!results.empty() && results.size() != shards.size())
    throw std::invalid_argument("a -results.json file is beside " + std::to_string(results.size()) + " of the " +
                                std::to_string(shards.size()) + " shards: all of them or none");
  const data::Dataset merged = data::merge_instance_shards(reference, shards);
  data::write_coco_dataset(merged, options.instances);
  if (!results.empty()) {
    data::write_coco_results(data::merge_result_shards(reference, results), results_path_of(options.instances));
  }
  std::printf("merge_shards: %zu shards, %zu images, %zu annotations%s -> %s\n", shards.size(), merged.images.size(),
              merged.annotations.size(), results.empty() ? "" : " (and their results)", options.instances.c_str());
  return 0;
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
    if (!options.instances.empty()) return merge_instances(reference, options);
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
