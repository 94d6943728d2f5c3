// PRM's proposal retrieval and instance NMS (see peak_retrieval.h): per peak, tables of
// prefix sums built once; per proposal, its runs and contour built once and scored against
// every peak; then the class-agnostic mask NMS through nn/masks.h.
#include "pseudo_masks/peak_retrieval.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

#include "nn/masks.h"
#include "nn/resize.h"
#include "nn/tensor.h"
#include "proposals/packed_mask.h"
#include "pseudo_masks/mask_nms.h"

namespace wise::pseudo_masks {

void check_retrieval_options(const RetrievalOptions& options) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("retrieval options: " + what); };
  if (options.contour_width < 1)
    fail("contour_width must be >= 1, got " + std::to_string(options.contour_width));
  if (options.proposal_count < 0)
    fail("proposal_count must be >= 0 (0 = all), got " + std::to_string(options.proposal_count));
  if (!(options.min_area_fraction >= 0 && options.min_area_fraction <= options.max_area_fraction))
    fail("area fractions must satisfy 0 <= min_area_fraction <= max_area_fraction, got " +
         std::to_string(options.min_area_fraction) + " and " + std::to_string(options.max_area_fraction));
  if (!std::isfinite(options.balance_factor) || !std::isfinite(options.penalty_factor) ||
      !std::isfinite(options.background_threshold_factor) || !std::isfinite(options.nms_threshold))
    fail("balance_factor, penalty_factor, background_threshold_factor and nms_threshold must be finite");
}

std::vector<float> upsample_class_response(const float* class_map, int64_t height, int64_t width,
                                           int64_t image_height, int64_t image_width) {
  if (class_map == nullptr) throw std::invalid_argument("upsample_class_response: class_map is null");
  if (height < 1 || width < 1 || image_height < 1 || image_width < 1)
    throw std::invalid_argument("upsample_class_response: sizes must be >= 1, got map " + std::to_string(height) +
                                " x " + std::to_string(width) + " to " + std::to_string(image_height) + " x " +
                                std::to_string(image_width));
  const Tensor input = Tensor::from_vector<float>(
      {1, 1, height, width}, std::vector<float>(class_map, class_map + height * width));
  ResizeBilinearOptions resize;
  resize.output_height = image_height;
  resize.output_width = image_width;
  resize.align_corners = true;
  Tensor output;
  resize_bilinear_forward(input, resize, output);
  return output.to_vector<float>();
}

namespace {

// ---- Per peak: the sums over a mask become differences of prefix sums ---------------

// prefix[k] = sum of map over the first k pixels in COCO's column-major order (pixel
// k = x H + y), so the sum over an RLE run [s, e) is prefix[e] - prefix[s]. (H W + 1)
std::vector<double> column_major_prefix(const std::vector<double>& map_row_major, int64_t H, int64_t W) {
  std::vector<double> prefix(static_cast<size_t>(H * W + 1), 0.0);
  for (int64_t x = 0; x < W; ++x)
    for (int64_t y = 0; y < H; ++y) {
      const int64_t k = x * H + y;
      prefix[static_cast<size_t>(k + 1)] = prefix[static_cast<size_t>(k)] + map_row_major[static_cast<size_t>(y * W + x)];
    }
  return prefix;
}

// Q (H W, row-major, 0 or 1): S < gamma mean(S), S = M min-max scaled to [0, 1] (a
// constant M: S = 0) or M itself (header, "Background").
std::vector<double> background_of(const float* M, int64_t H, int64_t W, const RetrievalOptions& options) {
  const size_t n = static_cast<size_t>(H * W);
  std::vector<double> S(M, M + n);
  if (options.min_max_scale_background) {
    const auto [low, high] = std::minmax_element(S.begin(), S.end());
    const double minimum = *low, range = *high - *low;
    for (double& s : S) s = range > 0 ? (s - minimum) / range : 0.0;
  }
  const double threshold = options.background_threshold_factor * std::accumulate(S.begin(), S.end(), 0.0) / static_cast<double>(n);
  for (double& s : S) s = s < threshold ? 1.0 : 0.0;
  return S;
}

struct PeakTables {
  const float* response_map = nullptr;   // R, for the contour's pixels
  std::vector<double> response_prefix;   // of R, column-major
  std::vector<double> background_prefix;  // of Q, column-major
};

PeakTables peak_tables(const PeakResponse& peak, int64_t H, int64_t W, const RetrievalOptions& options) {
  if (peak.response_map == nullptr || peak.class_response == nullptr)
    throw std::invalid_argument("retrieval: a peak of category " + std::to_string(peak.category_id) +
                                " has a null response_map or class_response (expected H * W floats each)");
  PeakTables tables;
  tables.response_map = peak.response_map;
  tables.response_prefix = column_major_prefix(std::vector<double>(peak.response_map, peak.response_map + H * W), H, W);
  tables.background_prefix = column_major_prefix(background_of(peak.class_response, H, W, options), H, W);
  return tables;
}

// ---- Per proposal: area, box and contour, found once ---------------------------------

struct ProposalShape {
  int64_t area = 0;
  int64_t y0 = 0, y1 = -1, x0 = 0, x1 = -1;  // the tight box, inclusive (empty: y1 = x1 = -1)
  std::vector<int64_t> contour;  // row-major pixel indices y W + x, in row-major order
};

// Reused between proposals.
struct Workspace {
  std::vector<uint8_t> mask;      // the proposal in its widened box, row-major
  std::vector<int32_t> integral;  // its integral image, (rows + 1) x (columns + 1)
};

// The RLE's area and tight box from its runs (checking they sum to H W): a run inside one
// column spans its rows; a run across columns covers the first column's bottom and the
// last one's top, i.e. every row.
void measure(const data::Rle& rle, ProposalShape& shape) {
  const int64_t H = rle.height, W = rle.width;
  shape.area = 0;
  shape.y0 = H, shape.y1 = -1, shape.x0 = W, shape.x1 = -1;
  shape.contour.clear();
  int64_t position = 0;
  for (size_t run = 0; run < rle.counts.size(); ++run) {
    const int64_t start = position;
    position += rle.counts[run];
    if (run % 2 == 0 || rle.counts[run] == 0) continue;
    const int64_t last = position - 1;
    shape.area += rle.counts[run];
    shape.x0 = std::min(shape.x0, start / H);
    shape.x1 = std::max(shape.x1, last / H);
    if (start / H == last / H) {
      shape.y0 = std::min(shape.y0, start % H);
      shape.y1 = std::max(shape.y1, last % H);
    } else {
      shape.y0 = 0;
      shape.y1 = H - 1;
    }
  }
  if (position != H * W)
    throw std::invalid_argument("retrieval: a proposal's RLE runs sum to " + std::to_string(position) +
                                ", expected height * width = " + std::to_string(H * W));
}

// The contour of a measured, non-empty RLE (header: the window of (y, x) is rows
// y - a .. y - a + w - 1, a = w / 2, likewise columns, clipped to the image; (y, x) is on
// the contour iff its window holds pixels both in and out of the mask).
void find_contour(const data::Rle& rle, int64_t contour_width, Workspace& workspace, ProposalShape& shape) {
  const int64_t H = rle.height, W = rle.width;
  shape.contour.clear();
  // Every pixel whose window reaches the box lies in the box widened by w - 1; so do the
  // windows' mask pixels, so counting inside the widened box is exact.
  const int64_t w = contour_width, a = w / 2, margin = w - 1;
  const int64_t by0 = std::max<int64_t>(0, shape.y0 - margin), by1 = std::min(H - 1, shape.y1 + margin);
  const int64_t bx0 = std::max<int64_t>(0, shape.x0 - margin), bx1 = std::min(W - 1, shape.x1 + margin);
  const int64_t rows = by1 - by0 + 1, columns = bx1 - bx0 + 1;
  workspace.mask.assign(static_cast<size_t>(rows * columns), 0);
  int64_t position = 0;
  for (size_t run = 0; run < rle.counts.size(); ++run) {
    const int64_t start = position, end = position + rle.counts[run];
    position = end;
    if (run % 2 == 0) continue;
    for (int64_t k = start; k < end;) {  // one column segment at a time
      const int64_t x = k / H, column_end = std::min(end, (x + 1) * H);
      for (int64_t y = k % H, stop = y + (column_end - k); y < stop; ++y)
        workspace.mask[static_cast<size_t>((y - by0) * columns + (x - bx0))] = 1;
      k = column_end;
    }
  }
  const int64_t stride = columns + 1;
  workspace.integral.assign(static_cast<size_t>((rows + 1) * stride), 0);
  int32_t* I = workspace.integral.data();
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < columns; ++j)
      I[(i + 1) * stride + j + 1] = I[i * stride + j + 1] + I[(i + 1) * stride + j] - I[i * stride + j] +
                                    workspace.mask[static_cast<size_t>(i * columns + j)];

  for (int64_t y = by0; y <= by1; ++y) {
    const int64_t top = y - a, bottom = y - a + w - 1;  // inclusive
    const int64_t window_rows = std::min(H - 1, bottom) - std::max<int64_t>(0, top) + 1;
    const int64_t i0 = std::max(by0, top) - by0, i1 = std::min(by1, bottom) - by0 + 1;
    for (int64_t x = bx0; x <= bx1; ++x) {
      const int64_t left = x - a, right = x - a + w - 1;
      const int64_t window = window_rows * (std::min(W - 1, right) - std::max<int64_t>(0, left) + 1);
      const int64_t j0 = std::max(bx0, left) - bx0, j1 = std::min(bx1, right) - bx0 + 1;
      const int64_t inside = I[i1 * stride + j1] - I[i0 * stride + j1] - I[i1 * stride + j0] + I[i0 * stride + j0];
      if (inside > 0 && inside < window) shape.contour.push_back(y * W + x);
    }
  }
}

double run_sum(const data::Rle& rle, const std::vector<double>& prefix) {
  double sum = 0;
  int64_t position = 0;
  for (size_t run = 0; run < rle.counts.size(); ++run) {
    const int64_t start = position;
    position += rle.counts[run];
    if (run % 2 == 1) sum += prefix[static_cast<size_t>(position)] - prefix[static_cast<size_t>(start)];
  }
  return sum;
}

// PRM Sec. 3.4: alpha sum_G R + sum_contour(G) R - beta sum_G Q.
double score_of(const data::Rle& rle, const ProposalShape& shape, const PeakTables& peak,
                const RetrievalOptions& options) {
  double contour = 0;
  for (const int64_t p : shape.contour) contour += peak.response_map[p];
  return options.balance_factor * run_sum(rle, peak.response_prefix) + contour -
         options.penalty_factor * run_sum(rle, peak.background_prefix);
}

void check_size(const proposals::Proposal& proposal, size_t index, int64_t H, int64_t W) {
  if (proposal.mask.height != H || proposal.mask.width != W)
    throw std::invalid_argument("retrieval: proposal " + std::to_string(index) + " is " +
                                std::to_string(proposal.mask.height) + " x " + std::to_string(proposal.mask.width) +
                                ", expected the image's " + std::to_string(H) + " x " + std::to_string(W));
}

float sigmoid(float logit) { return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(logit)))); }

// PRM's instance_nms over instances sorted by score (mask_nms.h).
std::vector<RetrievedInstance> mask_nms(const std::vector<proposals::Proposal>& proposals,
                                        const std::vector<RetrievedInstance>& sorted, double threshold) {
  std::vector<const data::Rle*> masks;
  masks.reserve(sorted.size());
  for (const RetrievedInstance& instance : sorted) masks.push_back(&proposals[instance.proposal].mask);
  std::vector<RetrievedInstance> out;
  for (const size_t i : greedy_mask_nms(masks, threshold)) out.push_back(sorted[i]);
  return out;
}

}  // namespace

double retrieval_score(const proposals::Proposal& proposal, const PeakResponse& peak, int64_t height,
                       int64_t width, const RetrievalOptions& options) {
  check_retrieval_options(options);
  check_size(proposal, 0, height, width);
  const PeakTables tables = peak_tables(peak, height, width, options);
  Workspace workspace;
  ProposalShape shape;
  measure(proposal.mask, shape);
  if (shape.area > 0) find_contour(proposal.mask, options.contour_width, workspace, shape);
  return score_of(proposal.mask, shape, tables, options);
}

std::vector<RetrievedInstance> retrieve_instances(const std::vector<proposals::Proposal>& proposals,
                                                  const std::vector<PeakResponse>& peaks, int64_t height,
                                                  int64_t width, const RetrievalOptions& options) {
  check_retrieval_options(options);
  if (proposals.empty() || peaks.empty()) return {};
  std::vector<PeakTables> tables;
  tables.reserve(peaks.size());
  for (const PeakResponse& peak : peaks) tables.push_back(peak_tables(peak, height, width, options));

  const size_t count = options.proposal_count == 0
                           ? proposals.size()
                           : std::min(proposals.size(), static_cast<size_t>(options.proposal_count));
  const double image_area = static_cast<double>(height * width);
  std::vector<double> best(peaks.size(), -std::numeric_limits<double>::infinity());
  std::vector<size_t> best_proposal(peaks.size(), proposals.size());  // none yet
  Workspace workspace;
  ProposalShape shape;
  for (size_t k = 0; k < count; ++k) {
    check_size(proposals[k], k, height, width);
    measure(proposals[k].mask, shape);
    const double area = static_cast<double>(shape.area);
    if (shape.area == 0 || area < options.min_area_fraction * image_area ||
        area >= options.max_area_fraction * image_area)
      continue;
    find_contour(proposals[k].mask, options.contour_width, workspace, shape);
    for (size_t p = 0; p < peaks.size(); ++p) {
      const double score = score_of(proposals[k].mask, shape, tables[p], options);
      if (score > best[p]) {  // strict: the first of equal scores stays
        best[p] = score;
        best_proposal[p] = k;
      }
    }
  }

  std::vector<RetrievedInstance> instances;
  for (size_t p = 0; p < peaks.size(); ++p) {
    if (best_proposal[p] == proposals.size()) continue;
    instances.push_back({peaks[p].category_id, best_proposal[p], p, best[p], sigmoid(peaks[p].class_score)});
  }
  if (instances.empty()) return {};
  std::stable_sort(instances.begin(), instances.end(), [](const RetrievedInstance& a, const RetrievedInstance& b) {
    return a.retrieval_score > b.retrieval_score;
  });
  return mask_nms(proposals, instances, options.nms_threshold);
}

std::vector<data::Detection> retrieved_detections(int64_t image_id, const std::vector<proposals::Proposal>& proposals,
                                                  const std::vector<RetrievedInstance>& instances) {
  std::vector<data::Detection> detections;
  detections.reserve(instances.size());
  for (const RetrievedInstance& instance : instances) {
    if (instance.proposal >= proposals.size())
      throw std::invalid_argument("retrieved_detections: instance of proposal " + std::to_string(instance.proposal) +
                                  ", expected an index < the " + std::to_string(proposals.size()) + " proposals");
    data::Detection detection;
    detection.image_id = image_id;
    detection.category_id = instance.category_id;
    detection.score = instance.score;
    detection.segmentation = proposals[instance.proposal].mask;
    detection.bbox = data::rle_to_bbox(detection.segmentation);
    detections.push_back(std::move(detection));
  }
  return detections;
}

}  // namespace wise::pseudo_masks
