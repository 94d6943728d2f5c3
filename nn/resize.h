// Resizing layers, torch.nn.functional.interpolate semantics: nearest upsampling by 2
// (FPN's top-down path) and bilinear resizing to a size (resizing CAMs and masks;
// PRM's x8 CAM upsampling). The kernels, coordinate maps and the derivation of the
// gather-style, deterministic backward passes are in kernels/resize.h.
//
// Memory formats: inputs may be plain, nhwc, nChw8c or nChw16c; outputs take the
// input's format; gradients may each be in any of these formats. Gradients
// accumulate (d_input += ...); d_input must already exist and gives the input's shape.
#pragma once

#include "nn/tensor.h"

namespace wise {

// F.interpolate(input, scale_factor=2, mode="nearest"): (N, C, H, W) -> (N, C, 2H, 2W).
void upsample_nearest2x_forward(const Tensor& input, Tensor& output);
// d_input (N, C, H, W) += the sum of each pixel's four children in d_output (N, C, 2H, 2W).
void upsample_nearest2x_backward(const Tensor& d_output, Tensor& d_input);

// F.interpolate(input, size=(output_height, output_width), mode="bilinear", align_corners).
struct ResizeBilinearOptions {
  int64_t output_height = 0;
  int64_t output_width = 0;
  bool align_corners = false;
};

// input (N, C, H, W), H, W > 0 -> output (N, C, output_height, output_width).
void resize_bilinear_forward(const Tensor& input, const ResizeBilinearOptions& options,
                             Tensor& output);
// d_input (N, C, H, W) += the transpose of the resize applied to d_output (N, C, Ho, Wo),
// whose shape must match options.
void resize_bilinear_backward(const Tensor& d_output, const ResizeBilinearOptions& options,
                              Tensor& d_input);

// The options of F.interpolate(input, scale_factor=factor, mode="bilinear", align_corners)
// for an integer factor, e.g. PRM's x8 CAM upsampling with align_corners=True: the size
// (H * factor, W * factor). The same coordinate map as torch's: under align_corners torch
// ignores the factor; otherwise it uses 1 / factor, which for a power-of-two factor is
// exactly our in / out.
ResizeBilinearOptions upsample_bilinear_options(const Shape& input, int factor, bool align_corners);

}  // namespace wise
