// RoIAlign's CPU grain (see roi_align_tiling.h): roi_align.h's arithmetic, tiled over
// channels so a RoI's samples are computed once per group of channels.
#include "kernels/cpu/roi_align_tiling.h"

#include <cstdint>
#include <vector>

#include "kernels/cpu/parallel_for.h"

namespace wise::kernels::cpu {

namespace {

// Channels one forward element handles: the bilinear taps of a RoI's bins are computed
// once and reused across them; kMaxCachedSamples per bin bounds that cache, and RoIs
// with more samples per bin take the element's per-output path.
constexpr int64_t kForwardChannelGroup = 32;
constexpr int64_t kMaxCachedSamples = 64;
// Channels one backward element owns (their planes are its alone).
constexpr int64_t kBackwardChannelGroup = 16;

// A sample's four taps as offsets into a plane, with their weights: what the forward
// reads per channel (32 bytes instead of BilinearSample's 52).
struct PlaneTaps {
  int32_t offset[4];
  float w1, w2, w3, w4;
  PlaneTaps() = default;
  PlaneTaps(const BilinearSample& s, int64_t W)
      : offset{static_cast<int32_t>(s.y_low * W + s.x_low), static_cast<int32_t>(s.y_low * W + s.x_high),
               static_cast<int32_t>(s.y_high * W + s.x_low), static_cast<int32_t>(s.y_high * W + s.x_high)},
        w1(s.w1), w2(s.w2), w3(s.w3), w4(s.w4) {}
  // roi_align_read_sample's expression, so the element's bits.
  float apply(const float* plane) const {
    return roi_align_interpolate(w1, w2, w3, w4, plane[offset[0]], plane[offset[1]], plane[offset[2]],
                                 plane[offset[3]]);
  }
};

// The CPU's add: plain +=, safe because each element owns its planes.
struct PlainAdd {
  void operator()(float* at, float value) const { *at += value; }
};

}  // namespace

// One element per (RoI, group of channels): the RoI's samples as plane offsets, then the
// channels over the bins, so the RoI's region of a plane stays in cache while its bins
// are summed. Each channel's sum runs in roi_align_forward_element's order.
void roi_align_forward_tiled(const RoiAlignLevels<const float*>& levels, int64_t N, int64_t C,
                             const float* rois, int64_t K, const RoiAlignParameters& p, float* output) {
  const int64_t PH = p.pooled_height, PW = p.pooled_width;
  // For the launcher's serial/parallel choice: samples per bin (adaptive: a guess).
  const int64_t samples_per_bin = p.sampling_ratio > 0 ? p.sampling_ratio * p.sampling_ratio : 4;
  const int64_t groups = ceil_div(C, kForwardChannelGroup);
  parallel_for(
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
          for (int64_t i = (k * C + c_begin) * PH * PW; i < (k * C + c_end) * PH * PW; ++i)
            output[i] = roi_align_forward_element(i, levels, N, C, rois, p);
          return;
        }
        const RoiAlignLevel<const float*>& level = levels.level[target.level];
        const int64_t H = level.height, W = level.width;
        thread_local std::vector<BilinearSample> samples;
        thread_local std::vector<PlaneTaps> taps;
        thread_local std::vector<int64_t> bin_end;
        samples.resize(static_cast<size_t>(PH * PW * kMaxCachedSamples));
        bin_end.resize(static_cast<size_t>(PH * PW));
        const int64_t count = roi_align_collect_samples(g, PH, PW, H, W, samples.data(), bin_end.data());
        taps.resize(static_cast<size_t>(count));
        for (int64_t i = 0; i < count; ++i) taps[static_cast<size_t>(i)] = PlaneTaps(samples[static_cast<size_t>(i)], W);
        const float* planes = level.data + target.batch * C * H * W;
        float* out = output + k * C * PH * PW;
        int64_t c = c_begin;
        // Four channels at once: four independent sums hide the add latency of each
        // sum's chain; each channel's sum still runs in the element's order.
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

// Element (level, n, group of channels) owns planes (n, c) of that level's d_input for
// the group's channels and visits the RoIs in order; no two elements write the same
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
  parallel_for(
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
          samples.resize(static_cast<size_t>(PH * PW * kMaxCachedSamples));
          bin_end.resize(static_cast<size_t>(PH * PW));
          roi_align_collect_samples(g, PH, PW, H, W, samples.data(), bin_end.data());
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
                for (int j = 0; j < 4; ++j) roi_align_scatter_sample(s, W, g.count, bins[j][b], planes[j], PlainAdd{});
              }
            }
          }
          for (; c < c_end; ++c) {
            float* plane = d_planes + c * H * W;
            const float* bins = d_bins + c * PH * PW;
            int64_t i = 0;
            for (int64_t b = 0; b < PH * PW; ++b) {
              for (; i < bin_end[static_cast<size_t>(b)]; ++i)
                roi_align_scatter_sample(samples[static_cast<size_t>(i)], W, g.count, bins[b], plane, PlainAdd{});
            }
          }
        }
      },
      work);
}

}  // namespace wise::kernels::cpu
