// Naive double-precision references for nearest x2 upsampling and bilinear resizing,
// written from torch's documented coordinate maps, independently of kernels/resize.h.
// Bilinear resizing is written as matrices: output = A_h X A_w^T per plane, where row
// `dst` of A holds the interpolation weights of output index dst over the input
// indices; its backward is d_X = A_h^T d_Y A_w (the kernels instead gather through an
// inverted index range, so the two formulations check each other).
#pragma once

#include <cstdint>
#include <vector>

namespace wise::reference {

// (N, C, 2H, 2W): output[oh, ow] = input[floor(oh / 2), floor(ow / 2)].
std::vector<double> upsample_nearest2x(const std::vector<float>& input, int64_t N, int64_t C,
                                       int64_t H, int64_t W);
// prior (N, C, H, W) + scatter of d_output (N, C, 2H, 2W) to each output's source.
std::vector<double> upsample_nearest2x_backward(const std::vector<float>& d_output, int64_t N,
                                                int64_t C, int64_t H, int64_t W,
                                                const std::vector<float>& prior);

// The (out x in) interpolation matrix of one axis (row-major), source coordinates in double.
std::vector<double> bilinear_matrix(int64_t in, int64_t out, bool align_corners);

// (N, C, Ho, Wo): F.interpolate(input, size=(Ho, Wo), mode="bilinear", align_corners).
std::vector<double> resize_bilinear(const std::vector<float>& input, int64_t N, int64_t C,
                                    int64_t H, int64_t W, int64_t Ho, int64_t Wo,
                                    bool align_corners);
// prior (N, C, H, W) + A_h^T d_output A_w per plane.
std::vector<double> resize_bilinear_backward(const std::vector<float>& d_output, int64_t N,
                                             int64_t C, int64_t H, int64_t W, int64_t Ho,
                                             int64_t Wo, bool align_corners,
                                             const std::vector<float>& prior);

}  // namespace wise::reference
