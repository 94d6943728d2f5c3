// What train_prm's steps after training share (pseudo masks, the PRM baseline, the
// figures): the first images of a split read in order at their native size, unaugmented
// (the proposals' and the masks' size), each batch with its images' proposals.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/loader.h"
#include "evaluation/evaluation.h"
#include "proposals/proposal_run.h"
#include "proposals/shard.h"
#include "train/weak_data.h"

namespace wise {

struct SplitBatch {
  data::WeakBatch batch;
  std::vector<const data::ImageInfo*> images;           // the batch's, in its order
  std::vector<proposals::ImageProposals> proposals;     // theirs, the same order
};

class SplitImages {
 public:
  // The first `limit` images of `split` (0: all), of those the `shard`'s
  // (proposals/shard.h), in batches of `batch_size`; proposals through `proposals` (its
  // `images` folder is set to the split's, its cache created).
  SplitImages(const DatasetSplit& split, int64_t limit, int64_t batch_size, const proposals::ProposalRunOptions& proposals,
              const proposals::Shard& shard = {});
  SplitImages(const SplitImages&) = delete;
  SplitImages& operator=(const SplitImages&) = delete;

  // The next batch, or nullopt after the last.
  std::optional<SplitBatch> next();

  const data::Dataset& dataset() const { return dataset_; }  // those images and their annotations
  const std::vector<int64_t>& category_ids() const { return category_ids_; }  // in class-index order
  std::string category_name(int64_t category_id) const;

 private:
  data::Dataset dataset_;
  std::string image_folder_;
  proposals::ProposalRunOptions proposals_;
  std::map<int64_t, const data::ImageInfo*> by_id_;
  std::vector<int64_t> category_ids_;
  data::WeakLoader loader_;
};

// Rows [0, height) and columns [0, width) of a row-major plane `columns` wide: an image's
// valid region at the top left of its padded batch slot.
std::vector<float> crop_plane(const float* plane, int64_t columns, int64_t height, int64_t width);

// The steps' masks against the images' ground truth under both protocols (mask mAP at
// 0.25 / 0.5 / 0.75 and ABO, no breakdowns), and their one-line form "0.412 / 0.301 / 0.120".
struct BothProtocols {
  data::EvaluationResult voc, wise;
};
BothProtocols evaluate_both_protocols(const data::Dataset& ground_truth, const std::vector<data::Detection>& detections);
std::string format_mean_ap(const data::EvaluationResult& result);

}  // namespace wise
