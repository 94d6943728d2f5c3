// Naive double-precision references for max pooling and global average pooling,
// written from torch's documented semantics, independently of kernels/pooling.h:
// plain NCHW host vectors, the window scanned with explicit bounds tests, and the
// backward passes as SCATTERS (the kernels gather), so the two formulations check
// each other.
#pragma once

#include <cstdint>
#include <vector>

namespace wise::reference {

struct MaxPool2dResult {
  int64_t output_height = 0, output_width = 0;
  std::vector<double> output;   // (N, C, Ho, Wo)
  std::vector<int64_t> argmax;  // (N, C, Ho, Wo): h * W + w within the input plane
};

// torch.nn.functional.max_pool2d(input, kernel_size, stride, padding, return_indices=True):
// padding is -inf, the first maximum in row-major window order wins, a NaN wins over
// everything (and a later NaN over an earlier one).
MaxPool2dResult max_pool2d(const std::vector<float>& input, int64_t N, int64_t C, int64_t H,
                           int64_t W, int64_t kernel_size, int64_t stride, int64_t padding);

// prior + scatter of d_output into the argmax positions; prior (N, C, H, W).
std::vector<double> max_pool2d_backward(const std::vector<float>& d_output,
                                        const std::vector<int64_t>& argmax, int64_t N, int64_t C,
                                        int64_t H, int64_t W, const std::vector<float>& prior);

// (N, C): the mean of each (n, c) plane.
std::vector<double> global_average_pool(const std::vector<float>& input, int64_t N, int64_t C,
                                        int64_t H, int64_t W);

// prior + d_output[n, c] / (H W) at every (n, c, h, w).
std::vector<double> global_average_pool_backward(const std::vector<float>& d_output, int64_t N,
                                                 int64_t C, int64_t H, int64_t W,
                                                 const std::vector<float>& prior);

}  // namespace wise::reference
