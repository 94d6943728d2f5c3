// Naive double-precision references for the elementwise, reduction and
// reorder kernels. Written for obviousness, not speed, and independently of
// the kernels they check (no shared code with kernels/).
#pragma once

#include <cstdint>
#include <vector>

namespace wise::reference {

std::vector<double> add(const std::vector<float>& a, const std::vector<float>& b);
std::vector<double> multiply(const std::vector<float>& a, const std::vector<float>& b);
// out + a * b
std::vector<double> multiply_accumulate(const std::vector<float>& a, const std::vector<float>& b,
                                        const std::vector<float>& out);
// y + alpha * x
std::vector<double> axpy(double alpha, const std::vector<float>& x, const std::vector<float>& y);
std::vector<double> scale(double alpha, const std::vector<float>& y);
std::vector<double> relu(const std::vector<float>& x);
// d_x + (y > 0 ? d_y : 0)
std::vector<double> relu_backward(const std::vector<float>& y, const std::vector<float>& d_y,
                                  const std::vector<float>& d_x);

// 1 / (1 + exp(-x)) in double
std::vector<double> sigmoid(const std::vector<float>& x);

// row softmax of x (N, C), in double
std::vector<double> softmax_rows(const std::vector<float>& x, int64_t C);

double sum(const std::vector<float>& x);
double max(const std::vector<float>& x);  // NaN if any NaN

// Physical order of an (N, C, H, W) tensor in a layout, given by the order of
// its loops: "nchw", "nhwc", or "nChw8c" / "nChw16c" (padding channels zero).
std::vector<double> to_layout(const std::vector<float>& plain, int64_t N, int64_t C, int64_t H,
                              int64_t W, const char* layout);

}  // namespace wise::reference
