// wise_bench_kernels: times the detection kernels of issue 13 (RoIAlign, NMS, box IoU,
// peak stimulation, mask IoU, mask pasting) on CPU or CUDA.
//
//   wise_bench_kernels [--device cpu|cuda] [--small]    our own table (issue 13's sizes)
//   wise_bench_kernels [--device cpu|cuda] --serve      timing server for
//                                                       benchmarks/kernels_vs_torch.py
// Server protocol, one request per line, one answer per line:
//   <case> <sizes...>  -> "<seconds per call> <calls> <digest numbers...>"
//   sgemm M N K        -> "<seconds per call> <calls>"   (the machine's probe)
//   quit
// Cases and sizes (the driver's and the table's):
//   roi_align_forward  K C P H W    K RoIs, C channels, P x P bins, from a 1 x C x H x W map
//   roi_align_backward K C P H W
//   nms N | batched_nms N classes | box_iou N M
//   peak_stimulation N C H W        forward + backward (mean gradient)
//   mask_iou n m H W | paste_masks K M H W   (K masks of M x M into an H x W image)
// Inputs come from a counter-based hash (splitmix64 of seed and index) computed in
// double, so kernels_vs_torch.py rebuilds bitwise the same inputs in numpy and compares
// torch's result with the digest (sums and sampled values) we return. Before a case is
// timed it is checked once against a small independent computation here (a benchmark
// of a wrong kernel is worthless). Each timing: one warm-up call, then calls until
// 0.1 s have passed (at least 2); on CUDA every call is followed by a synchronise.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "apps/bench/serve.h"
#include "apps/bench/timing.h"
#include "kernels/device.h"
#include "kernels/gemm.h"
#include "kernels/memory.h"
#include "models/detection/boxes.h"
#include "models/detection/paste_masks.h"
#include "nn/masks.h"
#include "nn/peak_stimulation.h"
#include "nn/roi_align.h"
#include "nn/tensor.h"

namespace {

using namespace wise;
namespace k = wise::kernels;

Device g_device = Device::cpu;

// ---- Inputs (mirrored exactly by kernels_vs_torch.py's `uniform`) ----
uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
// Uniform in [0, 1) with 24 bits, exact in float and double.
double uniform(uint64_t seed, uint64_t index) {
  return double(splitmix64(seed * 0x100000000ull + index) >> 40) / 16777216.0;
}

// n boxes (x1, y1, x2, y2) in a width x height image: centres anywhere, sizes 16 px to
// half the image, so that many overlap (NMS's realistic load).
std::vector<float> make_boxes(int64_t n, double width, double height, uint64_t seed) {
  std::vector<float> boxes(size_t(n * 4));
  for (int64_t i = 0; i < n; ++i) {
    const double cx = uniform(seed, uint64_t(4 * i)) * width, cy = uniform(seed, uint64_t(4 * i + 1)) * height;
    const double w = 16.0 + uniform(seed, uint64_t(4 * i + 2)) * (width / 2.0 - 16.0);
    const double h = 16.0 + uniform(seed, uint64_t(4 * i + 3)) * (height / 2.0 - 16.0);
    boxes[size_t(4 * i)] = float(std::max(cx - w / 2.0, 0.0));
    boxes[size_t(4 * i + 1)] = float(std::max(cy - h / 2.0, 0.0));
    boxes[size_t(4 * i + 2)] = float(std::min(cx + w / 2.0, width));
    boxes[size_t(4 * i + 3)] = float(std::min(cy + h / 2.0, height));
  }
  return boxes;
}
std::vector<float> make_uniform(int64_t n, uint64_t seed, double low, double high) {
  std::vector<float> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[size_t(i)] = float(low + (high - low) * uniform(seed, uint64_t(i)));
  return values;
}
// n elliptic blobs in H x W, centred in the middle half so that many pairs overlap.
std::vector<uint8_t> make_blobs(int64_t n, int64_t height, int64_t width, uint64_t seed) {
  std::vector<uint8_t> masks(size_t(n * height * width));
  for (int64_t i = 0; i < n; ++i) {
    const double cx = (0.25 + 0.5 * uniform(seed, uint64_t(4 * i))) * double(width);
    const double cy = (0.25 + 0.5 * uniform(seed, uint64_t(4 * i + 1))) * double(height);
    const double rx = (0.05 + 0.2 * uniform(seed, uint64_t(4 * i + 2))) * double(width);
    const double ry = (0.05 + 0.2 * uniform(seed, uint64_t(4 * i + 3))) * double(height);
    for (int64_t y = 0; y < height; ++y)
      for (int64_t x = 0; x < width; ++x) {
        const double dx = (double(x) - cx) / rx, dy = (double(y) - cy) / ry;
        masks[size_t((i * height + y) * width + x)] = dx * dx + dy * dy <= 1.0 ? 1 : 0;
      }
  }
  return masks;
}
template <class T>
Tensor on_device(const Shape& shape, const std::vector<T>& values) {
  return Tensor::from_vector(shape, values).to(g_device);
}

// ---- Digest: the total and 16 values at fixed positions (the driver takes the same) ----
std::string digest(const std::vector<double>& values) {
  std::ostringstream out;
  out.precision(17);  // index sums are exact integers
  double total = 0.0;
  for (double v : values) total += v;
  out << values.size() << ' ' << total;
  for (uint64_t j = 0; j < 16 && !values.empty(); ++j) out << ' ' << values[size_t(j * values.size() / 16)];
  return out.str();
}
template <class T>
std::vector<double> host_values(const Tensor& tensor) {
  const std::vector<T> values = tensor.to(Device::cpu).to_vector<T>();
  return std::vector<double>(values.begin(), values.end());
}

void require(bool condition, const std::string& what) {
  if (!condition) throw Error("validation failed: " + what);
}

using bench::Timing;
Timing time_calls(const std::function<void()>& run) {
  return bench::time_calls(run, [] { k::synchronize(g_device); });
}

struct Result {
  Timing timing;
  std::string digest;
};

// ---- Independent checks ----
// torchvision's bilinear sample (legacy, aligned = false), in double.
double bilinear(const std::vector<float>& plane, int64_t H, int64_t W, double y, double x) {
  if (y < -1.0 || y > double(H) || x < -1.0 || x > double(W)) return 0.0;
  y = std::max(y, 0.0);
  x = std::max(x, 0.0);
  int64_t y0 = int64_t(y), x0 = int64_t(x), y1 = y0 + 1, x1 = x0 + 1;
  if (y0 >= H - 1) y0 = y1 = H - 1, y = double(y0);
  if (x0 >= W - 1) x0 = x1 = W - 1, x = double(x0);
  const double ly = y - double(y0), lx = x - double(x0);
  auto at = [&](int64_t r, int64_t c) { return double(plane[size_t(r * W + c)]); };
  return (1 - ly) * (1 - lx) * at(y0, x0) + (1 - ly) * lx * at(y0, x1) + ly * (1 - lx) * at(y1, x0) + ly * lx * at(y1, x1);
}

Result roi_align_case(bool backward, int64_t K, int64_t C, int64_t P, int64_t H, int64_t W) {
  const float scale = 0.25f;  // the map is P2 of a 4H x 4W image
  std::vector<float> box_values = make_boxes(K, 4.0 * double(W), 4.0 * double(H), 11);
  std::vector<float> roi_values(size_t(K * 5), 0.0f);
  for (int64_t i = 0; i < K; ++i)
    for (int j = 0; j < 4; ++j) roi_values[size_t(5 * i + 1 + j)] = box_values[size_t(4 * i + j)];
  const std::vector<float> map = make_uniform(C * H * W, 12, -1.0, 1.0);
  const std::vector<float> gradient = make_uniform(K * C * P * P, 13, -1.0, 1.0);
  Tensor input = on_device({1, C, H, W}, map), rois = on_device({K, 5}, roi_values);
  Tensor d_output = on_device({K, C, P, P}, gradient);
  RoiAlignOptions options;
  options.pooled_height = options.pooled_width = P;
  options.spatial_scale = scale;
  options.sampling_ratio = 2;  // Mask R-CNN's
  Tensor output = Tensor::empty({K, C, P, P}, DType::float32, g_device);
  Tensor d_input = Tensor::zeros({1, C, H, W}, DType::float32, g_device);
  roi_align_forward(input, rois, options, output);
  const std::vector<double> out = host_values<float>(output);
  if (!backward) {
    // Sampled bins against the definition: mean of 2 x 2 bilinear samples per bin.
    for (int64_t s = 0; s < 32; ++s) {
      const int64_t index = int64_t(splitmix64(uint64_t(s)) % uint64_t(K * C * P * P));
      const int64_t r = index / (C * P * P), c = index / (P * P) % C, ph = index / P % P, pw = index % P;
      const float* roi = &roi_values[size_t(5 * r + 1)];
      const double x1 = double(roi[0] * scale), y1 = double(roi[1] * scale);
      const double bin_w = std::max(double(roi[2] * scale) - x1, 1.0) / double(P);
      const double bin_h = std::max(double(roi[3] * scale) - y1, 1.0) / double(P);
      const std::vector<float> plane(map.begin() + c * H * W, map.begin() + (c + 1) * H * W);
      double expected = 0.0;
      for (int iy = 0; iy < 2; ++iy)
        for (int ix = 0; ix < 2; ++ix)
          expected += bilinear(plane, H, W, y1 + double(ph) * bin_h + (iy + 0.5) * bin_h / 2.0,
                               x1 + double(pw) * bin_w + (ix + 0.5) * bin_w / 2.0) / 4.0;
      require(std::abs(out[size_t(index)] - expected) <= 1e-4, concat("roi_align_forward bin ", index, ": ",
              out[size_t(index)], " vs definition ", expected));
    }
    return {time_calls([&] { roi_align_forward(input, rois, options, output); }), digest(out)};
  }
  // The backward is the adjoint of the (linear) forward: <d_output, forward(x)> = <backward(d_output), x>.
  roi_align_backward(d_output, rois, options, d_input);
  const std::vector<double> din = host_values<float>(d_input);
  double left = 0.0, right = 0.0, scale_sum = 0.0;
  for (size_t i = 0; i < out.size(); ++i) left += double(gradient[i]) * out[i], scale_sum += std::abs(gradient[i] * out[i]);
  for (size_t i = 0; i < din.size(); ++i) right += din[i] * double(map[i]);
  require(std::abs(left - right) <= 1e-4 * scale_sum, concat("roi_align_backward adjoint: ", left, " vs ", right));
  return {time_calls([&] { roi_align_backward(d_output, rois, options, d_input); }), digest(din)};
}

double iou_of(const float* a, const float* b) {
  const double iw = std::max(0.0, double(std::min(a[2], b[2])) - double(std::max(a[0], b[0])));
  const double ih = std::max(0.0, double(std::min(a[3], b[3])) - double(std::max(a[1], b[1])));
  const double inter = iw * ih;
  const double area_a = (double(a[2]) - a[0]) * (double(a[3]) - a[1]), area_b = (double(b[2]) - b[0]) * (double(b[3]) - b[1]);
  return inter / (area_a + area_b - inter);
}

Result nms_case(int64_t N, int64_t classes) {
  const std::vector<float> box_values = make_boxes(N, 1067.0, 800.0, 21);
  const std::vector<float> score_values = make_uniform(N, 22, 0.0, 1.0);
  std::vector<int64_t> class_values(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) class_values[size_t(i)] = int64_t(uniform(23, uint64_t(i)) * double(classes));
  Tensor boxes = on_device({N, 4}, box_values), scores = on_device({N}, score_values);
  Tensor idxs = on_device({N}, class_values), keep;
  NmsOptions options;
  options.iou_threshold = 0.5;
  auto run = [&] { classes > 1 ? batched_nms(boxes, scores, idxs, options, keep) : nms(boxes, scores, options, keep); };
  run();
  const std::vector<int64_t> kept = keep.to(Device::cpu).to_vector<int64_t>();
  // Properties of greedy NMS: kept in descending score; no two kept (of a class) overlap
  // above the threshold; every suppressed box overlaps a higher-scoring kept one.
  std::vector<char> is_kept(size_t(N), 0);
  for (size_t i = 0; i < kept.size(); ++i) {
    is_kept[size_t(kept[i])] = 1;
    if (i) require(score_values[size_t(kept[i - 1])] >= score_values[size_t(kept[i])], "nms keep order");
  }
  for (int64_t s = 0; s < std::min<int64_t>(N, 200); ++s) {
    const int64_t i = int64_t(splitmix64(uint64_t(s)) % uint64_t(N));
    bool suppressed_by_kept = false;
    for (int64_t j : kept) {
      if (j == i || class_values[size_t(j)] != class_values[size_t(i)]) continue;
      const double iou = iou_of(&box_values[size_t(4 * i)], &box_values[size_t(4 * j)]);
      const bool higher = score_values[size_t(j)] > score_values[size_t(i)] ||
                          (score_values[size_t(j)] == score_values[size_t(i)] && j < i);
      if (is_kept[size_t(i)]) require(!(iou > 0.5 + 1e-6), concat("nms kept ", i, " and ", j, " with IoU ", iou));
      if (higher && iou > 0.5 - 1e-6) suppressed_by_kept = true;
    }
    if (!is_kept[size_t(i)]) require(suppressed_by_kept, concat("nms dropped box ", i, " that nothing suppresses"));
  }
  std::vector<double> digits(kept.begin(), kept.end());
  return {time_calls(run), digest(digits)};
}

Result box_iou_case(int64_t N, int64_t M) {
  const std::vector<float> a = make_boxes(N, 1067.0, 800.0, 31), b = make_boxes(M, 1067.0, 800.0, 32);
  Tensor boxes1 = on_device({N, 4}, a), boxes2 = on_device({M, 4}, b), iou;
  box_iou(boxes1, boxes2, iou);
  const std::vector<double> got = host_values<float>(iou);
  for (int64_t s = 0; s < 64; ++s) {
    const int64_t i = int64_t(splitmix64(uint64_t(2 * s)) % uint64_t(N)), j = int64_t(splitmix64(uint64_t(2 * s + 1)) % uint64_t(M));
    const double expected = iou_of(&a[size_t(4 * i)], &b[size_t(4 * j)]);
    require(std::abs(got[size_t(i * M + j)] - expected) <= 1e-5, concat("box_iou (", i, ", ", j, ")"));
  }
  return {time_calls([&] { box_iou(boxes1, boxes2, iou); }), digest(got)};
}

Result peak_stimulation_case(int64_t N, int64_t C, int64_t H, int64_t W) {
  const std::vector<float> map_values = make_uniform(N * C * H * W, 41, -1.0, 1.0);
  const std::vector<float> gradient = make_uniform(N * C, 42, -1.0, 1.0);
  Tensor maps = on_device({N, C, H, W}, map_values), d_scores = on_device({N, C}, gradient);
  Tensor peaks, values, scores, mask, counts;
  Tensor d_maps = Tensor::zeros({N, C, H, W}, DType::float32, g_device);
  PeakStimulationOptions options;
  options.gradient = PeakGradient::mean;
  auto run = [&] {
    peak_stimulation_forward(maps, options, peaks, values, scores, mask, counts);
    peak_stimulation_backward(d_scores, mask, counts, options, d_maps);
  };
  run();
  const std::vector<double> got_scores = host_values<float>(scores);
  const std::vector<double> got_counts = host_values<int64_t>(counts);
  // First map against the definition: strict 3 x 3 maxima (random values have no ties)
  // at or above the lower median.
  std::vector<float> plane(map_values.begin(), map_values.begin() + H * W), sorted = plane;
  std::nth_element(sorted.begin(), sorted.begin() + (H * W - 1) / 2, sorted.end());
  const float median = sorted[size_t((H * W - 1) / 2)];
  int64_t count = 0;
  double sum = 0.0;
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      const float v = plane[size_t(y * W + x)];
      bool peak = v >= median;
      for (int64_t dy = -1; dy <= 1; ++dy)
        for (int64_t dx = -1; dx <= 1; ++dx)
          if (y + dy >= 0 && y + dy < H && x + dx >= 0 && x + dx < W && plane[size_t((y + dy) * W + x + dx)] > v) peak = false;
      if (peak) ++count, sum += v;
    }
  require(got_counts[0] == double(count), concat("peak_stimulation peaks of map 0: ", got_counts[0], " vs ", count));
  require(std::abs(got_scores[0] - sum / double(count)) <= 1e-5, "peak_stimulation score of map 0");
  std::vector<double> digits = got_counts;
  digits.insert(digits.end(), got_scores.begin(), got_scores.end());
  return {time_calls([&] { d_maps.zero(); run(); }), digest(digits)};
}

Result mask_iou_case(int64_t n, int64_t m, int64_t H, int64_t W) {
  const std::vector<uint8_t> a = make_blobs(n, H, W, 51), b = make_blobs(m, H, W, 52);
  Tensor masks_a = on_device({n, H, W}, a), masks_b = on_device({m, H, W}, b), iou;
  mask_iou(masks_a, masks_b, iou);
  const std::vector<double> got = host_values<float>(iou);
  for (int64_t s = 0; s < 8; ++s) {
    const int64_t i = int64_t(splitmix64(uint64_t(2 * s)) % uint64_t(n)), j = int64_t(splitmix64(uint64_t(2 * s + 1)) % uint64_t(m));
    int64_t inter = 0, uni = 0;
    for (int64_t p = 0; p < H * W; ++p) {
      const bool x = a[size_t(i * H * W + p)] != 0, y = b[size_t(j * H * W + p)] != 0;
      inter += x && y;
      uni += x || y;
    }
    require(std::abs(got[size_t(i * m + j)] - (uni ? double(inter) / double(uni) : 0.0)) <= 1e-6, concat("mask_iou (", i, ", ", j, ")"));
  }
  return {time_calls([&] { mask_iou(masks_a, masks_b, iou); }), digest(got)};
}

Result paste_masks_case(int64_t K, int64_t M, int64_t H, int64_t W) {
  const std::vector<float> box_values = make_boxes(K, double(W), double(H), 61);
  const std::vector<float> probabilities = make_uniform(K * M * M, 62, 0.0, 1.0);
  Tensor masks = on_device({K, 1, M, M}, probabilities), boxes = on_device({K, 4}, box_values), output;
  PasteMasksOptions options;
  options.image_height = H;
  options.image_width = W;
  paste_masks_in_image(masks, boxes, options, output);
  const std::vector<uint8_t> pasted = output.to(Device::cpu).to_vector<uint8_t>();
  // Each mask lands inside its box grown by the padding (M + 2) / M, plus a pixel.
  std::vector<double> per_mask(size_t(K), 0.0);
  for (int64_t i = 0; i < K; ++i) {
    const float* box = &box_values[size_t(4 * i)];
    const double grow = double(M + 2) / double(M), cx = (box[0] + box[2]) / 2.0, cy = (box[1] + box[3]) / 2.0;
    const double hw = (box[2] - box[0]) / 2.0 * grow + 2.0, hh = (box[3] - box[1]) / 2.0 * grow + 2.0;
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x)
        if (pasted[size_t((i * H + y) * W + x)]) {
          per_mask[size_t(i)] += 1.0;
          require(std::abs(double(x) - cx) <= hw && std::abs(double(y) - cy) <= hh, concat("paste: mask ", i, " outside its box"));
        }
    require(per_mask[size_t(i)] > 0.0, concat("paste: mask ", i, " is empty"));
  }
  return {time_calls([&] { paste_masks_in_image(masks, boxes, options, output); }), digest(per_mask)};
}

// The drivers' probe of how fast this machine is right now (before and after a table).
Result sgemm_case(int64_t M, int64_t N, int64_t K) {
  Tensor a = on_device({M, K}, make_uniform(M * K, 71, -1.0, 1.0)), b = on_device({K, N}, make_uniform(K * N, 72, -1.0, 1.0));
  Tensor c = Tensor::empty({M, N}, DType::float32, g_device);
  return {time_calls([&] {
            k::gemm(g_device, false, false, M, N, K, 1.0f, a.data<float>(), K, b.data<float>(), N, 0.0f, c.data<float>(), N);
          }),
          ""};
}

Result run_case(const std::string& name, std::istringstream& words) {
  std::vector<int64_t> a;
  for (int64_t v = 0; words >> v;) a.push_back(v);
  auto need = [&](size_t count, const char* usage) {
    if (a.size() != count) throw Error(concat(name, " needs: ", usage, " (found ", a.size(), " numbers)"));
  };
  if (name == "sgemm") return need(3, "M N K"), sgemm_case(a[0], a[1], a[2]);
  if (name == "roi_align_forward" || name == "roi_align_backward") {
    need(5, "K C P H W");
    return roi_align_case(name == "roi_align_backward", a[0], a[1], a[2], a[3], a[4]);
  }
  if (name == "nms") return need(1, "N"), nms_case(a[0], 1);
  if (name == "batched_nms") return need(2, "N classes"), nms_case(a[0], a[1]);
  if (name == "box_iou") return need(2, "N M"), box_iou_case(a[0], a[1]);
  if (name == "peak_stimulation") return need(4, "N C H W"), peak_stimulation_case(a[0], a[1], a[2], a[3]);
  if (name == "mask_iou") return need(4, "n m H W"), mask_iou_case(a[0], a[1], a[2], a[3]);
  if (name == "paste_masks") return need(4, "K M H W"), paste_masks_case(a[0], a[1], a[2], a[3]);
  throw Error("unknown case \"" + name + "\"");
}

int serve() {
  return bench::serve_requests([](const std::string& command, std::istringstream& words) {
    const Result result = run_case(command, words);
    std::printf("%.9f %d %s\n", result.timing.seconds, result.timing.calls, result.digest.c_str());
  });
}

// Issue 13's sizes; --small shrinks them for a smoke test. The throughput is items per
// second with the item named in the row.
int table(bool small) {
  struct Row { const char* request; const char* item; double items; };
  const std::vector<Row> rows = small ? std::vector<Row>{
      {"roi_align_forward 16 8 7 20 20", "K*C*P*P outputs", 16 * 8 * 49.0},
      {"roi_align_backward 16 8 7 20 20", "K*C*P*P outputs", 16 * 8 * 49.0},
      {"nms 100", "N boxes", 100}, {"batched_nms 100 5", "N boxes", 100}, {"box_iou 50 50", "N*M box pairs", 2500},
      {"peak_stimulation 2 3 16 16", "N*C*H*W map pixels", 2 * 3 * 256.0},
      {"mask_iou 4 4 32 32", "n*m*H*W pixel pairs", 16 * 1024.0}, {"paste_masks 4 28 64 80", "K*H*W image pixels", 4 * 64 * 80.0}}
    : std::vector<Row>{
      {"roi_align_forward 512 256 7 200 200", "K*C*P*P outputs", 512 * 256 * 49.0},
      {"roi_align_backward 512 256 7 200 200", "K*C*P*P outputs", 512 * 256 * 49.0},
      {"roi_align_forward 128 256 14 200 200", "K*C*P*P outputs", 128 * 256 * 196.0},
      {"roi_align_backward 128 256 14 200 200", "K*C*P*P outputs", 128 * 256 * 196.0},
      {"nms 1000", "N boxes", 1e3}, {"nms 5000", "N boxes", 5e3}, {"nms 20000", "N boxes", 2e4},
      {"batched_nms 5000 80", "N boxes", 5e3}, {"box_iou 1000 1000", "N*M box pairs", 1e6},
      {"peak_stimulation 1 20 112 112", "N*C*H*W map pixels", 20 * 112 * 112.0},
      {"mask_iou 100 100 512 512", "n*m*H*W pixel pairs", 1e4 * 512 * 512.0},
      {"paste_masks 100 28 800 1067", "K*H*W image pixels", 100 * 800 * 1067.0}};
  std::printf("wise kernel benchmark on %s; %s\n", k::device_name(g_device), k::describe_backends().c_str());
  std::printf("%-40s %10s %8s %14s  %s\n", "case", "ms", "calls", "M items/s", "item");
  for (const Row& row : rows) {
    std::istringstream words(row.request);
    std::string name;
    words >> name;
    const Result result = run_case(name, words);
    std::printf("%-40s %10.3f %8d %14.2f  %s / time\n", row.request, result.timing.seconds * 1e3, result.timing.calls,
                row.items / result.timing.seconds / 1e6, row.item);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bool serving = false, small = false;
    for (int i = 1; i < argc; ++i) {
      const std::string option = argv[i];
      if (option == "--help" || option == "-h") {
        std::printf(
            "usage: wise_bench_kernels [--device cpu|cuda] [--small] [--serve]\n"
            "  --device D   where the kernels run (default cpu)\n"
            "  --small      the table at small sizes (a smoke run, seconds)\n"
            "  --serve      answer timing requests on stdin (benchmarks/kernels_vs_torch.py's protocol:\n"
            "               \"<case> <sizes...>\" -> \"<seconds per call> <calls> <digest...>\"; see the source)\n"
            "default: the table of RoIAlign, NMS, box IoU, peak stimulation, mask IoU and mask pasting at\n"
            "issue 13's sizes, in milliseconds per call; threads: OMP_NUM_THREADS\n");
        return 0;
      } else if (option == "--serve") serving = true;
      else if (option == "--small") small = true;
      else if (option == "--device" && i + 1 < argc) {
        const std::string device = argv[++i];
        if (device != "cpu" && device != "cuda") throw Error("--device expects cpu or cuda, found \"" + device + "\"");
        g_device = device == "cuda" ? Device::cuda : Device::cpu;
        k::require_device(g_device, "wise_bench_kernels --device");
      } else {
        throw Error("unknown option \"" + option + "\" (--help lists them)");
      }
    }
    return serving ? serve() : table(small);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "wise_bench_kernels: %s\n", error.what());
    return 1;
  }
}
