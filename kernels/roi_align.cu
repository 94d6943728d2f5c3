// RoIAlign and multi-level RoIAlign (see roi_align.h). One source for CPU and CUDA: the
// elements (one output, one d_output's scatter) are roi_align.h's WISE_HD functions.
// CUDA runs them over the flat output index; the CPU runs the same arithmetic at a
// coarser grain (a RoI's samples reused across channels, a race-free plane partition in
// the backward), in kernels/cpu/roi_align_tiling.cpp, with the same bits.
#include "kernels/roi_align.h"

#include "kernels/cpu/roi_align_tiling.h"
#include "kernels/launch.h"

namespace wise::kernels {

void roi_align_forward(Device device, const RoiAlignLevels<const float*>& levels, int64_t N,
                       int64_t C, const float* rois, int64_t K, const RoiAlignParameters& p,
                       float* output) {
  if (device == Device::cuda) {
    parallel_for(device, K * C * p.pooled_height * p.pooled_width, [=] WISE_HD(int64_t index) {
      output[index] = roi_align_forward_element(index, levels, N, C, rois, p);
    });
    return;
  }
  cpu::roi_align_forward_tiled(levels, N, C, rois, K, p, output);
}

void roi_align_backward(Device device, const RoiAlignLevels<float*>& d_levels, int64_t N, int64_t C,
                        const float* rois, int64_t K, const RoiAlignParameters& p,
                        const float* d_output) {
  if (K == 0 || N == 0 || C == 0) return;
  if (device == Device::cuda) {
#if defined(__CUDACC__)
    // One element per d_output, atomics into the planes the RoIs share.
    cuda::parallel_for(K * C * p.pooled_height * p.pooled_width, [=] __device__(int64_t index) {
      auto add = [](float* at, float value) { atomicAdd(at, value); };
      roi_align_backward_element(index, d_levels, N, C, rois, p, d_output, add);
    });
    return;
#else
    throw_cuda_launch_without_nvcc(__FILE__);
#endif
  }
  cpu::roi_align_backward_partitioned(d_levels, N, C, rois, K, p, d_output);
}

}  // namespace wise::kernels
