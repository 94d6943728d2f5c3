// RoIAlign and multi-level RoIAlign (see roi_align.h). One source for CPU and CUDA; the
// geometry and bilinear weights are roi_align.h's, the only device-specific part is how
// the backward's scatter avoids races (a plane partition on the CPU, atomics on CUDA).
#include "kernels/roi_align.h"

#include <cstdint>
#include <vector>

#include "kernels/launch.h"

namespace wise::kernels {

namespace {

// Channels one CPU element handles in the forward: the bilinear taps of a RoI's bins
// are computed once and reused across them (torchvision's CPU kernel does the same
// with its pre-computed weights); kMaxCachedSamples per bin bounds that cache, and
// RoIs with more samples per bin take the plain per-output path.
constexpr int64_t kForwardChannelGroup = 32;
constexpr int64_t kMaxCachedSamples = 64;
// Channels one CPU element of the backward owns (their planes are its alone).
constexpr int64_t kBackwardChannelGroup = 16;

// Records a bin's samples (a functor, not a lambda: roi_align_bin is WISE_HD code).
struct SampleCollector {
  BilinearSample* samples;
  int64_t* count;
  WISE_HD void operator()(const BilinearSample& s) const { samples[(*count)++] = s; }
};

// A sample's four taps as offsets into a plane, with their weights: what the CPU
// forward reads per channel (32 bytes instead of BilinearSample's 52).
struct PlaneTaps {
  int32_t offset[4];
  float w1, w2, w3, w4;
  PlaneTaps() = default;
  PlaneTaps(const BilinearSample& s, int64_t W)
      : offset{static_cast<int32_t>(s.y_low * W + s.x_low), static_cast<int32_t>(s.y_low * W + s.x_high),
               static_cast<int32_t>(s.y_high * W + s.x_low), static_cast<int32_t>(s.y_high * W + s.x_high)},
        w1(s.w1), w2(s.w2), w3(s.w3), w4(s.w4) {}
  // The same expression as output_element's, so the same bits.
  float apply(const float* plane) const {
    return w1 * plane[offset[0]] + w2 * plane[offset[1]] + w3 * plane[offset[2]] + w4 * plane[offset[3]];
  }
};

}  // namespace

void roi_align_forward(Device device, const RoiAlignLevels<const float*>& levels, int64_t N,
                       int64_t C, const float* rois, int64_t K, const RoiAlignParameters& p,
                       float* output) {
  const int64_t PH = p.pooled_height, PW = p.pooled_width;
  // For the CPU launcher's serial/parallel choice: samples per bin (adaptive: a guess).
  const int64_t samples_per_bin = p.sampling_ratio > 0 ? p.sampling_ratio * p.sampling_ratio : 4;
  // One output element: sum the bin's samples of channel c in roi_align_bin's order.
  auto output_element = [=] WISE_HD(int64_t k, int64_t c, int64_t ph, int64_t pw) {
    const float* roi = rois + 5 * k;
    const RoiAlignTarget target = roi_align_target(roi, levels, N);
    if (target.level < 0) return 0.0f;
    const RoiAlignLevel<const float*>& level = levels.level[target.level];
    const int64_t H = level.height, W = level.width;
    const float* plane = level.data + (target.batch * C + c) * H * W;
    const RoiAlignGeometry g = roi_align_bin_geometry(roi, level.spatial_scale, p);
    float sum = 0.0f;
    roi_align_bin(g, ph, pw, H, W, [&](const BilinearSample& s) {
      sum += s.w1 * plane[s.y_low * W + s.x_low] + s.w2 * plane[s.y_low * W + s.x_high] +
             s.w3 * plane[s.y_high * W + s.x_low] + s.w4 * plane[s.y_high * W + s.x_high];
    });
    return sum / g.count;
  };
  if (device == Device::cuda) {
    parallel_for(device, K * C * PH * PW, [=] WISE_HD(int64_t index) {
      const int64_t pw = index % PW, ph = (index / PW) % PH, c = (index / (PW * PH)) % C;
      output[index] = output_element(index / (PW * PH * C), c, ph, pw);
    });
    return;
  }
  // CPU: one element per (RoI, group of channels). Each bin's samples are computed once
  // and applied to every channel of the group; the sums run in the same order as
  // output_element's, so the results are the same bits.
  const int64_t groups = ceil_div(C, kForwardChannelGroup);
  cpu::parallel_for(
      K * groups,
      [=](int64_t item) {
        const int64_t k = item / groups;
        const int64_t c_begin = (item % groups) * kForwardChannelGroup;
        const int64_t c_end = min_of(c_begin + kForwardChannelGroup, C);
        const float* roi = rois + 5 * k;
        const RoiAlignTarget target = roi_align_target(roi, levels, N);
        const RoiAlignGeometry g =
            target.level < 0 ? RoiAlignGeometry{} : roi_align_bin_geometry(roi, levels.level[target.level].spatial_scale, p);
        if (target.level < 0 || g.grid_h * g.grid_w > kMaxCachedSamples ||
            levels.level[target.level].height * levels.level[target.level].width > INT32_MAX) {
          for (int64_t c = c_begin; c < c_end; ++c) {
            for (int64_t b = 0; b < PH * PW; ++b) output[(k * C + c) * PH * PW + b] = output_element(k, c, b / PW, b % PW);
          }
          return;
        }
        const RoiAlignLevel<const float*>& level = levels.level[target.level];
        const int64_t H = level.height, W = level.width;
        // All bins' samples of this RoI as plane offsets, then the channels over the
        // bins: the RoI's region of a plane stays in cache while its bins are summed.
        thread_local std::vector<BilinearSample> samples;
        thread_local std::vector<PlaneTaps> taps;
        thread_local std::vector<int64_t> bin_end;
        samples.resize(static_cast<size_t>(PH * PW * kMaxCachedSamples));
        bin_end.resize(static_cast<size_t>(PH * PW));
        int64_t count = 0;
        for (int64_t b = 0; b < PH * PW; ++b) {
          roi_align_bin(g, b / PW, b % PW, H, W, SampleCollector{samples.data(), &count});
          bin_end[static_cast<size_t>(b)] = count;
        }
        taps.resize(static_cast<size_t>(count));
        for (int64_t i = 0; i < count; ++i) taps[static_cast<size_t>(i)] = PlaneTaps(samples[static_cast<size_t>(i)], W);
        const float* planes = level.data + target.batch * C * H * W;
        float* out = output + k * C * PH * PW;
        int64_t c = c_begin;
        // Four channels at once: four independent sums hide the add latency of each
        // sum's chain; each channel's sum still runs in output_element's order.
        for (; c + 4 <= c_end; c += 4) {
          const float* p0 = planes + c * H * W;
          const float* p1 = p0 + H * W;
          const float* p2 = p1 + H * W;
          const float* p3 = p2 + H * W;
          int64_t i = 0;
          for (int64_t b = 0; b < PH * PW; ++b) {
            float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
            for (; i < bin_end[static_cast<size_t>(b)]; ++i) {
              const PlaneTaps& t = taps[static_cast<size_t>(i)];
              s0 += t.apply(p0);
              s1 += t.apply(p1);
              s2 += t.apply(p2);
              s3 += t.apply(p3);
            }
            out[c * PH * PW + b] = s0 / g.count;
            out[(c + 1) * PH * PW + b] = s1 / g.count;
            out[(c + 2) * PH * PW + b] = s2 / g.count;
            out[(c + 3) * PH * PW + b] = s3 / g.count;
          }
        }
        for (; c < c_end; ++c) {
          const float* plane = planes + c * H * W;
          int64_t i = 0;
          for (int64_t b = 0; b < PH * PW; ++b) {
            float sum = 0.0f;
            for (; i < bin_end[static_cast<size_t>(b)]; ++i) sum += taps[static_cast<size_t>(i)].apply(plane);
            out[c * PH * PW + b] = sum / g.count;
          }
        }
      },
      samples_per_bin * PH * PW * kForwardChannelGroup);
}

namespace {

// Adds d_bin's share of every sample of bin (ph, pw) into the plane: d_bin w / count per
// tap, in torchvision's order. `add(pointer, value)` is += on the CPU, atomicAdd on CUDA.
template <class Add>
WISE_HD inline void roi_align_scatter_bin(const RoiAlignGeometry& g, int64_t ph, int64_t pw,
                                          int64_t H, int64_t W, float d_bin, float* d_plane,
                                          const Add& add) {
  roi_align_bin(g, ph, pw, H, W, [&](const BilinearSample& s) {
    add(d_plane + s.y_low * W + s.x_low, d_bin * s.w1 / g.count);
    add(d_plane + s.y_low * W + s.x_high, d_bin * s.w2 / g.count);
    add(d_plane + s.y_high * W + s.x_low, d_bin * s.w3 / g.count);
    add(d_plane + s.y_high * W + s.x_high, d_bin * s.w4 / g.count);
  });
}

// The CPU's add: plain +=, safe because each element owns its planes.
struct PlainAdd {
  WISE_HD void operator()(float* at, float value) const { *at += value; }
};

// One sample's share of d_bin into a plane: roi_align_scatter_bin's four additions,
// the same expressions in the same order (CPU: each element owns its planes).
inline void scatter_sample(const BilinearSample& s, int64_t W, float count, float d_bin,
                           float* d_plane) {
  d_plane[s.y_low * W + s.x_low] += d_bin * s.w1 / count;
  d_plane[s.y_low * W + s.x_high] += d_bin * s.w2 / count;
  d_plane[s.y_high * W + s.x_low] += d_bin * s.w3 / count;
  d_plane[s.y_high * W + s.x_high] += d_bin * s.w4 / count;
}

// CPU: element (level, n, group of channels) owns planes (n, c) of that level's d_input
// for the group's channels and visits the RoIs in order; no two elements write the same
// plane. A RoI's samples are computed once per element and scattered into each channel
// of the group, four channels per pass (independent chains of read-modify-writes). Every
// plane receives its additions in the order of the one-channel loop (RoI, bin, sample,
// tap) with the same expressions, so the sums are the same bits at any thread count.
void roi_align_backward_partitioned(const RoiAlignLevels<float*>& d_levels, int64_t N, int64_t C,
                                    const float* rois, int64_t K, const RoiAlignParameters& p,
                                    const float* d_output) {
  const int64_t PH = p.pooled_height, PW = p.pooled_width;
  const int64_t groups = ceil_div(C, kBackwardChannelGroup);
  const int64_t work = K * PH * PW * kBackwardChannelGroup / max_of<int64_t>(N, 1) + 1;
  cpu::parallel_for(
      d_levels.count * N * groups,
      [=](int64_t index) {
        const int64_t group = index % groups, n = (index / groups) % N;
        const int l = static_cast<int>(index / (groups * N));
        const int64_t c_begin = group * kBackwardChannelGroup;
        const int64_t c_end = min_of(c_begin + kBackwardChannelGroup, C);
        const RoiAlignLevel<float*>& level = d_levels.level[l];
        const int64_t H = level.height, W = level.width;
        float* d_planes = level.data + n * C * H * W;
        thread_local std::vector<BilinearSample> samples;
        thread_local std::vector<int64_t> bin_end;
        for (int64_t k = 0; k < K; ++k) {
          const float* roi = rois + 5 * k;
          const RoiAlignTarget target = roi_align_target(roi, d_levels, N);
          if (target.level != l || target.batch != n) continue;
          const RoiAlignGeometry g = roi_align_bin_geometry(roi, level.spatial_scale, p);
          const float* d_bins = d_output + k * C * PH * PW;
          if (g.grid_h * g.grid_w > kMaxCachedSamples) {  // a huge adaptive grid: no cache
            for (int64_t c = c_begin; c < c_end; ++c) {
              for (int64_t b = 0; b < PH * PW; ++b) {
                roi_align_scatter_bin(g, b / PW, b % PW, H, W, d_bins[c * PH * PW + b],
                                      d_planes + c * H * W, PlainAdd{});
              }
            }
            continue;
          }
          // The RoI's samples, bin by bin.
          samples.resize(static_cast<size_t>(PH * PW * kMaxCachedSamples));
          bin_end.resize(static_cast<size_t>(PH * PW));
          int64_t count = 0;
          for (int64_t b = 0; b < PH * PW; ++b) {
            roi_align_bin(g, b / PW, b % PW, H, W, SampleCollector{samples.data(), &count});
            bin_end[static_cast<size_t>(b)] = count;
          }
          int64_t c = c_begin;
          for (; c + 4 <= c_end; c += 4) {
            float* planes[4];
            const float* bins[4];
            for (int j = 0; j < 4; ++j) {
              planes[j] = d_planes + (c + j) * H * W;
              bins[j] = d_bins + (c + j) * PH * PW;
            }
            int64_t i = 0;
            for (int64_t b = 0; b < PH * PW; ++b) {
              for (; i < bin_end[static_cast<size_t>(b)]; ++i) {
                const BilinearSample& s = samples[static_cast<size_t>(i)];
                for (int j = 0; j < 4; ++j) scatter_sample(s, W, g.count, bins[j][b], planes[j]);
              }
            }
          }
          for (; c < c_end; ++c) {
            float* plane = d_planes + c * H * W;
            const float* bins = d_bins + c * PH * PW;
            int64_t i = 0;
            for (int64_t b = 0; b < PH * PW; ++b) {
              for (; i < bin_end[static_cast<size_t>(b)]; ++i)
                scatter_sample(samples[static_cast<size_t>(i)], W, g.count, bins[b], plane);
            }
          }
        }
      },
      work);
}

}  // namespace

void roi_align_backward(Device device, const RoiAlignLevels<float*>& d_levels, int64_t N, int64_t C,
                        const float* rois, int64_t K, const RoiAlignParameters& p,
                        const float* d_output) {
  if (K == 0 || N == 0 || C == 0) return;
  if (device == Device::cuda) {
#if defined(__CUDACC__)
    // One element per (roi, c, ph, pw), atomics into the shared planes.
    const int64_t PH = p.pooled_height, PW = p.pooled_width;
    cuda::parallel_for(K * C * PH * PW, [=] __device__(int64_t index) {
      const int64_t pw = index % PW, ph = (index / PW) % PH, c = (index / (PW * PH)) % C;
      const int64_t k = index / (PW * PH * C);
      const float* roi = rois + 5 * k;
      const RoiAlignTarget target = roi_align_target(roi, d_levels, N);
      if (target.level < 0) return;
      const RoiAlignLevel<float*>& level = d_levels.level[target.level];
      const int64_t H = level.height, W = level.width;
      float* d_plane = level.data + (target.batch * C + c) * H * W;
      const RoiAlignGeometry g = roi_align_bin_geometry(roi, level.spatial_scale, p);
      auto add = [](float* at, float value) { atomicAdd(at, value); };
      roi_align_scatter_bin(g, ph, pw, H, W, d_output[index], d_plane, add);
    });
    return;
#else
    throw_cuda_launch_without_nvcc(__FILE__);
#endif
  }
  roi_align_backward_partitioned(d_levels, N, C, rois, K, p, d_output);
}

}  // namespace wise::kernels
