// The CUDA convolution backend (see kernels/convolution.h), on cuDNN's
// convolution API (cuDNN 9 keeps it beside the graph API).
//
// NCHW float32, FMA math only (no TF32 tensor-core rounding), so results match
// the CPU backend to float accuracy. Algorithms are chosen once per shape from
// cuDNN's heuristics, preferring deterministic ones for the backward passes
// (bitwise-reproducible training), and cached with their workspace sizes. Bias
// and ReLU run as our own kernels after the convolution.
#include <algorithm>
#include <array>
#include <map>
#include <mutex>

#include "kernels/channel_ops.h"
#include "kernels/check.h"
#include "kernels/convolution.h"
#include "kernels/cuda/library_handles.h"
#include "kernels/cuda/status_check.h"
#include "kernels/elementwise.h"

namespace wise::kernels::cuda {

namespace {

// cuDNN descriptors for one convolution shape, created and destroyed together.
class Descriptors {
 public:
  explicit Descriptors(const ConvolutionShape& s) {
    WISE_CUDNN_CHECK(cudnnCreateTensorDescriptor(&input));
    WISE_CUDNN_CHECK(cudnnCreateTensorDescriptor(&output));
    WISE_CUDNN_CHECK(cudnnCreateFilterDescriptor(&weight));
    WISE_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&convolution));
    WISE_CUDNN_CHECK(cudnnSetTensor4dDescriptor(input, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, int(s.batch),
                                                int(s.in_channels), int(s.in_height), int(s.in_width)));
    WISE_CUDNN_CHECK(cudnnSetTensor4dDescriptor(output, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, int(s.batch),
                                                int(s.out_channels), int(s.out_height()), int(s.out_width())));
    WISE_CUDNN_CHECK(cudnnSetFilter4dDescriptor(weight, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, int(s.out_channels),
                                                int(s.in_channels), int(s.kernel_height), int(s.kernel_width)));
    WISE_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
        convolution, int(s.padding_height), int(s.padding_width), int(s.stride_height), int(s.stride_width),
        int(s.dilation_height), int(s.dilation_width), CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    WISE_CUDNN_CHECK(cudnnSetConvolutionMathType(convolution, CUDNN_FMA_MATH));
  }
  ~Descriptors() {
    cudnnDestroyTensorDescriptor(input);
    cudnnDestroyTensorDescriptor(output);
    cudnnDestroyFilterDescriptor(weight);
    cudnnDestroyConvolutionDescriptor(convolution);
  }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;

  cudnnTensorDescriptor_t input = nullptr, output = nullptr;
  cudnnFilterDescriptor_t weight = nullptr;
  cudnnConvolutionDescriptor_t convolution = nullptr;
};

struct Algorithms {
  cudnnConvolutionFwdAlgo_t forward;
  cudnnConvolutionBwdDataAlgo_t backward_data;
  cudnnConvolutionBwdFilterAlgo_t backward_filter;
  std::size_t workspace_bytes = 0;
};

// The first algorithm of cuDNN's ranked list that works (and, if asked, is
// deterministic).
template <class Perf>
const Perf& first_usable(const Perf* ranked, int count, bool need_deterministic, const char* pass) {
  for (int i = 0; i < count; ++i) {
    if (ranked[i].status == CUDNN_STATUS_SUCCESS &&
        (!need_deterministic || ranked[i].determinism == CUDNN_DETERMINISTIC)) {
      return ranked[i];
    }
  }
  throw Error(concat("cuDNN offers no usable ", need_deterministic ? "deterministic " : "", "algorithm for the ",
                     pass, " pass"));
}

Algorithms choose_algorithms(const ConvolutionShape& shape) {
  const Descriptors d(shape);
  cudnnHandle_t handle = cudnn_handle();
  constexpr int kCandidates = 16;
  int count = 0;
  Algorithms chosen{};

  std::array<cudnnConvolutionFwdAlgoPerf_t, kCandidates> forward{};
  WISE_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(handle, d.input, d.weight, d.convolution, d.output,
                                                          kCandidates, &count, forward.data()));
  const auto& f = first_usable(forward.data(), count, false, "forward");
  chosen.forward = f.algo;

  std::array<cudnnConvolutionBwdDataAlgoPerf_t, kCandidates> data{};
  WISE_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, d.weight, d.output, d.convolution, d.input,
                                                               kCandidates, &count, data.data()));
  const auto& b = first_usable(data.data(), count, true, "backward-data");
  chosen.backward_data = b.algo;

  std::array<cudnnConvolutionBwdFilterAlgoPerf_t, kCandidates> filter{};
  WISE_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, d.input, d.output, d.convolution, d.weight,
                                                                 kCandidates, &count, filter.data()));
  const auto& w = first_usable(filter.data(), count, true, "backward-filter");
  chosen.backward_filter = w.algo;

  chosen.workspace_bytes = std::max({f.memory, b.memory, w.memory});
  return chosen;
}

const Algorithms& algorithms_for(const ConvolutionShape& s) {
  using Key = std::array<int64_t, 13>;
  static std::mutex mutex;
  static std::map<Key, Algorithms> cache;
  const Key key{s.batch, s.in_channels, s.in_height, s.in_width, s.out_channels, s.kernel_height,
                s.kernel_width, s.stride_height, s.stride_width, s.padding_height, s.padding_width,
                s.dilation_height, s.dilation_width};
  std::lock_guard<std::mutex> lock(mutex);
  auto found = cache.find(key);
  if (found == cache.end()) found = cache.emplace(key, choose_algorithms(s)).first;
  return found->second;
}

}  // namespace

std::size_t convolution_workspace_bytes(const ConvolutionShape& shape) {
  return algorithms_for(shape).workspace_bytes;
}

void convolution_forward(const ConvolutionShape& shape, const float* input, const float* weight,
                         const float* bias, ConvolutionEpilogue epilogue, float* output, void* workspace) {
  const Algorithms& algorithms = algorithms_for(shape);
  const Descriptors d(shape);
  const float alpha = 1.0f, beta = epilogue.add_to_output ? 1.0f : 0.0f;
  WISE_CUDNN_CHECK(cudnnConvolutionForward(cudnn_handle(), &alpha, d.input, input, d.weight, weight, d.convolution,
                                           algorithms.forward, workspace, algorithms.workspace_bytes, &beta,
                                           d.output, output));
  const int64_t plane = shape.out_height() * shape.out_width();
  if (bias) {
    add_channel_bias(Device::cuda, bias, MemoryFormat::plain, shape.batch, shape.out_channels, shape.out_height(),
                     shape.out_width(), output);
  }
  if (epilogue.relu) relu_forward(Device::cuda, output, output, shape.batch * shape.out_channels * plane);
}

void convolution_backward_data(const ConvolutionShape& shape, const float* d_output, const float* weight,
                               float beta, float* d_input, void* workspace) {
  const Algorithms& algorithms = algorithms_for(shape);
  const Descriptors d(shape);
  const float alpha = 1.0f;
  WISE_CUDNN_CHECK(cudnnConvolutionBackwardData(cudnn_handle(), &alpha, d.weight, weight, d.output, d_output,
                                                d.convolution, algorithms.backward_data, workspace,
                                                algorithms.workspace_bytes, &beta, d.input, d_input));
}

void convolution_backward_weights(const ConvolutionShape& shape, const float* input, const float* d_output,
                                  float beta, float* d_weight, float* d_bias, void* workspace) {
  const Algorithms& algorithms = algorithms_for(shape);
  const Descriptors d(shape);
  const float alpha = 1.0f;
  WISE_CUDNN_CHECK(cudnnConvolutionBackwardFilter(cudnn_handle(), &alpha, d.input, input, d.output, d_output,
                                                  d.convolution, algorithms.backward_filter, workspace,
                                                  algorithms.workspace_bytes, &beta, d.weight, d_weight));
  if (d_bias) {
    if (beta == 0.0f) fill(Device::cuda, d_bias, 0.0f, shape.out_channels);
    sum_channels_accumulate(Device::cuda, d_output, MemoryFormat::plain, shape.batch, shape.out_channels,
                            shape.out_height(), shape.out_width(), d_bias);
  }
}

}  // namespace wise::kernels::cuda
