#include "train/prm_baseline_step.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <vector>

#include "data/coco.h"
#include "data/shards.h"
#include "kernels/check.h"
#include "train/rank_shards.h"
#include "train/split_images.h"

namespace wise {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// The step on `shard` of the split's first `limit` images (one process's whole run).
PrmBaselineReport baseline_of_shard(PrmClassifier& model, const DatasetSplit& split,
                                    const PrmBaselineStepOptions& options, const proposals::Shard& shard,
                                    const std::string& out_path) {
  const auto start = Clock::now();
  SplitImages split_images(split, options.limit, options.batch_size, options.proposals, shard);
  const data::Dataset& images = split_images.dataset();
  const int64_t K = model.num_classes();

  PrmBaselineReport report;
  report.path = out_path;
  std::vector<data::Detection> detections;
  while (std::optional<SplitBatch> next = split_images.next()) {
    const data::WeakBatch& batch = next->batch;
    const PrmInference inference = model.infer(batch.images.to(options.device), /*response_maps=*/true);
    const Tensor class_maps = inference.class_maps.to(Device::cpu);
    const Tensor response_maps = inference.response_maps.to(Device::cpu);
    const std::vector<float> scores = inference.scores.to(Device::cpu).to_vector<float>();
    const int64_t h = class_maps.size(2), w = class_maps.size(3);
    const int64_t H = batch.images.size(2), W = batch.images.size(3);

    const int64_t* rows = inference.peaks.data<int64_t>();
    for (size_t n = 0; n < batch.image_ids.size(); ++n) {
      const data::ImageInfo& info = *next->images[n];
      const data::ImageGeometry& geometry = batch.geometry[n];
      WISE_CHECK(geometry.height == info.height && geometry.width == info.width, "PRM baseline: image ", info.id,
                 " reached the network at ", geometry.height, " x ", geometry.width, ", not its native ", info.height,
                 " x ", info.width);
      // The image's kept peaks, each with its response map and its class's map at image
      // size (upsampled over the padded input as the network saw it, then cropped).
      std::map<int64_t, std::vector<float>> class_responses;  // by class index
      std::vector<std::vector<float>> responses;
      std::vector<pseudo_masks::PeakResponse> peaks;
      for (size_t i = 0; i < inference.kept.size(); ++i) {
        const int64_t* row = rows + 4 * inference.kept[i];
        if (row[0] != static_cast<int64_t>(n)) continue;
        const int64_t k = row[1];
        if (!class_responses.count(k)) {
          const std::vector<float> full = pseudo_masks::upsample_class_response(
              class_maps.data<float>() + (row[0] * K + k) * h * w, h, w, H, W);
          class_responses[k] = crop_plane(full.data(), W, info.height, info.width);
        }
        responses.push_back(
            crop_plane(response_maps.data<float>() + static_cast<int64_t>(i) * H * W, W, info.height, info.width));
        peaks.push_back({images.categories[static_cast<size_t>(k)].id, scores[row[0] * K + k], nullptr,
                         class_responses[k].data()});
      }
      for (size_t p = 0; p < peaks.size(); ++p) peaks[p].response_map = responses[p].data();  // storage now fixed

      const proposals::ImageProposals& found = next->proposals[n];
      report.proposal_milliseconds += found.milliseconds;
      const std::vector<pseudo_masks::RetrievedInstance> instances =
          pseudo_masks::retrieve_instances(found.proposals, peaks, info.height, info.width, options.retrieval);
      for (data::Detection& detection : pseudo_masks::retrieved_detections(info.id, found.proposals, instances)) {
        detections.push_back(std::move(detection));
      }
      report.peaks += static_cast<int64_t>(peaks.size());
      report.instances += static_cast<int64_t>(instances.size());
    }
    report.images += static_cast<int64_t>(batch.image_ids.size());
  }
  for (const data::Annotation& annotation : images.annotations) report.ground_truth += annotation.iscrowd ? 0 : 1;
  data::write_coco_results(detections, out_path);

  BothProtocols scored = evaluate_both_protocols(images, detections);
  report.voc = std::move(scored.voc);
  report.wise = std::move(scored.wise);
  report.seconds = seconds_since(start);
  return report;
}

}  // namespace

PrmBaselineReport run_prm_baseline(PrmClassifier& model, const DatasetSplit& split,
                                   const PrmBaselineStepOptions& options, const std::string& out_path) {
  pseudo_masks::check_retrieval_options(options.retrieval);
  distributed::Communicator* job = options.communicator;
  if (job == nullptr || job->world_size() == 1) return baseline_of_shard(model, split, options, {}, out_path);

  // A job: each rank writes its shard's results beside out_path...
  const auto start = Clock::now();
  const int ranks = job->world_size();
  PrmBaselineReport mine;
  run_rank_shard(job, "the PRM baseline", [&] {
    mine = baseline_of_shard(model, split, options, rank_shard({}, job),
                               rank_shard_path(out_path, job->rank(), ranks));
  });
  std::vector<double> counts{static_cast<double>(mine.images), static_cast<double>(mine.peaks),
                             static_cast<double>(mine.instances), static_cast<double>(mine.ground_truth),
                             mine.proposal_milliseconds};
  job->all_reduce_sum(counts.data(), static_cast<int64_t>(counts.size()));
  PrmBaselineReport report;
  report.path = out_path;
  report.images = static_cast<int64_t>(counts[0]);
  report.peaks = static_cast<int64_t>(counts[1]);
  report.instances = static_cast<int64_t>(counts[2]);
  report.ground_truth = static_cast<int64_t>(counts[3]);
  report.proposal_milliseconds = counts[4];
  if (job->rank() != 0) return report;

  // ...and rank 0 joins them into one process's file (each rank's images: its shard of
  // the same list), and scores it.
  const data::Dataset images = data::first_images(split.dataset, options.limit);
  std::vector<data::ResultShard> shards;
  for (int rank = 0; rank < ranks; ++rank) {
    const data::Dataset covered = proposals::images_of_shard(images, rank_shard({}, rank, ranks));
    const std::string file = rank_shard_path(out_path, rank, ranks);
    shards.push_back({file, covered.images, data::read_coco_results(file, covered)});
  }
  const std::vector<data::Detection> detections = data::merge_result_shards(images, shards);
  data::write_coco_results(detections, out_path);
  for (const data::ResultShard& shard : shards) std::filesystem::remove(shard.name);
  BothProtocols scored = evaluate_both_protocols(images, detections);
  report.voc = std::move(scored.voc);
  report.wise = std::move(scored.wise);
  report.seconds = seconds_since(start);
  return report;
}

std::string format_prm_baseline_report(const PrmBaselineReport& report) {
  char text[512];
  std::snprintf(text, sizeof(text),
                "PRM baseline (peak response retrieval): %lld instances from %lld peaks on %lld images (%lld true "
                "instances); voc mAP 25/50/75 %s, wise %s, ABO %.3f; %.0f s (selective search %.0f s)",
                static_cast<long long>(report.instances), static_cast<long long>(report.peaks),
                static_cast<long long>(report.images), static_cast<long long>(report.ground_truth),
                format_mean_ap(report.voc).c_str(), format_mean_ap(report.wise).c_str(), report.voc.all.abo, report.seconds,
                report.proposal_milliseconds / 1000.0);
  return text;
}

}  // namespace wise
