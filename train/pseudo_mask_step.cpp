#include "train/pseudo_mask_step.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <cstdio>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>
#include <vector>

#include "data/coco.h"
#include "data/loader.h"
#include "data/rle.h"
#include "data/shard_files.h"
#include "kernels/check.h"
#include "pseudo_masks/mask_nms.h"
#include "train/class_map_support.h"
#include "train/prm_training.h"
#include "train/rank_shards.h"
#include "train/split_images.h"
#include "train/weak_data.h"

namespace wise {

const char* pseudo_mask_score_name(PseudoMaskScore score) {
  return score == PseudoMaskScore::class_map ? "class_map" : "objectness";
}

PseudoMaskScore parse_pseudo_mask_score(const std::string& name) {
  if (name == "class_map") return PseudoMaskScore::class_map;
  if (name == "objectness") return PseudoMaskScore::objectness;
  throw std::invalid_argument("pseudo-mask score '" + name + "': expected class_map or objectness");
}

const char* pseudo_mask_weighting_name(PseudoMaskWeighting weighting) {
  return weighting == PseudoMaskWeighting::class_map ? "class_map" : "objectness";
}

PseudoMaskWeighting parse_pseudo_mask_weighting(const std::string& name) {
  if (name == "class_map") return PseudoMaskWeighting::class_map;
  if (name == "objectness") return PseudoMaskWeighting::objectness;
  throw std::invalid_argument("pseudo-mask weighting '" + name + "': expected objectness (Eq. 1) or class_map");
}

namespace {

// Which of an image's pseudo masks survive a greedy NMS among the masks of their class,
// ranked by score (ties: peak order).
std::vector<bool> suppress_per_class(const std::vector<pseudo_masks::PseudoMask>& masks, const std::vector<float>& scores,
                                     const std::vector<proposals::Proposal>& proposals, double threshold) {
  std::vector<bool> kept(masks.size(), false);
  std::map<int64_t, std::vector<size_t>> by_class;
  for (size_t i = 0; i < masks.size(); ++i) by_class[masks[i].category_id].push_back(i);
  for (auto& [category, members] : by_class) {
    std::stable_sort(members.begin(), members.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
    std::vector<const data::Rle*> ranked;
    for (const size_t i : members) ranked.push_back(&proposals[masks[i].proposal].mask);
    for (const size_t r : pseudo_masks::greedy_mask_nms(ranked, threshold)) kept[members[r]] = true;
  }
  return kept;
}

// The step on the options' shard of the split (one process's whole run).
PseudoMaskReport pseudo_masks_of_shard(PrmClassifier& model, const DatasetSplit& split,
                                       const PseudoMaskStepOptions& options, const std::string& out_path,
                                       const std::string& results_path) {
  SplitImages split_images(split, options.limit, options.batch_size, options.proposals, options.shard);
  const data::Dataset& images = split_images.dataset();
  const std::vector<int64_t>& category_ids = split_images.category_ids();
  const int64_t classes = model.num_classes();

  PseudoMaskReport report;
  report.path = out_path;
  report.results_path = results_path;
  data::Dataset pseudo;
  pseudo.categories = images.categories;
  pseudo.images = images.images;
  std::vector<data::Detection> detections;
  while (std::optional<SplitBatch> next = split_images.next()) {
    const data::WeakBatch& batch = next->batch;
    const PrmInference inference = model.infer(batch.images.to(options.device), /*response_maps=*/false);
    const Tensor maps = inference.upsampled_maps.to(Device::cpu);
    const std::vector<float> labels = batch.labels.to_vector<float>();
    const int64_t batch_images = static_cast<int64_t>(batch.image_ids.size());
    const std::vector<proposals::ImageProposals>& batch_proposals = next->proposals;
    for (int64_t n = 0; n < batch_images; ++n) {
      const int64_t id = batch.image_ids[static_cast<size_t>(n)];
      std::vector<bool> labelled(static_cast<size_t>(classes));
      for (int64_t k = 0; k < classes; ++k) labelled[static_cast<size_t>(k)] = labels[n * classes + k] > 0.5f;
      std::vector<pseudo_masks::ClassPeak> peaks;
      for (const PixelPeak& peak : image_peaks(inference, maps, n, labelled, category_ids, batch.geometry[n],
                                               batch.images.shape(), options.peaks,
                                               model.backbone().stride(5))) {
        peaks.push_back({peak.category_id, peak.y, peak.x});
      }
      const proposals::ImageProposals& found = batch_proposals[static_cast<size_t>(n)];
      report.proposal_milliseconds += found.milliseconds;
      MaskSupport support(maps, n, inference.class_maps.size(2), inference.class_maps.size(3), batch.geometry[n],
                          model.backbone().stride(5));
      auto class_index = [&](int64_t category_id) {
        return static_cast<int64_t>(std::find(category_ids.begin(), category_ids.end(), category_id) -
                                    category_ids.begin());
      };
      pseudo_masks::CandidateWeight weight;
      if (options.weighting == PseudoMaskWeighting::class_map) {
        weight = [&](const pseudo_masks::ClassPeak& peak, size_t proposal) {
          return support.of(class_index(peak.category_id), found.proposals[proposal].mask);
        };
      }
      const pseudo_masks::ImagePseudoMasks picks =
          pseudo_masks::pseudo_masks_for_image(id, found.proposals, peaks, options.selection, weight);
      report.peaks += picks.peaks;
      report.peaks_without_proposal += picks.peaks_without_proposal;
      report.duplicates += picks.duplicates;
      auto score_of = [&](const pseudo_masks::PseudoMask& mask, const proposals::Proposal& proposal) {
        return options.score == PseudoMaskScore::objectness ? mask.objectness
                                                            : support.of(class_index(mask.category_id), proposal.mask);
      };
      std::vector<float> scores;
      for (const pseudo_masks::PseudoMask& mask : picks.masks) scores.push_back(score_of(mask, found.proposals[mask.proposal]));
      const std::vector<bool> kept = options.nms_threshold > 0
                                         ? suppress_per_class(picks.masks, scores, found.proposals, options.nms_threshold)
                                         : std::vector<bool>(picks.masks.size(), true);
      for (size_t i = 0; i < picks.masks.size(); ++i) {
        if (!kept[i]) {
          ++report.suppressed;
          continue;
        }
        if (scores[i] < options.min_score) {
          ++report.below_min_score;
          continue;
        }
        const pseudo_masks::PseudoMask& mask = picks.masks[i];
        const proposals::Proposal& proposal = found.proposals[mask.proposal];
        data::Annotation annotation;
        annotation.id = static_cast<int64_t>(pseudo.annotations.size()) + 1;
        annotation.image_id = id;
        annotation.category_id = mask.category_id;
        annotation.segmentation = proposal.mask;
        annotation.bbox = proposal.box;
        annotation.area = static_cast<double>(data::rle_area(proposal.mask));
        pseudo.annotations.push_back(annotation);
        detections.push_back({id, mask.category_id, scores[i], proposal.mask, proposal.box});
      }
    }
    report.images += batch_images;
  }
  report.masks = static_cast<int64_t>(pseudo.annotations.size());
  for (const data::Annotation& annotation : images.annotations) report.ground_truth += annotation.iscrowd ? 0 : 1;
  data::write_coco_dataset(pseudo, out_path);
  data::write_coco_results(detections, results_path);

  BothProtocols scored = evaluate_both_protocols(images, detections);
  report.voc = std::move(scored.voc);
  report.wise = std::move(scored.wise);
  return report;
}

}  // namespace

PseudoMaskReport make_pseudo_masks(PrmClassifier& model, const DatasetSplit& split,
                                   const PseudoMaskStepOptions& options, const std::string& out_path,
                                   const std::string& results_path) {
  distributed::Communicator* job = options.communicator;
  if (job == nullptr || job->world_size() == 1) return pseudo_masks_of_shard(model, split, options, out_path, results_path);

  // A job: each rank writes its shard's files beside out_path...
  const int ranks = job->world_size();
  PseudoMaskStepOptions mine = options;
  mine.shard = rank_shard(options.shard, job);
  const std::string my_path = rank_shard_path(out_path, job->rank(), ranks);
  PseudoMaskReport report;
  run_rank_shard(job, "pseudo masks", [&] {
    report = pseudo_masks_of_shard(model, split, mine, my_path, data::instance_results_path(my_path));
  });
  std::vector<double> counts{static_cast<double>(report.images),       static_cast<double>(report.peaks),
                             static_cast<double>(report.peaks_without_proposal), static_cast<double>(report.duplicates),
                             static_cast<double>(report.suppressed),   static_cast<double>(report.masks),
                             static_cast<double>(report.below_min_score), static_cast<double>(report.ground_truth),
                             report.proposal_milliseconds};
  job->all_reduce_sum(counts.data(), static_cast<int64_t>(counts.size()));
  int64_t* totals[] = {&report.images, &report.peaks, &report.peaks_without_proposal, &report.duplicates,
                       &report.suppressed, &report.masks, &report.below_min_score, &report.ground_truth};
  for (size_t i = 0; i < std::size(totals); ++i) *totals[i] = static_cast<int64_t>(counts[i]);
  report.proposal_milliseconds = counts.back();
  report.path = out_path;
  report.results_path = results_path;
  report.voc = report.wise = {};
  if (job->rank() != 0) return report;

  // ...and rank 0 joins them into one process's two files, and scores those.
  const data::Dataset images = proposals::images_of_shard(data::first_images(split.dataset, options.limit), options.shard);
  std::vector<std::string> files;
  for (int rank = 0; rank < ranks; ++rank) files.push_back(rank_shard_path(out_path, rank, ranks));
  data::merge_instance_files(images, files, out_path);
  if (data::instance_results_path(out_path) != results_path)
    std::filesystem::rename(data::instance_results_path(out_path), results_path);
  for (const std::string& file : files) {
    std::filesystem::remove(file);
    std::filesystem::remove(data::instance_results_path(file));
  }
  BothProtocols scored = evaluate_both_protocols(images, data::read_coco_results(results_path, images));
  report.voc = std::move(scored.voc);
  report.wise = std::move(scored.wise);
  return report;
}

std::string format_pseudo_mask_report(const PseudoMaskReport& report, const PseudoMaskStepOptions& options) {
  char text[512];
  std::snprintf(text, sizeof(text),
                "pseudo masks (%s by %s, seed %llu, scored by %s): %lld masks from %lld peaks on %lld images (%lld without a proposal, "
                "%lld duplicates, %lld suppressed, %lld scored below %g); against the %lld true instances: voc mAP 25/50/75 %s, wise %s, ABO %.3f",
                pseudo_masks::selection_name(options.selection.selection), pseudo_mask_weighting_name(options.weighting),
                static_cast<unsigned long long>(options.selection.seed), pseudo_mask_score_name(options.score),
                static_cast<long long>(report.masks),
                static_cast<long long>(report.peaks), static_cast<long long>(report.images),
                static_cast<long long>(report.peaks_without_proposal), static_cast<long long>(report.duplicates), static_cast<long long>(report.suppressed),
                static_cast<long long>(report.below_min_score), options.min_score,
                static_cast<long long>(report.ground_truth), format_mean_ap(report.voc).c_str(), format_mean_ap(report.wise).c_str(),
                report.voc.all.abo);
  return text;
}

}  // namespace wise
