// Naive double-precision convolution and its gradients: direct loops over the
// definition, independent of oneDNN and cuDNN. NCHW plain, weights OIHW.
#pragma once

#include <cstdint>
#include <vector>

namespace wise::reference {

struct ConvGeometry {
  int64_t N, C, H, W;   // input
  int64_t K, R, S;      // output channels, kernel height and width
  int64_t stride = 1, padding = 0, dilation = 1;
  int64_t P() const { return (H + 2 * padding - dilation * (R - 1) - 1) / stride + 1; }
  int64_t Q() const { return (W + 2 * padding - dilation * (S - 1) - 1) / stride + 1; }
};

// y[n,k,p,q] = b[k] + sum_{c,r,s} x[n,c,p*stride-padding+r*dilation, q*stride-padding+s*dilation] * w[k,c,r,s]
std::vector<double> conv2d(const ConvGeometry& g, const std::vector<float>& x, const std::vector<float>& w,
                           const std::vector<float>* bias);
// dL/dx for upstream dy = dL/dy
std::vector<double> conv2d_grad_input(const ConvGeometry& g, const std::vector<float>& dy,
                                      const std::vector<float>& w);
// dL/dw
std::vector<double> conv2d_grad_weight(const ConvGeometry& g, const std::vector<float>& x,
                                       const std::vector<float>& dy);
// dL/db: sum of dy over n, p, q
std::vector<double> conv2d_grad_bias(const ConvGeometry& g, const std::vector<float>& dy);

}  // namespace wise::reference
