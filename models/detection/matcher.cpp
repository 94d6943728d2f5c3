// Matcher and balanced sampler (see matcher.h): shape, dtype and option checks around
// kernels/matcher.h.
#include "models/detection/matcher.h"

#include "nn/ensure.h"

namespace wise {

void match_proposals(const Tensor& match_quality_matrix, const MatcherOptions& options,
                     Tensor& matches) {
  const Device device = match_quality_matrix.device();
  require_float_on(match_quality_matrix, device, "match_proposals: match_quality_matrix");
  WISE_CHECK(match_quality_matrix.rank() == 2,
             "match_proposals: match_quality_matrix must be 2-d (G gt, P proposals), got ",
             match_quality_matrix.describe());
  WISE_CHECK(options.low_threshold <= options.high_threshold,
             "match_proposals: low_threshold must be <= high_threshold, got ",
             options.low_threshold, " and ", options.high_threshold);
  const int64_t num_gt = match_quality_matrix.size(0);
  const int64_t num_proposals = match_quality_matrix.size(1);
  ensure_tensor(matches, {num_proposals}, DType::int64, device);
  if (num_proposals == 0) return;
  Tensor highest;
  if (options.allow_low_quality_matches && num_gt > 0) {
    highest = Tensor::empty({num_gt}, DType::float32, device);
  }
  kernels::match_proposals(device, num_gt > 0 ? match_quality_matrix.data<float>() : nullptr,
                           num_gt, num_proposals, static_cast<float>(options.low_threshold),
                           static_cast<float>(options.high_threshold),
                           options.allow_low_quality_matches,
                           highest.defined() ? highest.data<float>() : nullptr,
                           matches.data<int64_t>());
}

void balanced_positive_negative_sample(const Tensor& labels, const BalancedSamplerOptions& options,
                                       Generator& generator, Tensor& positive_mask,
                                       Tensor& negative_mask) {
  WISE_CHECK(labels.defined(), "balanced_positive_negative_sample: labels is undefined");
  const Device device = labels.device();
  WISE_CHECK(labels.dtype() == DType::int64 && labels.rank() == 1,
             "balanced_positive_negative_sample: labels must be int64 [N], got ",
             labels.describe());
  WISE_CHECK(options.batch_size_per_image >= 0,
             "balanced_positive_negative_sample: batch_size_per_image must be >= 0, got ",
             options.batch_size_per_image);
  WISE_CHECK(options.positive_fraction >= 0.0 && options.positive_fraction <= 1.0,
             "balanced_positive_negative_sample: positive_fraction must be in [0, 1], got ",
             options.positive_fraction);
  const int64_t n = labels.size(0);
  ensure_tensor(positive_mask, {n}, DType::uint8, device);
  ensure_tensor(negative_mask, {n}, DType::uint8, device);
  if (n == 0) return;
  Tensor keys = Tensor::empty({n}, DType::float32, device);
  Tensor order = Tensor::empty({n}, DType::int64, device);
  Tensor counts = Tensor::empty({n}, DType::int64, device);
  kernels::SamplerWorkspace workspace;
  workspace.keys = keys.data<float>();
  workspace.order = order.data<int64_t>();
  workspace.counts = counts.data<int64_t>();
  kernels::sample_positive_negative(device, labels.data<int64_t>(), n,
                                    options.batch_size_per_image, options.positive_fraction,
                                    generator.seed, generator.offset, workspace,
                                    positive_mask.data<uint8_t>(), negative_mask.data<uint8_t>());
  generator.offset += 2 * static_cast<uint64_t>(n);
}

}  // namespace wise
