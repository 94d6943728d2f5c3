// Pictures of WISE's first two stages, as the paper's Figure 1 (issue 21, item 7):
// train_prm --figures N draws, for the first N training images, one panel each:
//
//   row 1   the image | each labelled class's response map (x8 upsampled CAM at image
//           size, over the image) with its counted peaks as squares | the pseudo masks
//   row 2   the peak response maps (coloured up to their 99th percentile) of the image's kept peaks (models/prm.h: classes
//           predicted present, kept by train/peak_rule.h.s rule), strongest
//           first, at most max_response_maps
//
// The peaks and pseudo masks are the pseudo-mask step's own (train/pseudo_mask_step.h:
// labelled classes, the same peak rule, the same proposals and Eq. 1 draws), so a panel
// shows exactly how its image's pseudo masks were made. Written as
// <folder>/<image_id>.png; tiles are drawn at native size and scaled up pixel-exactly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/prm.h"
#include "proposals/proposal_run.h"
#include "pseudo_masks/pseudo_masks.h"
#include "train/peak_rule.h"
#include "train/weak_data.h"

namespace wise {

struct FigureStepOptions {
  int64_t count = 0;  // the first `count` images of the split; 0: no figures
  pseudo_masks::PseudoMaskOptions selection;
  proposals::ProposalRunOptions proposals;  // `images` is filled in from the split
  PeakRule peaks;  // train_prm sets its own (PrmTrainingOptions::peaks)
  int64_t max_response_maps = 6;
  int scale = 2;  // each tile pixel as scale x scale
  Device device = Device::cpu;
};

// Draws the panels; returns the files written, in image order.
std::vector<std::string> make_figures(PrmClassifier& model, const DatasetSplit& split,
                                      const FigureStepOptions& options, const std::string& folder);

}  // namespace wise
