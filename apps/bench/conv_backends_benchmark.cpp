// wise_bench_conv_backends: the measurement behind wise's choice of CPU
// convolution backend — oneDNN's direct convolution (in its blocked layout)
// against the classic im2col + sgemm formulation on OpenBLAS (Debian's OpenMP
// build, so both run on the same thread pool), forward and both backward
// passes, on ResNet-50 layer shapes at batch 1.
//
//   OMP_NUM_THREADS=2 wise_bench_conv_backends
//
// im2col + GEMM, per image n:
//   forward:          col = im2col(x[n])  (C*R*S x P*Q);   y[n] = W (K x CRS) * col
//   backward data:    col = W^T * dy[n];                   dx[n] = col2im(col)
//   backward weights: col = im2col(x[n]);                  dW += dy[n] * col^T
// im2col/col2im are parallel over input channels (race-free: channel c's rows
// of col touch only channel c of x). Both variants are validated against each
// other before timing.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "apps/bench/timing.h"
#include "kernels/convolution.h"
#include "kernels/cpu/parallel_for.h"
#include "nn/random.h"
#include "nn/tensor.h"

namespace {

using namespace wise;
namespace k = wise::kernels;

// col[(c*R + r)*S + s][p*Q + q] = x[c][p*stride - pad + r][q*stride - pad + s] (0 outside)
void im2col(const k::ConvolutionShape& g, const float* x, float* col) {
  const int64_t P = g.out_height(), Q = g.out_width();
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < g.in_channels; ++c) {
    for (int64_t r = 0; r < g.kernel_height; ++r) {
      for (int64_t s = 0; s < g.kernel_width; ++s) {
        float* row = col + ((c * g.kernel_height + r) * g.kernel_width + s) * P * Q;
        for (int64_t p = 0; p < P; ++p) {
          const int64_t h = p * g.stride_height - g.padding_height + r;
          for (int64_t q = 0; q < Q; ++q) {
            const int64_t w = q * g.stride_width - g.padding_width + s;
            row[p * Q + q] = (h >= 0 && h < g.in_height && w >= 0 && w < g.in_width)
                                 ? x[(c * g.in_height + h) * g.in_width + w] : 0.0f;
          }
        }
      }
    }
  }
}

// The adjoint of im2col: x[c][h][w] += every col entry that im2col read from it.
void col2im(const k::ConvolutionShape& g, const float* col, float* x) {
  const int64_t P = g.out_height(), Q = g.out_width();
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < g.in_channels; ++c) {
    std::fill(x + c * g.in_height * g.in_width, x + (c + 1) * g.in_height * g.in_width, 0.0f);
    for (int64_t r = 0; r < g.kernel_height; ++r) {
      for (int64_t s = 0; s < g.kernel_width; ++s) {
        const float* row = col + ((c * g.kernel_height + r) * g.kernel_width + s) * P * Q;
        for (int64_t p = 0; p < P; ++p) {
          const int64_t h = p * g.stride_height - g.padding_height + r;
          if (h < 0 || h >= g.in_height) continue;
          for (int64_t q = 0; q < Q; ++q) {
            const int64_t w = q * g.stride_width - g.padding_width + s;
            if (w >= 0 && w < g.in_width) x[(c * g.in_height + h) * g.in_width + w] += row[p * Q + q];
          }
        }
      }
    }
  }
}

struct Im2colConvolution {
  k::ConvolutionShape g;
  std::vector<float> col;
  explicit Im2colConvolution(const k::ConvolutionShape& shape)
      : g(shape), col(static_cast<size_t>(shape.in_channels * shape.kernel_height * shape.kernel_width *
                                          shape.out_height() * shape.out_width())) {}
  int64_t crs() const { return g.in_channels * g.kernel_height * g.kernel_width; }
  int64_t pq() const { return g.out_height() * g.out_width(); }

  void forward(const float* x, const float* w, float* y) {
    for (int64_t n = 0; n < g.batch; ++n) {
      im2col(g, x + n * g.in_channels * g.in_height * g.in_width, col.data());
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g.out_channels, pq(), crs(), 1.0f, w, crs(),
                  col.data(), pq(), 0.0f, y + n * g.out_channels * pq(), pq());
    }
  }
  void backward_data(const float* dy, const float* w, float* dx) {
    for (int64_t n = 0; n < g.batch; ++n) {
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, crs(), pq(), g.out_channels, 1.0f, w, crs(),
                  dy + n * g.out_channels * pq(), pq(), 0.0f, col.data(), pq());
      col2im(g, col.data(), dx + n * g.in_channels * g.in_height * g.in_width);
    }
  }
  void backward_weights(const float* x, const float* dy, float* dw) {
    for (int64_t n = 0; n < g.batch; ++n) {
      im2col(g, x + n * g.in_channels * g.in_height * g.in_width, col.data());
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g.out_channels, crs(), pq(), 1.0f,
                  dy + n * g.out_channels * pq(), pq(), col.data(), pq(), n == 0 ? 0.0f : 1.0f, dw, crs());
    }
  }
};

template <class Run>
double seconds_per_call(const Run& run) {
  return bench::time_calls(run, [] {}, /*min_seconds=*/0.2, /*min_calls=*/3).seconds;
}

double max_relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0.0, scale = 1e-30;
  for (float v : b) scale = std::max(scale, double(std::fabs(v)));
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(double(a[i]) - b[i]) / scale);
  return worst;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) {
    const std::string option = argv[1];
    if (option == "--help" || option == "-h") {
      std::printf(
          "usage: wise_bench_conv_backends\n"
          "  no options: oneDNN's direct convolution against im2col + OpenBLAS sgemm, forward and both\n"
          "  backward passes on ResNet-50 layer shapes at batch 1, in GFLOP/s; threads: OMP_NUM_THREADS\n");
      return 0;
    }
    std::fprintf(stderr, "wise_bench_conv_backends: unknown option \"%s\" (--help lists them)\n", option.c_str());
    return 2;
  }
  std::printf("# CPU convolution backends, batch 1, %d thread(s): oneDNN direct vs im2col + OpenBLAS sgemm\n",
              k::cpu::num_threads());
  std::printf("| shape | pass | oneDNN GFLOP/s | im2col+OpenBLAS GFLOP/s | oneDNN / im2col |\n|---|---|---|---|---|\n");
  const int64_t shapes[][6] = {{64, 56, 64, 3, 1, 1},  {256, 56, 64, 1, 1, 0},   {128, 28, 128, 3, 1, 1},
                               {256, 14, 256, 3, 1, 1}, {1024, 14, 256, 1, 1, 0}, {512, 7, 512, 3, 1, 1},
                               {512, 7, 2048, 1, 1, 0}};
  double totals[2] = {0, 0};
  for (const auto& row : shapes) {
    k::ConvolutionShape g;
    g.in_channels = row[0];
    g.in_height = g.in_width = row[1];
    g.out_channels = row[2];
    g.kernel_height = g.kernel_width = row[3];
    g.stride_height = g.stride_width = row[4];
    g.padding_height = g.padding_width = row[5];
    const k::ConvolutionFormats formats = k::convolution_formats(Device::cpu, g);
    Generator generator{3, 0};
    Tensor x = Tensor::empty({1, g.in_channels, g.in_height, g.in_width});
    Tensor w = Tensor::empty({g.out_channels, g.in_channels, g.kernel_height, g.kernel_width});
    Tensor dy = Tensor::empty({1, g.out_channels, g.out_height(), g.out_width()});
    uniform_(x, generator, -1, 1);
    uniform_(w, generator, -0.1f, 0.1f);
    uniform_(dy, generator, -1, 1);
    const Tensor xb = x.to_format(formats.input), dyb = dy.to_format(formats.output);
    Tensor yb = Tensor::empty(dy.shape(), DType::float32, Device::cpu, formats.output);
    Tensor dxb = Tensor::empty(x.shape(), DType::float32, Device::cpu, formats.input);
    Tensor dw = Tensor::empty(w.shape()), y = Tensor::empty(dy.shape()), dx = Tensor::empty(x.shape());
    Tensor dw2 = Tensor::empty(w.shape());
    Tensor workspace = Tensor::empty({int64_t(k::convolution_workspace_bytes(Device::cpu, g))}, DType::uint8);
    Im2colConvolution im2col_conv(g);
    struct Pass {
      const char* name;
      std::function<void()> onednn, im2col;
      std::function<double()> difference;
    };
    const Pass passes[] = {
        {"forward",
         [&] { k::convolution_forward(Device::cpu, g, xb.data<float>(), w.data<float>(), nullptr, {}, yb.data<float>(), workspace.raw_data()); },
         [&] { im2col_conv.forward(x.data<float>(), w.data<float>(), y.data<float>()); },
         [&] { return max_relative_difference(y.to_vector<float>(), yb.to_vector<float>()); }},
        {"backward_data",
         [&] { k::convolution_backward_data(Device::cpu, g, dyb.data<float>(), w.data<float>(), 0.0f, dxb.data<float>(), workspace.raw_data()); },
         [&] { im2col_conv.backward_data(dy.data<float>(), w.data<float>(), dx.data<float>()); },
         [&] { return max_relative_difference(dx.to_vector<float>(), dxb.to_vector<float>()); }},
        {"backward_weights",
         [&] { k::convolution_backward_weights(Device::cpu, g, xb.data<float>(), dyb.data<float>(), 0.0f, dw.data<float>(), nullptr, workspace.raw_data()); },
         [&] { im2col_conv.backward_weights(x.data<float>(), dy.data<float>(), dw2.data<float>()); },
         [&] { return max_relative_difference(dw2.to_vector<float>(), dw.to_vector<float>()); }},
    };
    for (const Pass& pass : passes) {
      pass.onednn();
      pass.im2col();
      const double difference = pass.difference();
      if (difference > 1e-4) {
        std::fprintf(stderr, "%s: the two backends disagree (relative %g)\n", pass.name, difference);
        return 1;
      }
      const double a = seconds_per_call(pass.onednn), b = seconds_per_call(pass.im2col);
      totals[0] += a;
      totals[1] += b;
      std::printf("| %lld %lldx%lld -> %lld %lldx%lld /%lld | %s | %.1f | %.1f | %.2f |\n", (long long)g.in_channels,
                  (long long)g.in_height, (long long)g.in_width, (long long)g.out_channels, (long long)row[3],
                  (long long)row[3], (long long)row[4], pass.name, g.flops() / a / 1e9, g.flops() / b / 1e9, b / a);
    }
  }
  std::printf("| **all rows** | time | %.1f ms | %.1f ms | **%.2f** |\n", totals[0] * 1e3, totals[1] * 1e3,
              totals[1] / totals[0]);
  return 0;
}
