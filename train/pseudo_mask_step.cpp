#include "train/pseudo_mask_step.h"

#include <cmath>
#include <filesystem>
#include <cstdio>
#include <map>
#include <optional>
#include <vector>

#include "data/coco.h"
#include "data/loader.h"
#include "data/rle.h"
#include "kernels/check.h"
#include "train/prm_training.h"
#include "train/split_images.h"
#include "train/weak_data.h"

namespace wise {
PseudoMaskReport make_pseudo_masks(PrmClassifier& model, const DatasetSplit& split,
                                   const PseudoMaskStepOptions& options, const std::string& out_path) {
  SplitImages split_images(split, options.limit, options.batch_size, options.proposals);
  const data::Dataset& images = split_images.dataset();
  const std::vector<int64_t>& category_ids = split_images.category_ids();
  const int64_t classes = model.num_classes();

  PseudoMaskReport report;
  report.path = out_path;
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
      const pseudo_masks::ImagePseudoMasks picks =
          pseudo_masks::pseudo_masks_for_image(id, found.proposals, peaks, options.selection);
      report.peaks += picks.peaks;
      report.peaks_without_proposal += picks.peaks_without_proposal;
      report.duplicates += picks.duplicates;
      for (const pseudo_masks::PseudoMask& mask : picks.masks) {
        const proposals::Proposal& proposal = found.proposals[mask.proposal];
        data::Annotation annotation;
        annotation.id = static_cast<int64_t>(pseudo.annotations.size()) + 1;
        annotation.image_id = id;
        annotation.category_id = mask.category_id;
        annotation.segmentation = proposal.mask;
        annotation.bbox = proposal.box;
        annotation.area = static_cast<double>(data::rle_area(proposal.mask));
        pseudo.annotations.push_back(annotation);
        detections.push_back({id, mask.category_id, mask.objectness, proposal.mask, proposal.box});
      }
    }
    report.images += batch_images;
  }
  report.masks = static_cast<int64_t>(pseudo.annotations.size());
  for (const data::Annotation& annotation : images.annotations) report.ground_truth += annotation.iscrowd ? 0 : 1;
  data::write_coco_dataset(pseudo, out_path);

  BothProtocols scored = evaluate_both_protocols(images, detections);
  report.voc = std::move(scored.voc);
  report.wise = std::move(scored.wise);
  return report;
}

std::string format_pseudo_mask_report(const PseudoMaskReport& report, const PseudoMaskStepOptions& options) {
  char text[512];
  std::snprintf(text, sizeof(text),
                "pseudo masks (%s, seed %llu): %lld masks from %lld peaks on %lld images (%lld without a proposal, "
                "%lld duplicates); against the %lld true instances: voc mAP 25/50/75 %s, wise %s, ABO %.3f",
                pseudo_masks::selection_name(options.selection.selection),
                static_cast<unsigned long long>(options.selection.seed), static_cast<long long>(report.masks),
                static_cast<long long>(report.peaks), static_cast<long long>(report.images),
                static_cast<long long>(report.peaks_without_proposal), static_cast<long long>(report.duplicates),
                static_cast<long long>(report.ground_truth), format_mean_ap(report.voc).c_str(), format_mean_ap(report.wise).c_str(),
                report.voc.all.abo);
  return text;
}

}  // namespace wise
