// Nearest-neighbour resizing to a size, F.interpolate(input, size=..., mode="nearest"):
// FPN's top-down path, where the coarser map is brought to the finer map's size (2h or
// 2h - 1 after a ResNet's stride-2 convolutions). Kernel, index map and the derivation
// of the gather-style, deterministic backward: kernels/resize_nearest.h.
//
// Memory formats: inputs and gradients may be plain, nhwc, nChw8c or nChw16c, each in
// its own. The output is reused in whatever of these formats it already has when its
// shape is right (so FPN can write the upsampled map straight into the layout its 1x1
// convolution adds onto); otherwise it is allocated in the input's format.
// Gradients accumulate (d_input += ...); d_input must already exist and gives the input's shape.
#pragma once

#include "nn/tensor.h"

namespace wise {

struct ResizeNearestOptions {
  int64_t output_height = 0;
  int64_t output_width = 0;
};

// input (N, C, H, W), H, W > 0 -> output (N, C, output_height, output_width).
void resize_nearest_forward(const Tensor& input, const ResizeNearestOptions& options,
                            Tensor& output);
// d_input (N, C, H, W) += the transpose of the resize applied to d_output
// (N, C, Ho, Wo); the output size is d_output's.
void resize_nearest_backward(const Tensor& d_output, Tensor& d_input);

}  // namespace wise
