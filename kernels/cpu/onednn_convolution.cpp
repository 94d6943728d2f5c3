// The CPU convolution backend (see kernels/convolution.h), on oneDNN.
//
// For each distinct convolution shape (and thread count) a Plan is built once and
// cached: the layouts oneDNN prefers for the activations (asked with
// format_tag::any), and lazily the compiled primitives for the forward variants
// and the two backward passes. Building a primitive JIT-compiles code (~1 ms), so
// the cache is what makes a training step cheap. Weights stay plain OIHW in the
// caller's parameter buffer and are reordered into the primitive's blocked layout
// in the workspace on every call: they change every step, and the reorder costs
// a few percent of the convolution.
#include <omp.h>

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "kernels/check.h"
#include "kernels/convolution.h"
#include "kernels/cpu/onednn.h"
#include "kernels/elementwise.h"

namespace wise::kernels::cpu {

namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using Tag = memory::format_tag;
using DataType = memory::data_type;

struct Compiled {
  dnnl::primitive primitive;
  memory::desc weights;     // the layout the primitive wants its weights in
  memory::desc scratchpad;
  std::optional<dnnl::reorder> weights_reorder;  // plain OIHW -> `weights`, if they differ
  // backward_data only: the d_input layout the primitive computes in, and its reorder to
  // the activation layout when they differ (see Plan::backward_data).
  memory::desc d_input;
  std::optional<dnnl::reorder> d_input_reorder;
  // backward_weights: the input and d_output layouts the primitive reads, and the reorders
  // from the activations' layouts when they differ (see Plan::backward_weights);
  // backward_data uses d_output and d_output_reorder alike (Plan::backward_data).
  memory::desc input, d_output;
  std::optional<dnnl::reorder> input_reorder, d_output_reorder;
};

memory::dims spatial(int64_t h, int64_t w) { return {h, w}; }

memory::desc plain_weights_desc(const ConvolutionShape& s) {
  return memory::desc({s.out_channels, s.in_channels, s.kernel_height, s.kernel_width}, DataType::f32, Tag::oihw);
}

memory::desc any_desc(const memory::dims& dims) { return memory::desc(dims, DataType::f32, Tag::any); }

dnnl::primitive_attr attributes(bool add_to_output, bool relu) {
  dnnl::post_ops post_ops;
  if (add_to_output) post_ops.append_sum(1.0f);
  if (relu) post_ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(post_ops);
  // Scratch memory comes from the caller's workspace, not from oneDNN's allocator.
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

std::optional<dnnl::reorder> reorder_if_needed(const memory::desc& from, const memory::desc& to) {
  if (from == to) return std::nullopt;
  return dnnl::reorder(dnnl::reorder::primitive_desc(onednn_engine(), from, onednn_engine(), to));
}

// Everything oneDNN needs for one convolution shape.
class Plan {
 public:
  explicit Plan(const ConvolutionShape& shape) : shape_(shape) {
    // Let oneDNN choose the activation layouts; keep them if they are formats
    // wise knows (they always are on x86: nchw for 3-channel inputs, nChw16c
    // with AVX-512, nChw8c with AVX2), else fall back to NHWC.
    const auto reference = forward_descriptor(any_desc(input_dims()), any_desc(output_dims()), false);
    const dnnl::convolution_forward::primitive_desc pd(reference, attributes(false, false), onednn_engine());
    const auto input = format_of(pd.src_desc());
    const auto output = format_of(pd.dst_desc());
    formats_ = input && output ? ConvolutionFormats{*input, *output}
                               : ConvolutionFormats{MemoryFormat::nhwc, MemoryFormat::nhwc};
    hint_ = dnnl::convolution_forward::primitive_desc(
        forward_descriptor(input_desc(), output_desc(), true), attributes(false, false), onednn_engine());
  }

  const ConvolutionFormats& formats() const { return formats_; }

  // Largest workspace any pass needs: weights in the primitive's layout plus its
  // scratchpad, plus the backward passes' temporaries.
  std::size_t workspace_bytes() {
    const Compiled& forward = forward_variant(true, false, false);
    const Compiled& data = backward_data();
    const Compiled& weights = backward_weights(true);
    const std::size_t forward_bytes = aligned_bytes(forward.weights.get_size()) + aligned_bytes(forward.scratchpad.get_size());
    const std::size_t data_bytes = aligned_bytes(data.weights.get_size()) + aligned_bytes(data.scratchpad.get_size()) +
                                   aligned_bytes(input_desc().get_size()) +
                                   (data.d_input_reorder ? aligned_bytes(data.d_input.get_size()) : 0) +
                                   (data.d_output_reorder ? aligned_bytes(data.d_output.get_size()) : 0);
    const std::size_t weights_bytes = aligned_bytes(weights.weights.get_size()) +
                                      aligned_bytes(shape_.out_channels * sizeof(float)) +
                                      aligned_bytes(weights.scratchpad.get_size()) +
                                      (weights.input_reorder ? aligned_bytes(weights.input.get_size()) : 0) +
                                      (weights.d_output_reorder ? aligned_bytes(weights.d_output.get_size()) : 0);
    // Post-op variants of the forward may need a little more scratchpad: keep slack.
    return std::max({forward_bytes, data_bytes, weights_bytes}) + 4096;
  }

  const Compiled& forward_variant(bool bias, bool add_to_output, bool relu) {
    std::optional<Compiled>& slot = forward_[bias][add_to_output][relu];
    if (!slot) {
      const dnnl::convolution_forward::primitive_desc pd(forward_descriptor(input_desc(), output_desc(), bias),
                                                         attributes(add_to_output, relu), onednn_engine());
      slot = Compiled{dnnl::convolution_forward(pd), pd.weights_desc(), pd.scratchpad_desc(),
                      reorder_if_needed(plain_weights_desc(shape_), pd.weights_desc()), {}, std::nullopt, {}, {},
                      std::nullopt, std::nullopt};
    }
    return *slot;
  }

  const Compiled& backward_data() {
    if (!backward_data_) {
      // d_input's layout is oneDNN's choice, not the activation's: with a plain input
      // (the 3-channel image, or channels fewer than a SIMD block) and a blocked d_output
      // oneDNN 2.6 has only its reference kernel for the layouts as given, ~100x slower
      // (PRM's peak backpropagation runs the stem's input gradient). A reorder after is
      // cheap. Where it is still the reference kernel (AVX2: the stem's 7x7 stride-2
      // input gradient from nChw8c, 0.9 s a call at 192 x 192), d_output is asked as any
      // too and reordered into the primitive's layout first (its gemm kernel: ~10 ms).
      auto primitive_desc = [&](const memory::desc& d_output) {
        const dnnl::convolution_backward_data::desc desc(algorithm::convolution_direct, any_desc(input_dims()),
                                                         any_desc(weight_dims()), d_output, strides(), dilates(),
                                                         padding(), padding());
        return dnnl::convolution_backward_data::primitive_desc(desc, attributes(false, false), onednn_engine(), hint_);
      };
      dnnl::convolution_backward_data::primitive_desc pd = primitive_desc(output_desc());
      if (std::string(pd.impl_info_str()).rfind("ref", 0) == 0) pd = primitive_desc(any_desc(output_dims()));
      backward_data_ = Compiled{dnnl::convolution_backward_data(pd), pd.weights_desc(), pd.scratchpad_desc(),
                                reorder_if_needed(plain_weights_desc(shape_), pd.weights_desc()), pd.diff_src_desc(),
                                reorder_if_needed(pd.diff_src_desc(), input_desc()), {}, pd.diff_dst_desc(),
                                std::nullopt, reorder_if_needed(output_desc(), pd.diff_dst_desc())};
    }
    return *backward_data_;
  }

  // For backward_weights, `weights` is the layout of diff_weights and
  // weights_reorder goes the other way: that layout -> plain OIHW.
  //
  // The activations' own layouts first. Where oneDNN 2.6 has only its reference kernel for
  // them it is asked again with input and d_output as `any`, and the activations are
  // reordered into its choice in the workspace: on AVX2 (no AVX-512) a dilated 3x3
  // convolution's weight gradient on nChw8c has no JIT kernel, and the reference one took
  // 10 s per call in PRM's output-stride-8 ResNet, where im2col + GEMM on a plain layout,
  // reorders included, takes milliseconds.
  const Compiled& backward_weights(bool bias) {
    std::optional<Compiled>& slot = backward_weights_[bias];
    if (!slot) {
      const memory::desc bias_desc = bias ? memory::desc({shape_.out_channels}, DataType::f32, Tag::x) : memory::desc();
      auto primitive_desc = [&](const memory::desc& input, const memory::desc& d_output) {
        const dnnl::convolution_backward_weights::desc desc(algorithm::convolution_direct, input, any_desc(weight_dims()),
                                                            bias_desc, d_output, strides(), dilates(), padding(),
                                                            padding());
        return dnnl::convolution_backward_weights::primitive_desc(desc, attributes(false, false), onednn_engine(), hint_);
      };
      dnnl::convolution_backward_weights::primitive_desc pd = primitive_desc(input_desc(), output_desc());
      if (std::string(pd.impl_info_str()).rfind("ref", 0) == 0) pd = primitive_desc(any_desc(input_dims()), any_desc(output_dims()));
      slot = Compiled{dnnl::convolution_backward_weights(pd),
                      pd.diff_weights_desc(),
                      pd.scratchpad_desc(),
                      std::nullopt,
                      {},
                      std::nullopt,
                      pd.src_desc(),
                      pd.diff_dst_desc(),
                      reorder_if_needed(input_desc(), pd.src_desc()),
                      reorder_if_needed(output_desc(), pd.diff_dst_desc())};
    }
    return *slot;
  }

  // Reorder from the diff_weights layout to plain OIHW, overwriting or adding.
  dnnl::reorder& weights_to_plain(const memory::desc& from, bool accumulate) {
    std::optional<dnnl::reorder>& slot = weights_to_plain_[accumulate];
    if (!slot) {
      dnnl::primitive_attr attr;
      if (accumulate) {
        dnnl::post_ops post_ops;
        post_ops.append_sum(1.0f);
        attr.set_post_ops(post_ops);
      }
      slot = dnnl::reorder(dnnl::reorder::primitive_desc(onednn_engine(), from, onednn_engine(),
                                                         plain_weights_desc(shape_), attr));
    }
    return *slot;
  }

  memory::desc input_desc() const {
    return activation_desc(formats_.input, shape_.batch, shape_.in_channels, shape_.in_height, shape_.in_width);
  }
  memory::desc output_desc() const {
    return activation_desc(formats_.output, shape_.batch, shape_.out_channels, shape_.out_height(), shape_.out_width());
  }

 private:
  memory::dims input_dims() const { return {shape_.batch, shape_.in_channels, shape_.in_height, shape_.in_width}; }
  memory::dims output_dims() const { return {shape_.batch, shape_.out_channels, shape_.out_height(), shape_.out_width()}; }
  memory::dims weight_dims() const { return {shape_.out_channels, shape_.in_channels, shape_.kernel_height, shape_.kernel_width}; }
  memory::dims strides() const { return spatial(shape_.stride_height, shape_.stride_width); }
  memory::dims padding() const { return spatial(shape_.padding_height, shape_.padding_width); }
  // oneDNN counts dilation from 0 (0 = dense), PyTorch from 1.
  memory::dims dilates() const { return spatial(shape_.dilation_height - 1, shape_.dilation_width - 1); }

  dnnl::convolution_forward::desc forward_descriptor(const memory::desc& input, const memory::desc& output, bool bias) const {
    const memory::desc bias_desc = bias ? memory::desc({shape_.out_channels}, DataType::f32, Tag::x) : memory::desc();
    return dnnl::convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, input,
                                           any_desc(weight_dims()), bias_desc, output, strides(), dilates(),
                                           padding(), padding());
  }

  ConvolutionShape shape_;
  ConvolutionFormats formats_;
  dnnl::convolution_forward::primitive_desc hint_;
  std::optional<Compiled> forward_[2][2][2];
  std::optional<Compiled> backward_data_;
  std::optional<Compiled> backward_weights_[2];
  std::optional<dnnl::reorder> weights_to_plain_[2];
};

// Plans by shape and thread count (oneDNN balances work for the thread count it
// was built with). Plans are never freed: a model has a few dozen shapes.
std::mutex plans_mutex;

Plan& plan_for(const ConvolutionShape& s) {
  using Key = std::array<int64_t, 14>;
  static std::map<Key, std::unique_ptr<Plan>> plans;
  const Key key{s.batch, s.in_channels, s.in_height, s.in_width, s.out_channels, s.kernel_height,
                s.kernel_width, s.stride_height, s.stride_width, s.padding_height, s.padding_width,
                s.dilation_height, s.dilation_width, omp_get_max_threads()};
  std::unique_ptr<Plan>& plan = plans[key];
  if (!plan) plan = std::make_unique<Plan>(s);
  return *plan;
}

// Carves consecutive, 64-byte-aligned pieces out of the caller's workspace.
class WorkspaceCursor {
 public:
  explicit WorkspaceCursor(void* workspace) : next_(static_cast<char*>(workspace)) {}
  void* take(std::size_t bytes) {
    void* piece = next_;
    next_ += aligned_bytes(bytes);
    return piece;
  }

 private:
  char* next_;
};

// Weights in the layout `compiled` wants: the caller's plain buffer itself, or a
// reordered copy in the workspace.
memory weights_for(const Compiled& compiled, const ConvolutionShape& shape, const float* weight,
                   WorkspaceCursor& cursor) {
  memory plain(plain_weights_desc(shape), onednn_engine(), const_cast<float*>(weight));
  if (!compiled.weights_reorder) return plain;
  memory reordered(compiled.weights, onednn_engine(), cursor.take(compiled.weights.get_size()));
  compiled.weights_reorder->execute(onednn_stream(), plain, reordered);
  return reordered;
}

void check_beta(float beta, const char* what) {
  WISE_CHECK(beta == 0.0f || beta == 1.0f, what, ": beta must be 0 (overwrite) or 1 (accumulate), got ", beta);
}

}  // namespace

ConvolutionFormats convolution_formats(const ConvolutionShape& shape) {
  std::lock_guard<std::mutex> lock(plans_mutex);
  return plan_for(shape).formats();
}

std::size_t convolution_workspace_bytes(const ConvolutionShape& shape) {
  std::lock_guard<std::mutex> lock(plans_mutex);
  return plan_for(shape).workspace_bytes();
}

void convolution_forward(const ConvolutionShape& shape, const float* input, const float* weight,
                         const float* bias, ConvolutionEpilogue epilogue, float* output, void* workspace) {
  std::unique_lock<std::mutex> lock(plans_mutex);
  Plan& plan = plan_for(shape);
  const Compiled& compiled = plan.forward_variant(bias != nullptr, epilogue.add_to_output, epilogue.relu);
  lock.unlock();
  WorkspaceCursor cursor(workspace);
  const memory weights = weights_for(compiled, shape, weight, cursor);
  std::unordered_map<int, memory> arguments{
      {DNNL_ARG_SRC, memory(plan.input_desc(), onednn_engine(), const_cast<float*>(input))},
      {DNNL_ARG_WEIGHTS, weights},
      {DNNL_ARG_DST, memory(plan.output_desc(), onednn_engine(), output)},
      {DNNL_ARG_SCRATCHPAD, memory(compiled.scratchpad, onednn_engine(), cursor.take(compiled.scratchpad.get_size()))}};
  if (bias) {
    arguments.emplace(DNNL_ARG_BIAS, memory({{shape.out_channels}, DataType::f32, Tag::x}, onednn_engine(),
                                            const_cast<float*>(bias)));
  }
  compiled.primitive.execute(onednn_stream(), arguments);
  onednn_stream().wait();
}

void convolution_backward_data(const ConvolutionShape& shape, const float* d_output, const float* weight,
                               float beta, float* d_input, void* workspace) {
  check_beta(beta, "convolution_backward_data");
  std::unique_lock<std::mutex> lock(plans_mutex);
  Plan& plan = plan_for(shape);
  const Compiled& compiled = plan.backward_data();
  lock.unlock();
  WorkspaceCursor cursor(workspace);
  const memory weights = weights_for(compiled, shape, weight, cursor);
  const memory::desc input_desc = plan.input_desc();
  // oneDNN overwrites its output; to accumulate, compute into scratch and add.
  float* target = beta == 0.0f ? d_input : static_cast<float*>(cursor.take(input_desc.get_size()));
  // The primitive's own d_input layout, when it is not the activation's, goes to scratch first.
  void* computed = compiled.d_input_reorder ? cursor.take(compiled.d_input.get_size()) : target;
  // And d_output into the primitive's layout, when it reads another.
  memory d_output_memory(plan.output_desc(), onednn_engine(), const_cast<float*>(d_output));
  if (compiled.d_output_reorder) {
    memory reordered(compiled.d_output, onednn_engine(), cursor.take(compiled.d_output.get_size()));
    compiled.d_output_reorder->execute(onednn_stream(), d_output_memory, reordered);
    d_output_memory = reordered;
  }
  compiled.primitive.execute(
      onednn_stream(),
      {{DNNL_ARG_DIFF_DST, d_output_memory},
       {DNNL_ARG_WEIGHTS, weights},
       {DNNL_ARG_DIFF_SRC, memory(compiled.d_input, onednn_engine(), computed)},
       {DNNL_ARG_SCRATCHPAD, memory(compiled.scratchpad, onednn_engine(), cursor.take(compiled.scratchpad.get_size()))}});
  if (compiled.d_input_reorder) {
    memory from(compiled.d_input, onednn_engine(), computed), to(input_desc, onednn_engine(), target);
    compiled.d_input_reorder->execute(onednn_stream(), from, to);
  }
  onednn_stream().wait();
  if (beta != 0.0f) {
    // Same layout on both sides, padding channels zero in both: a flat add.
    const auto count = static_cast<int64_t>(input_desc.get_size() / sizeof(float));
    add(Device::cpu, d_input, target, d_input, count);
  }
}

void convolution_backward_weights(const ConvolutionShape& shape, const float* input, const float* d_output,
                                  float beta, float* d_weight, float* d_bias, void* workspace) {
  check_beta(beta, "convolution_backward_weights");
  std::unique_lock<std::mutex> lock(plans_mutex);
  Plan& plan = plan_for(shape);
  const Compiled& compiled = plan.backward_weights(d_bias != nullptr);
  dnnl::reorder& to_plain = plan.weights_to_plain(compiled.weights, beta != 0.0f);
  lock.unlock();
  WorkspaceCursor cursor(workspace);
  memory diff_weights(compiled.weights, onednn_engine(), cursor.take(compiled.weights.get_size()));
  float* bias_sums = static_cast<float*>(cursor.take(shape.out_channels * sizeof(float)));
  // The activations in the layouts the primitive reads (the same memory when they agree).
  memory source(plan.input_desc(), onednn_engine(), const_cast<float*>(input));
  memory d_destination(plan.output_desc(), onednn_engine(), const_cast<float*>(d_output));
  if (compiled.input_reorder) {
    memory reordered(compiled.input, onednn_engine(), cursor.take(compiled.input.get_size()));
    compiled.input_reorder->execute(onednn_stream(), source, reordered);
    source = reordered;
  }
  if (compiled.d_output_reorder) {
    memory reordered(compiled.d_output, onednn_engine(), cursor.take(compiled.d_output.get_size()));
    compiled.d_output_reorder->execute(onednn_stream(), d_destination, reordered);
    d_destination = reordered;
  }
  std::unordered_map<int, memory> arguments{
      {DNNL_ARG_SRC, source},
      {DNNL_ARG_DIFF_DST, d_destination},
      {DNNL_ARG_DIFF_WEIGHTS, diff_weights},
      {DNNL_ARG_SCRATCHPAD, memory(compiled.scratchpad, onednn_engine(), cursor.take(compiled.scratchpad.get_size()))}};
  if (d_bias) {
    arguments.emplace(DNNL_ARG_DIFF_BIAS, memory({{shape.out_channels}, DataType::f32, Tag::x}, onednn_engine(), bias_sums));
  }
  compiled.primitive.execute(onednn_stream(), arguments);
  // One pass from oneDNN's layout into the plain gradient, adding when asked.
  memory plain_gradient(plain_weights_desc(shape), onednn_engine(), d_weight);
  to_plain.execute(onednn_stream(), diff_weights, plain_gradient);
  onednn_stream().wait();
  if (d_bias) {
    for (int64_t k = 0; k < shape.out_channels; ++k) d_bias[k] = (beta == 0.0f ? 0.0f : d_bias[k]) + bias_sums[k];
  }
}

}  // namespace wise::kernels::cpu
