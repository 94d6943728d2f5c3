// Peak stimulation layer (see peak_stimulation.h): checks, buffers and kernel calls.
#include "nn/peak_stimulation.h"

#include "kernels/peak_stimulation.h"
#include "kernels/sort.h"
#include "nn/ensure.h"
#include "nn/resize.h"

namespace wise {

namespace {

kernels::PeakThresholdMode mode_of(PeakThreshold threshold) {
  switch (threshold) {
    case PeakThreshold::median: return kernels::PeakThresholdMode::median;
    case PeakThreshold::fixed: return kernels::PeakThresholdMode::fixed;
    case PeakThreshold::none: return kernels::PeakThresholdMode::none;
    case PeakThreshold::fraction_of_max: return kernels::PeakThresholdMode::fraction_of_max;
  }
  return kernels::PeakThresholdMode::median;
}

void require_plain_maps(const Tensor& tensor, Device device, const char* what) {
  require_float_on(tensor, device, what);
  WISE_CHECK(tensor.rank() == 4 && tensor.format() == MemoryFormat::plain, what,
             " must be 4-d (N, C, H, W) plain, got ", tensor.describe());
  WISE_CHECK(tensor.size(2) >= 1 && tensor.size(3) >= 1, what, " must have H, W >= 1, got ",
             tensor.describe());
}

}  // namespace

void peak_stimulation_forward(const Tensor& maps, const PeakStimulationOptions& options,
                              Tensor& peaks, Tensor& peak_values, Tensor& scores,
                              Tensor& peak_mask, Tensor& peak_counts) {
  WISE_CHECK(options.window_size >= 1 && options.window_size % 2 == 1,
             "peak_stimulation: window_size must be odd and >= 1, got ", options.window_size);
  const Device device = maps.defined() ? maps.device() : Device::cpu;
  require_plain_maps(maps, device, "peak_stimulation: maps");
  const int64_t N = maps.size(0), C = maps.size(1), H = maps.size(2), W = maps.size(3);
  const int64_t planes = N * C, plane_size = H * W;
  ensure_tensor(scores, {N, C}, DType::float32, device);
  ensure_tensor(peak_mask, {N, C, H, W}, DType::uint8, device);
  ensure_tensor(peak_counts, {N, C}, DType::int64, device);
  int64_t total = 0;
  if (planes > 0) {
    Tensor thresholds = Tensor::empty({planes}, DType::float32, device);
    Tensor scratch;
    if (options.threshold == PeakThreshold::median) {
      scratch = Tensor::empty({planes * plane_size}, DType::float32, device);
    }
    kernels::peak_thresholds(device, maps.data<float>(), planes, plane_size,
                             mode_of(options.threshold), options.threshold_value,
                             scratch.defined() ? scratch.data<float>() : nullptr,
                             thresholds.data<float>());
    kernels::peak_find(device, maps.data<float>(), thresholds.data<float>(), planes, H, W,
                       options.window_size, peak_mask.data<uint8_t>());
    kernels::peak_counts_and_scores(device, maps.data<float>(), peak_mask.data<uint8_t>(), planes,
                                    plane_size, peak_counts.data<int64_t>(),
                                    scores.data<float>());
    Tensor end_offsets = Tensor::empty({planes}, DType::int64, device);
    kernels::inclusive_scan(device, peak_counts.data<int64_t>(), end_offsets.data<int64_t>(),
                            planes);
    // K sizes the outputs: the one host read-back of the forward pass.
    total = end_offsets.view(planes - 1, {1}).to(Device::cpu).data<int64_t>()[0];
    ensure_tensor(peaks, {total, 4}, DType::int64, device);
    ensure_tensor(peak_values, {total}, DType::float32, device);
    kernels::peak_list(device, maps.data<float>(), peak_mask.data<uint8_t>(),
                       peak_counts.data<int64_t>(), end_offsets.data<int64_t>(), planes, C, H, W,
                       peaks.data<int64_t>(), peak_values.data<float>());
  } else {
    ensure_tensor(peaks, {0, 4}, DType::int64, device);
    ensure_tensor(peak_values, {0}, DType::float32, device);
  }
}

void peak_stimulation_backward(const Tensor& d_scores, const Tensor& peak_mask,
                               const Tensor& peak_counts, const PeakStimulationOptions& options,
                               Tensor& d_maps) {
  const Device device = d_maps.defined() ? d_maps.device() : Device::cpu;
  require_plain_maps(d_maps, device, "peak_stimulation_backward: d_maps");
  const Shape& shape = d_maps.shape();
  const Shape score_shape{shape[0], shape[1]};
  require_float_on(d_scores, device, "peak_stimulation_backward: d_scores");
  WISE_CHECK(d_scores.shape() == score_shape && d_scores.format() == MemoryFormat::plain,
             "peak_stimulation_backward: d_scores must be float32", score_shape,
             " plain, got ", d_scores.describe());
  WISE_CHECK(peak_mask.defined() && peak_mask.dtype() == DType::uint8 &&
                 peak_mask.device() == device && peak_mask.shape() == shape,
             "peak_stimulation_backward: peak_mask must be uint8", shape, " on ",
             kernels::device_name(device), ", got ",
             peak_mask.defined() ? peak_mask.describe() : std::string("undefined"));
  WISE_CHECK(peak_counts.defined() && peak_counts.dtype() == DType::int64 &&
                 peak_counts.device() == device && peak_counts.shape() == score_shape,
             "peak_stimulation_backward: peak_counts must be int64", score_shape, " on ",
             kernels::device_name(device), ", got ",
             peak_counts.defined() ? peak_counts.describe() : std::string("undefined"));
  kernels::peak_stimulation_backward(device, d_scores.data<float>(), peak_mask.data<uint8_t>(),
                                     peak_counts.data<int64_t>(), shape[0] * shape[1],
                                     shape[2] * shape[3],
                                     options.gradient == PeakGradient::mean,
                                     d_maps.data<float>());
}

void upsample_class_maps(const Tensor& maps, int factor, Tensor& output) {
  WISE_CHECK(maps.defined() && maps.rank() == 4,
             "upsample_class_maps: maps must be 4-d (N, C, H, W), got ",
             maps.defined() ? maps.describe() : std::string("undefined"));
  WISE_CHECK(factor >= 1, "upsample_class_maps: factor must be >= 1, got ", factor);
  resize_bilinear_forward(maps, upsample_bilinear_options(maps.shape(), factor, true), output);
}

}  // namespace wise
