// RoIAlign's CPU grain (kernels/roi_align.h computes; this is how the CPU runs it).
//
// Forward: one element per (RoI, group of channels). A RoI's samples (their taps and
// weights) are computed once and applied to every channel of the group, as
// torchvision's CPU kernel reuses its pre-computed weights.
// Backward: one element per (level, image n, group of channels), owning planes (n, c)
// of that level's d_input and visiting the RoIs in order: race-free without atomics.
// Both run roi_align.h's sample read and scatter with the same expressions in the same
// order as the element, so the results are the element's bits, at any thread count.
#pragma once

#include <cstdint>

#include "kernels/roi_align.h"

namespace wise::kernels::cpu {

// output (K, C, ph, pw), as roi_align_forward.
void roi_align_forward_tiled(const RoiAlignLevels<const float*>& levels, int64_t N, int64_t C,
                             const float* rois, int64_t K, const RoiAlignParameters& p, float* output);

// Each level's d_input += the scatter of d_output, as roi_align_backward.
void roi_align_backward_partitioned(const RoiAlignLevels<float*>& d_levels, int64_t N, int64_t C,
                                    const float* rois, int64_t K, const RoiAlignParameters& p,
                                    const float* d_output);

}  // namespace wise::kernels::cpu
