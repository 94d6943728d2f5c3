// make_proposals: mask proposals with objectness for a COCO dataset's images, cached on
// disk per image, and -- when the annotations hold instances -- their ABO and recall at
// IoU 0.5 / 0.7 for the top 100 / 500 / all proposals, proposals per image and ms per
// image (proposals/proposal_quality.h).
//
//   make_proposals --images data/shapes-v1/images/val --annotations data/shapes-v1/annotations/val.json
//                  --out DIR [--shard i/n] [--limit N] [--objectness combined|contrast|uijlings-rank]
//                  [--colour-spaces hsv,lab] [--ks 50,100] [--similarities C+T+S+F,T+S+F]
//                  [--sigma 0.8] [--min-size 20] [--seed 0]
//   make_proposals --annotations A.json --precomputed DIR   (measure proposal files, e.g. SharpMask's)
//
// DIR is the cache: <image_id>-<key>.json per image (proposals/proposal_cache.h).
// Under mpirun the ranks split the images (train/rank_shards.h) and fill the one cache;
// rank 0 prints the job's table.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "apps/command_line.h"
#include "apps/job.h"
#include "data/coco.h"
#include "proposals/proposal_run.h"
#include "train/rank_shards.h"

namespace {

using namespace wise::proposals;

struct Options {
  std::string annotations;
  ProposalRunOptions run;
};

void print_usage(std::FILE* stream) {
  std::fprintf(
      stream,
      "usage: make_proposals --annotations A.json (--images DIR --out CACHE | --precomputed DIR)\n"
      "                      [--shard i/n] [--limit N] [--objectness combined|contrast|uijlings-rank]\n"
      "                      [--colour-spaces hsv,lab] [--ks 50,100] [--similarities C+T+S+F,T+S+F]\n"
      "                      [--sigma 0.8] [--min-size 20] [--seed 0]\n"
      "  --annotations    COCO JSON: the images (and, if present, instances to measure against)\n"
      "  --images         the folder the images' file_name are relative to\n"
      "  --out            the proposal cache: <image_id>-<key>.json per image; the key covers\n"
      "                   the code, every option and the pixels, so it never goes stale\n"
      "  --precomputed    read <image_id>.json proposal files ([{segmentation, score}]) instead\n"
      "  --shard          images at positions p %% n == i only\n"
      "  --limit          at most N images (of the shard; default: all)\n"
      "under mpirun, the ranks split those images; rank 0 prints the whole job's table\n"
      "  --objectness     the score proposals are sorted by (proposals/objectness.h; default combined)\n"
      "selective search's diversification (proposals/selective_search.h), defaults in the usage line:\n"
      "  --colour-spaces  the colour spaces grouped in (hsv, lab, rgb)\n"
      "  --ks             Felzenszwalb-Huttenlocher scales k (unitless: larger, larger regions)\n"
      "  --similarities   the similarity sets (C colour, T texture, S size, F fill)\n"
      "  --sigma          the Gaussian smoothing before segmentation, in pixels\n"
      "  --min-size       regions under this many pixels are merged into a neighbour\n"
      "  --seed           selective search's random ranking (uijlings-rank only)\n");
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, ',')) parts.push_back(part);
  return parts;
}

Options parse_options(int argc, char** argv) {
  Options options;
  SelectiveSearchOptions& search = options.run.selective_search;
  wise::apps::CommandLine args(argc, argv);
  while (args.next()) {
    if (args.is("--help") || args.is("-h")) {
      print_usage(stdout);
      std::exit(0);
    } else if (args.is("--annotations")) {
      options.annotations = args.value();
    } else if (args.is("--images")) {
      options.run.images = args.value();
    } else if (args.is("--out")) {
      options.run.cache = args.value();
    } else if (args.is("--precomputed")) {
      options.run.precomputed = args.value();
    } else if (args.is("--shard")) {
      options.run.shard = parse_shard(args.value());
    } else if (args.is("--limit")) {
      options.run.limit = args.integer(1);
    } else if (args.is("--objectness")) {
      search.objectness = parse_objectness_method(args.value());
    } else if (args.is("--colour-spaces")) {
      search.colour_spaces.clear();
      for (const std::string& name : split_list(args.value())) search.colour_spaces.push_back(parse_colour_space(name));
    } else if (args.is("--ks")) {
      search.ks.clear();
      for (const std::string& k : split_list(args.value())) {
        char* end = nullptr;
        const float value = std::strtof(k.c_str(), &end);
        if (k.empty() || *end != '\0') throw std::invalid_argument("--ks: expected numbers, found \"" + k + "\"");
        search.ks.push_back(value);
      }
    } else if (args.is("--similarities")) {
      search.similarity_sets.clear();
      for (const std::string& set : split_list(args.value())) search.similarity_sets.push_back(parse_similarity_set(set));
    } else if (args.is("--sigma")) {
      search.sigma = static_cast<float>(args.number());
    } else if (args.is("--min-size")) {
      search.min_size = args.integer(1);
    } else if (args.is("--seed")) {
      search.seed = static_cast<uint64_t>(args.integer(0));
    } else {
      args.unknown();
    }
  }
  if (options.annotations.empty()) throw std::invalid_argument("--annotations is required (--help lists the options)");
  if (options.run.precomputed.empty() && (options.run.images.empty() || options.run.cache.empty())) {
    throw std::invalid_argument("give --images and --out, or --precomputed (--help lists the options)");
  }
  check_options(search);
  return options;
}

// The images one process would take (the shard's first `limit`), split over the ranks of
// `job`: `dataset` is cut after the last of them and the run takes this rank's shard of
// what is left, without a limit.
void split_over_ranks(wise::data::Dataset& dataset, ProposalRunOptions& run, const wise::distributed::Communicator& job) {
  if (run.limit > 0) {
    const std::vector<size_t> selected = selected_images(dataset, run.shard, run.limit);
    dataset.images.resize(selected.empty() ? 0 : selected.back() + 1);  // positions, and so shards, unchanged
    run.limit = 0;
  }
  run.shard = wise::rank_shard(run.shard, &job);
}

// The job's table from the ranks' (each divided by its own instances: summed back first).
ProposalQuality job_quality(const ProposalQuality& mine, wise::distributed::Communicator& job) {
  std::vector<double> sums{static_cast<double>(mine.images), static_cast<double>(mine.instances),
                           static_cast<double>(mine.proposals), mine.milliseconds,
                           static_cast<double>(mine.computed_images)};
  for (const auto* measure : {&mine.abo, &mine.recall_50, &mine.recall_70})
    for (const double value : *measure) sums.push_back(value * static_cast<double>(mine.instances));
  job.all_reduce_sum(sums.data(), static_cast<int64_t>(sums.size()));
  ProposalQuality quality;
  quality.images = static_cast<int64_t>(sums[0]);
  quality.instances = static_cast<int64_t>(sums[1]);
  quality.proposals = static_cast<int64_t>(sums[2]);
  quality.milliseconds = sums[3];
  quality.computed_images = static_cast<int64_t>(sums[4]);
  size_t next = 5;
  for (auto* measure : {&quality.abo, &quality.recall_50, &quality.recall_70})
    for (double& value : *measure) value = sums[next++];
  quality.finish();
  return quality;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options options = parse_options(argc, argv);
    wise::data::Dataset dataset = wise::data::read_coco_dataset(options.annotations);
    wise::distributed::Session session(&argc, &argv);
    wise::apps::speak_for_job(session);
    wise::distributed::Communicator& job = session.communicator();
    const Shard requested = options.run.shard;
    if (job.world_size() > 1) split_over_ranks(dataset, options.run, job);
    ProposalQuality quality;
    wise::run_rank_shard(&job, "make_proposals", [&] { quality = run_proposals(dataset, options.run); });
    if (job.world_size() > 1) quality = job_quality(quality, job);
    const std::string source = options.run.precomputed.empty()
                                   ? describe_options(options.run.selective_search)
                                   : "precomputed " + options.run.precomputed;
    std::printf("%s", format_quality_table(quality, source + ", shard " + std::to_string(requested.index) + "/" +
                                                        std::to_string(requested.count) +
                                                        (job.world_size() > 1 ? " over " + std::to_string(job.world_size()) + " processes" : ""))
                          .c_str());
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "make_proposals: %s\n", error.what());
    return 1;
  }
}
