// PRM's own instance segmentation (Zhou et al., "Weakly Supervised Instance Segmentation
// using Class Peak Response", CVPR 2018, Sec. 3.4): each kept peak's response map picks
// one mask proposal, the "PRM" baseline row of WISE's Table 1. WISE (pseudo_masks.h)
// picks by objectness at the peak instead; this is what it is compared against.
//
// For one image (H x W) and each peak of class c with peak response map R (H x W):
//   Q(p)   = 1 if S_c(p) < gamma * mean_q S_c(q), else 0    the class-aware background,
//            S_c the class-c response map at image size (see "Background" below)
//   score(G) = alpha * sum_{p in G} R(p) + sum_{p in contour(G)} R(p) - beta * sum_{p in G} Q(p)
//   the peak's instance = the proposal G maximising score(G) (the first of equals, in list
//   order, as PRM's strict `val > max_val`)
// alpha = balance_factor, beta = penalty_factor, gamma = background_threshold_factor;
// PRM's demo values (0.8, 1e-5, 0.95) are the defaults. The instances of the image are then
// sorted by score descending (stable, so equal scores keep peak order) and a greedy mask
// NMS keeps an instance only if its IoU (nn/masks.h, the project's one mask IoU) with every
// kept instance is < nms_threshold. The NMS is class-agnostic, over all of the image's
// instances, as PRM's instance_nms. PRM can also add a suppressed instance's response map
// into its suppressor's (merge_peak_response); that only changes the maps returned for
// display, never a mask or a score, and is not done here.
//
// contour(G): the morphological gradient, dilation minus erosion, with a
// contour_width x contour_width square (PRM: cv2.morphologyEx(MORPH_GRADIENT, ones(w, w))).
// The window of pixel (y, x) is rows y - a .. y - a + w - 1 and the same for columns,
// a = w / 2 (OpenCV's default anchor: centred for odd w, one further down-right for even
// w). Border rule, OpenCV's default for dilate and erode: pixels outside the image are
// ignored, so the window is clipped to the image. Then p is on the contour iff its clipped
// window holds both a pixel of G and a pixel not in G. (So a mask touching the image edge
// has no contour along that edge, and contour_width 1 gives an empty contour.) The test's
// pixel-by-pixel reference of this rule agreed with cv2.morphologyEx (opencv-python 5.1.0)
// on 200 random 13x17 masks at widths 1..6 when this was written.
//
// Which proposals are scored, as PRM's instance_seg: the first proposal_count of the list
// (proposal lists are sorted by objectness, proposals/proposal.h), and of those only the
// ones with min_area_fraction H W <= area < max_area_fraction H W (PRM: 0.00002 and 0.85);
// empty masks are always skipped. A peak with no such proposal gives no instance.
//
// Background: PRM's code thresholds scipy's imresize(map, (H, W), 'bicubic') of the x8
// upsampled class map, and imresize first byte-scales the map to 0..255, i.e.
// S = 255 (M - min M) / (max M - min M) (a constant map: S = 0, so Q = 0). With
// min_max_scale_background (the default) Q is computed on S = (M - min) / (max - min) as
// PRM's code does (its uint8 rounding aside); without it, on M itself. The two differ
// because the test is not offset-invariant: PSL maps are logits, often mostly negative,
// and gamma * mean of a negative mean lies above the mean. class_response must already be
// at image size: upsample_class_response does it (bilinear, align corners, like PRM's x8
// F.upsample; PRM's second, bicubic step is not reproduced).
//
// Detection score: sigmoid(class_score), the peak's class confidence from its PSL logit
// (an image-level score, the same for every instance of the class: PRM ranks nothing
// within a class). Classes kept at logit >= 0 have score >= 0.5, so they pass WISE's 0.5
// score filter.
//
// Cost, per image: each scored proposal is decoded once into its box widened by w - 1, its
// contour found once with an integral image over that box, and then every peak is scored
// against it: mask sums through column-major prefix sums of R and Q over the RLE's runs
// (O(runs) per peak), contour sums over the contour's pixel list. Serial; deterministic.
#pragma once

#include <cstdint>
#include <vector>

#include "data/dataset.h"
#include "proposals/proposal.h"

namespace wise::pseudo_masks {

struct RetrievalOptions {
  double balance_factor = 0.8;                // alpha: weight of the response inside the mask
  double penalty_factor = 1e-5;               // beta: weight of the background pixels inside it
  double background_threshold_factor = 0.95;  // gamma: background = S < gamma * mean(S)
  bool min_max_scale_background = true;       // S = the map min-max scaled to [0, 1] (PRM's code)
  int64_t contour_width = 5;                  // w >= 1: the structuring element's side
  int64_t proposal_count = 100;               // score the list's first this many; 0 = all
  double min_area_fraction = 0.00002;         // of H W: smaller proposals are skipped
  double max_area_fraction = 0.85;            // of H W: proposals at least this large are skipped
  double nms_threshold = 0.3;                 // keep an instance iff IoU < this with every kept one
};

// Throws std::invalid_argument naming the first option out of range (contour_width >= 1,
// proposal_count >= 0, 0 <= min_area_fraction <= max_area_fraction, finite factors).
void check_retrieval_options(const RetrievalOptions& options);

// One kept peak of the image. The maps are not owned; they must outlive the call.
struct PeakResponse {
  int64_t category_id = 0;
  float class_score = 0;                // the class's PSL score (a logit)
  const float* response_map = nullptr;  // R: H * W, row-major (the peak response map)
  const float* class_response = nullptr;  // M: the class's response map at image size, H * W row-major
};

struct RetrievedInstance {
  int64_t category_id = 0;
  size_t proposal = 0;         // index into the image's proposal list
  size_t peak = 0;             // index into the peaks given
  double retrieval_score = 0;  // score(G) of that proposal for that peak
  float score = 0;             // sigmoid(class_score): the detection score
};

// The class map (height, width), row-major, resized to (image_height, image_width)
// bilinearly with align corners (F.interpolate(..., mode="bilinear", align_corners=True),
// through nn/resize.h). All sizes >= 1.
std::vector<float> upsample_class_response(const float* class_map, int64_t height, int64_t width,
                                           int64_t image_height, int64_t image_width);

// score(G) of one proposal for one peak, as retrieve_instances computes it (the area and
// count rules are not applied here). The proposal must be height x width.
double retrieval_score(const proposals::Proposal& proposal, const PeakResponse& peak, int64_t height,
                       int64_t width, const RetrievalOptions& options);

// One image: every peak retrieves its best proposal, then the NMS. Returns the kept
// instances by retrieval_score descending (stable). No peaks or no scorable proposal: empty.
// Throws std::invalid_argument for a proposal of another size, a null map or bad options.
std::vector<RetrievedInstance> retrieve_instances(const std::vector<proposals::Proposal>& proposals,
                                                  const std::vector<PeakResponse>& peaks, int64_t height,
                                                  int64_t width, const RetrievalOptions& options);

// The instances as COCO detections of image `image_id`: category, score, segmentation =
// the proposal's RLE and bbox = its tight box (data::rle_to_bbox), in the instances' order.
std::vector<data::Detection> retrieved_detections(int64_t image_id, const std::vector<proposals::Proposal>& proposals,
                                                  const std::vector<RetrievedInstance>& instances);

}  // namespace wise::pseudo_masks
