// Group normalization over a 4-d activation (N, C, H, W), in any memory format.
//
// Wu & He 2018, "Group Normalization", Eq. 1-3, with PyTorch's conventions
// (torch.nn.functional.group_norm): the C channels form G groups of C/G
// consecutive channels; for each sample n and group g, over its m = (C/G) H W
// elements,
//
//   mean_ng = mean of x,   rstd_ng = 1 / sqrt(biased variance + eps),
//   y = (x - mean_ng) * rstd_ng * weight_c + bias_c.
//
// Backward, with x_hat = (x - mean) rstd and d_x_hat = d_y weight_c:
//   d_weight_c += sum over (n, h, w) of d_y x_hat,   d_bias_c += sum of d_y,
//   d_x += rstd (d_x_hat - mean_g(d_x_hat) - x_hat mean_g(d_x_hat x_hat)),
// the means taken over the group's m elements.
//
// Deterministic: every sum is cut into fixed chunks of kGroupNormChunk elements
// in (c, h, w) order, each chunk summed in double by one work item, and the
// chunk results combined in order; later sums over channels or samples run in
// index order. No atomics; results do not depend on the thread count, the
// device or the memory format. Elementwise passes are gathers. Blocked formats:
// padding channels of `output` are written as zeros, those of d_input untouched.
//
// weight and bias may be null (affine = False); so may each gradient pointer.
#pragma once

#include <cstdint>

#include "kernels/device.h"
#include "kernels/memory_format.h"

namespace wise::kernels {

// Elements summed by one work item.
inline constexpr int64_t kGroupNormChunk = 2048;

// Doubles of scratch group_norm_forward and group_norm_backward need.
int64_t group_norm_workspace_size(int64_t N, int64_t C, int64_t H, int64_t W, int64_t groups);

// output (N, C, H, W) in `format`; saves mean and rstd, (N, groups) each.
// C must be a multiple of groups (the caller checks).
void group_norm_forward(Device device, MemoryFormat format, int64_t N, int64_t C, int64_t H, int64_t W,
                        int64_t groups, float eps, const float* input, const float* weight, const float* bias,
                        float* output, float* mean, float* rstd, double* workspace);

// Accumulates (+=) d_input, d_weight (C), d_bias (C) from the saved mean and rstd.
void group_norm_backward(Device device, MemoryFormat format, int64_t N, int64_t C, int64_t H, int64_t W,
                         int64_t groups, const float* d_output, const float* input, const float* mean,
                         const float* rstd, const float* weight, float* d_input, float* d_weight,
                         float* d_bias, double* workspace);

}  // namespace wise::kernels
