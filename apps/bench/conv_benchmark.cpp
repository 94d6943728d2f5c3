// wise_bench_conv: times wise's CPU convolution passes and sgemm.
//
// Two ways to run it:
//   wise_bench_conv                 our own table for the ResNet-50 layer shapes
//   wise_bench_conv --serve         a timing server for benchmarks/conv_vs_torch.py, which
//                                   alternates our measurements with PyTorch's in one run
// Server protocol, one request per line on stdin, one answer per line on stdout:
//   conv <pass> N C H W K R S stride padding dilation   -> "<seconds per call> <calls>"
//   sgemm M N K                                         -> "<seconds per call> <calls>"
//   quit
// with <pass> one of forward, backward_data, backward_weights. Each request warms
// up once (building the oneDNN primitives), then repeats the call until 0.1 s
// have passed (at least 2 calls) and reports the mean. Backward passes run with
// beta = 0 (overwrite), as PyTorch's do; the layer adds in a separate pass.
// Inputs are random; activations are in the layouts oneDNN prefers, as they are
// inside a network. Buffers of a shape are kept for the next request.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>

#include "apps/bench/serve.h"
#include "apps/bench/timing.h"
#include "kernels/convolution.h"
#include "kernels/cpu/parallel_for.h"
#include "kernels/gemm.h"
#include "nn/random.h"
#include "nn/tensor.h"

namespace {

using namespace wise;
namespace k = wise::kernels;

struct ConvBuffers {
  Tensor input, weight, output, workspace;
  std::set<std::string> validated;  // passes already checked
};

ConvBuffers& buffers_for(const k::ConvolutionShape& s) {
  static std::map<std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>,
                  ConvBuffers> cache;
  ConvBuffers& b = cache[{s.batch, s.in_channels, s.in_height, s.in_width, s.out_channels, s.kernel_height,
                          s.stride_height, s.padding_height, s.dilation_height, k::cpu::num_threads()}];
  if (!b.input.defined()) {
    const k::ConvolutionFormats formats = k::convolution_formats(Device::cpu, s);
    Generator generator{1, 0};
    Tensor input = Tensor::empty({s.batch, s.in_channels, s.in_height, s.in_width});
    uniform_(input, generator, -1.0f, 1.0f);
    b.input = input.to_format(formats.input);
    b.weight = Tensor::empty({s.out_channels, s.in_channels, s.kernel_height, s.kernel_width});
    uniform_(b.weight, generator, -0.1f, 0.1f);
    Tensor output = Tensor::empty({s.batch, s.out_channels, s.out_height(), s.out_width()});
    uniform_(output, generator, -1.0f, 1.0f);  // also the d_output of the backward passes
    b.output = output.to_format(formats.output);
    b.workspace = Tensor::empty({static_cast<int64_t>(k::convolution_workspace_bytes(Device::cpu, s))}, DType::uint8);
  }
  return b;
}

// Before a pass is timed, its result is checked at sampled points against the
// definition computed in double (a benchmark of a wrong kernel is worthless).
// Throws naming the pass and the worst relative error.
void validate(const std::string& pass, const k::ConvolutionShape& s, const ConvBuffers& b, const Tensor& result) {
  const std::vector<float> x = b.input.to_vector<float>(), w = b.weight.to_vector<float>();
  const std::vector<float> dy = b.output.to_vector<float>(), got = result.to_vector<float>();
  const int64_t C = s.in_channels, H = s.in_height, W = s.in_width, K = s.out_channels;
  const int64_t R = s.kernel_height, S = s.kernel_width, P = s.out_height(), Q = s.out_width();
  // Visits the terms of output (n, kk, p, q): input index, weight index.
  auto for_terms = [&](int64_t n, int64_t kk, int64_t p, int64_t q, auto visit) {
    for (int64_t c = 0; c < C; ++c)
      for (int64_t r = 0; r < R; ++r)
        for (int64_t t = 0; t < S; ++t) {
          const int64_t h = p * s.stride_height - s.padding_height + r * s.dilation_height;
          const int64_t v = q * s.stride_width - s.padding_width + t * s.dilation_width;
          if (h >= 0 && h < H && v >= 0 && v < W) visit(((n * C + c) * H + h) * W + v, ((kk * C + c) * R + r) * S + t);
        }
  };
  double worst = 0.0;
  uint64_t state = 12345;
  auto pick = [&](int64_t range) { state = state * 6364136223846793005ull + 1442695040888963407ull; return int64_t((state >> 33) % uint64_t(range)); };
  for (int sample = 0; sample < 24; ++sample) {
    double expected = 0.0, scale = 0.0;
    int64_t index = 0;
    if (pass == "forward") {
      const int64_t n = pick(s.batch), kk = pick(K), p = pick(P), q = pick(Q);
      for_terms(n, kk, p, q, [&](int64_t xi, int64_t wi) { expected += double(x[xi]) * w[wi]; scale += std::abs(double(x[xi]) * w[wi]); });
      index = ((n * K + kk) * P + p) * Q + q;
    } else if (pass == "backward_weights") {
      // dW[kk, c, r, t] = sum over n, p, q of x[n, c, tap] * dy[n, kk, p, q]
      const int64_t kk = pick(K), c = pick(C), r = pick(R), t = pick(S);
      index = ((kk * C + c) * R + r) * S + t;
      for (int64_t n = 0; n < s.batch; ++n)
        for (int64_t p = 0; p < P; ++p)
          for (int64_t q = 0; q < Q; ++q) {
            const int64_t h = p * s.stride_height - s.padding_height + r * s.dilation_height;
            const int64_t v = q * s.stride_width - s.padding_width + t * s.dilation_width;
            if (h < 0 || h >= H || v < 0 || v >= W) continue;
            const double term = double(x[((n * C + c) * H + h) * W + v]) * dy[((n * K + kk) * P + p) * Q + q];
            expected += term;
            scale += std::abs(term);
          }
    } else {  // backward_data: dX[n, c, h, v] = sum over the outputs (kk, p, q) whose tap (r, t) lands on it
      const int64_t n = pick(s.batch), c = pick(C), h = pick(H), v = pick(W);
      index = ((n * C + c) * H + h) * W + v;
      for (int64_t r = 0; r < R; ++r)
        for (int64_t t = 0; t < S; ++t) {
          const int64_t ph = h + s.padding_height - r * s.dilation_height;
          const int64_t qw = v + s.padding_width - t * s.dilation_width;
          if (ph < 0 || qw < 0 || ph % s.stride_height || qw % s.stride_width) continue;
          const int64_t p = ph / s.stride_height, q = qw / s.stride_width;
          if (p >= P || q >= Q) continue;
          for (int64_t kk = 0; kk < K; ++kk) {
            const double term = double(dy[((n * K + kk) * P + p) * Q + q]) * w[((kk * C + c) * R + r) * S + t];
            expected += term;
            scale += std::abs(term);
          }
        }
    }
    worst = std::max(worst, std::abs(got[index] - expected) / std::max(scale, 1e-30));
  }
  if (worst > 1e-5) throw Error(concat(pass, " gives wrong results: relative error ", worst));
}

// Mean seconds per call of `run`, after one warm-up call (apps/bench/timing.h).
template <class Run>
std::pair<double, int> time_calls(const Run& run) {
  const bench::Timing timing = bench::time_calls(run);
  return {timing.seconds, timing.calls};
}

std::pair<double, int> time_convolution(const std::string& pass, const k::ConvolutionShape& s) {
  ConvBuffers& b = buffers_for(s);
  Tensor scratch_input = Tensor::empty(b.input.shape(), DType::float32, Device::cpu, b.input.format());
  Tensor scratch_weight = Tensor::empty(b.weight.shape());
  if (b.validated.insert(pass).second) {
    // One call, then check it; the timing below repeats the same call.
    Tensor* result = pass == "forward" ? &b.output : pass == "backward_data" ? &scratch_input : &scratch_weight;
    Tensor saved_output = b.output.clone();  // forward overwrites the d_output the backward passes read
    if (pass == "forward") {
      k::convolution_forward(Device::cpu, s, b.input.data<float>(), b.weight.data<float>(), nullptr, {},
                             b.output.data<float>(), b.workspace.raw_data());
      validate(pass, s, b, *result);
      b.output.copy_from(saved_output);
    } else if (pass == "backward_data") {
      k::convolution_backward_data(Device::cpu, s, b.output.data<float>(), b.weight.data<float>(), 0.0f,
                                   scratch_input.data<float>(), b.workspace.raw_data());
      validate(pass, s, b, *result);
    } else if (pass == "backward_weights") {
      k::convolution_backward_weights(Device::cpu, s, b.input.data<float>(), b.output.data<float>(), 0.0f,
                                      scratch_weight.data<float>(), nullptr, b.workspace.raw_data());
      validate(pass, s, b, *result);
    }
  }
  if (pass == "forward") {
    return time_calls([&] {
      k::convolution_forward(Device::cpu, s, b.input.data<float>(), b.weight.data<float>(), nullptr, {},
                             b.output.data<float>(), b.workspace.raw_data());
    });
  }
  if (pass == "backward_data") {
    return time_calls([&] {
      k::convolution_backward_data(Device::cpu, s, b.output.data<float>(), b.weight.data<float>(), 0.0f,
                                   scratch_input.data<float>(), b.workspace.raw_data());
    });
  }
  if (pass == "backward_weights") {
    return time_calls([&] {
      k::convolution_backward_weights(Device::cpu, s, b.input.data<float>(), b.output.data<float>(), 0.0f,
                                      scratch_weight.data<float>(), nullptr, b.workspace.raw_data());
    });
  }
  throw Error("unknown pass \"" + pass + "\" (forward, backward_data, backward_weights)");
}

std::pair<double, int> time_sgemm(int64_t M, int64_t N, int64_t K) {
  Tensor a = Tensor::empty({M, K}), b = Tensor::empty({K, N}), c = Tensor::empty({M, N});
  Generator generator{2, 0};
  uniform_(a, generator, -1.0f, 1.0f);
  uniform_(b, generator, -1.0f, 1.0f);
  return time_calls([&] {
    k::gemm(Device::cpu, false, false, M, N, K, 1.0f, a.data<float>(), K, b.data<float>(), N, 0.0f, c.data<float>(), N);
  });
}

k::ConvolutionShape parse_shape(std::istringstream& words) {
  k::ConvolutionShape s;
  words >> s.batch >> s.in_channels >> s.in_height >> s.in_width >> s.out_channels >> s.kernel_height >>
      s.kernel_width >> s.stride_height >> s.padding_height >> s.dilation_height;
  s.stride_width = s.stride_height;
  s.padding_width = s.padding_height;
  s.dilation_width = s.dilation_height;
  if (!words) throw Error("conv request needs: pass N C H W K R S stride padding dilation");
  return s;
}

int serve() {
  return bench::serve_requests([](const std::string& command, std::istringstream& words) {
    std::pair<double, int> result;
    if (command == "conv") {
      std::string pass;
      words >> pass;
      result = time_convolution(pass, parse_shape(words));
    } else if (command == "sgemm") {
      int64_t M = 0, N = 0, K = 0;
      words >> M >> N >> K;
      result = time_sgemm(M, N, K);
    } else {
      throw Error("unknown request \"" + command + "\"");
    }
    std::printf("%.9f %d\n", result.first, result.second);
  });
}

// Our own table at 224 x 224, batch 1, for a quick look without the peer.
int table() {
  const auto [sgemm_seconds, sgemm_calls] = time_sgemm(2048, 2048, 2048);
  const double peak = 2.0 * 2048.0 * 2048.0 * 2048.0 / sgemm_seconds / 1e9;
  std::printf("wise conv benchmark, %d thread(s); sgemm 2048^3: %.1f GFLOP/s (%d calls)\n", k::cpu::num_threads(),
              peak, sgemm_calls);
  std::printf("%-34s %10s %10s %10s\n", "shape (N C H W -> K RxS /stride)", "fwd GF/s", "bwd-d GF/s", "bwd-w GF/s");
  const int64_t shapes[][8] = {{3, 224, 64, 7, 2, 3}, {64, 56, 64, 3, 1, 1}, {256, 56, 64, 1, 1, 0},
                               {128, 28, 128, 3, 1, 1}, {256, 14, 256, 3, 1, 1}, {512, 7, 512, 3, 1, 1},
                               {1024, 14, 256, 1, 1, 0}, {512, 7, 2048, 1, 1, 0}};
  for (const auto& row : shapes) {
    k::ConvolutionShape s;
    s.in_channels = row[0];
    s.in_height = s.in_width = row[1];
    s.out_channels = row[2];
    s.kernel_height = s.kernel_width = row[3];
    s.stride_height = s.stride_width = row[4];
    s.padding_height = s.padding_width = row[5];
    std::printf("1 %4lld %4lld %4lld -> %4lld %lldx%lld /%lld       ", (long long)s.in_channels,
                (long long)s.in_height, (long long)s.in_width, (long long)s.out_channels, (long long)row[3],
                (long long)row[3], (long long)row[4]);
    for (const char* pass : {"forward", "backward_data", "backward_weights"}) {
      if (std::string(pass) == "backward_data" && s.in_channels == 3) {
        std::printf(" %10s", "-");
        continue;
      }
      std::printf(" %10.1f", s.flops() / time_convolution(pass, s).first / 1e9);
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string option = argc > 1 ? argv[1] : "";
    if (option == "--help" || option == "-h") {
      std::printf(
          "usage: wise_bench_conv [--serve]\n"
          "  (no option)  the table: GFLOP/s of each convolution pass on ResNet-50's layer shapes\n"
          "  --serve      answer timing requests on stdin (benchmarks/conv_vs_torch.py's protocol:\n"
          "               \"conv <pass> N C H W K R S stride padding dilation\" or \"sgemm M N K\" ->\n"
          "               \"<seconds per call> <calls>\"; \"quit\")\n"
          "threads: OMP_NUM_THREADS\n");
      return 0;
    }
    if (argc > 2 || (argc == 2 && option != "--serve"))
      throw std::invalid_argument("unknown option \"" + (argc > 2 ? std::string(argv[2]) : option) +
                                  "\" (--help lists them)");
    if (option == "--serve") return serve();
    return table();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "wise_bench_conv: %s\n", error.what());
    return 1;
  }
}
