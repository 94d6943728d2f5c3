// A dataset's proposals through the cache, and their quality (see proposal_run.h).
#include "proposals/proposal_run.h"

#include <chrono>
#include <exception>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "data/image_io.h"
#include "proposals/precomputed_proposals.h"
#include "proposals/proposal_cache.h"

namespace wise::proposals {

std::vector<size_t> selected_images(const data::Dataset& dataset, const Shard& shard, int64_t limit) {
  std::vector<size_t> selected;
  for (size_t i = 0; i < dataset.images.size(); ++i) {
    if (!shard.contains(static_cast<int64_t>(i))) continue;
    if (limit > 0 && static_cast<int64_t>(selected.size()) >= limit) break;
    selected.push_back(i);
  }
  return selected;
}

ImageProposals proposals_for_image(const data::ImageInfo& info, const ProposalRunOptions& options) {
  ImageProposals result;
  if (!options.precomputed.empty()) {
    result.proposals = read_proposal_file(proposal_file_path(options.precomputed, info.id), info.height, info.width);
    return result;
  }
  // An empty folder: file names are paths already (segment's images given one by one).
  const std::string path = options.images.empty() ? info.file_name : options.images + "/" + info.file_name;
  const data::Image image = data::load_image(path, 3);
  if (image.height != info.height || image.width != info.width) {
    throw std::runtime_error(path + ": image is " + std::to_string(image.height) + " x " + std::to_string(image.width) +
                             ", expected " + std::to_string(info.height) + " x " + std::to_string(info.width) +
                             " (its size in the annotations)");
  }
  std::string cache_path;
  if (!options.cache.empty()) {
    cache_path = proposal_cache_path(options.cache, info.id,
                                     proposal_cache_key(describe_options(options.selective_search), image));
    if (auto cached = read_cached_proposals(cache_path, image.height, image.width)) {
      result.proposals = std::move(*cached);
      return result;
    }
  }
  const auto start = std::chrono::steady_clock::now();
  result.proposals = selective_search(image, options.selective_search);
  result.milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  result.computed = true;
  if (!cache_path.empty()) write_cached_proposals(cache_path, result.proposals);
  return result;
}

std::vector<ImageProposals> proposals_for_images(const std::vector<const data::ImageInfo*>& images,
                                                 const ProposalRunOptions& options) {
  const int64_t count = static_cast<int64_t>(images.size());
  std::vector<ImageProposals> found(images.size());
  // An exception may not leave an OpenMP region: each image keeps its own.
  std::vector<std::exception_ptr> failures(images.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t i = 0; i < count; ++i) {
    try {
      found[static_cast<size_t>(i)] = proposals_for_image(*images[static_cast<size_t>(i)], options);
    } catch (...) {
      failures[static_cast<size_t>(i)] = std::current_exception();
    }
  }
  for (const std::exception_ptr& failure : failures)
    if (failure) std::rethrow_exception(failure);
  return found;
}

ProposalQuality run_proposals(const data::Dataset& dataset, const ProposalRunOptions& options) {
  check_options(options.selective_search);
  if (!options.cache.empty()) std::filesystem::create_directories(options.cache);
  const std::vector<size_t> selected = selected_images(dataset, options.shard, options.limit);
  std::map<int64_t, std::vector<data::Rle>> truth;  // image id -> instance masks
  for (const data::Annotation& annotation : dataset.annotations) {
    if (!annotation.iscrowd) truth[annotation.image_id].push_back(annotation.segmentation);
  }
  struct Outcome {
    std::vector<std::array<float, 3>> best;
    int64_t proposals = 0;
    bool computed = false;
    double milliseconds = 0;
    std::string error;
  };
  std::vector<Outcome> outcomes(selected.size());
  const int64_t count = static_cast<int64_t>(selected.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t s = 0; s < count; ++s) {
    Outcome& outcome = outcomes[static_cast<size_t>(s)];
    try {
      const data::ImageInfo& info = dataset.images[selected[static_cast<size_t>(s)]];
      const ImageProposals image = proposals_for_image(info, options);
      const auto found = truth.find(info.id);
      if (found != truth.end()) outcome.best = best_ious(found->second, image.proposals);
      outcome.proposals = static_cast<int64_t>(image.proposals.size());
      outcome.computed = image.computed;
      outcome.milliseconds = image.milliseconds;
    } catch (const std::exception& error) {
      outcome.error = error.what();
    }
  }
  ProposalQuality quality;
  for (const Outcome& outcome : outcomes) {
    if (!outcome.error.empty()) throw std::runtime_error(outcome.error);
    quality.add_image(outcome.best, outcome.proposals);
    quality.computed_images += outcome.computed;
    quality.milliseconds += outcome.milliseconds;
  }
  quality.finish();
  return quality;
}

}  // namespace wise::proposals
