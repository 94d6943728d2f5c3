#include "nn/activation.h"

#include "kernels/elementwise.h"
#include "kernels/softmax.h"
#include "nn/ensure.h"

namespace wise {

namespace {

// Elementwise operands must agree on everything but their buffers.
void check_same_kind(const Tensor& reference, const Tensor& other, const char* what) {
  require_float_on(other, reference.device(), what);
  WISE_CHECK(other.shape() == reference.shape() && other.format() == reference.format(), what,
             " must match ", reference.describe(), ", got ", other.describe());
}

}  // namespace

void relu_forward(const Tensor& input, Tensor& output) {
  require_float_on(input, input.device(), "relu: input");
  ensure_tensor(output, input.shape(), DType::float32, input.device(), input.format());
  kernels::relu_forward(input.device(), input.data<float>(), output.data<float>(), input.physical_numel());
}

void relu_backward(const Tensor& output, const Tensor& d_output, Tensor& d_input) {
  require_float_on(output, output.device(), "relu: output");
  check_same_kind(output, d_output, "relu: d_output");
  check_same_kind(output, d_input, "relu: d_input");
  kernels::relu_backward(output.device(), output.data<float>(), d_output.data<float>(), d_input.data<float>(),
                         output.physical_numel());
}

void sigmoid_forward(const Tensor& input, Tensor& output) {
  require_float_on(input, input.device(), "sigmoid: input");
  // sigmoid(0) = 0.5 would break a blocked format's zero padding: plain only.
  WISE_CHECK(input.format() == MemoryFormat::plain, "sigmoid: input must be plain, got ",
             input.describe());
  ensure_tensor(output, input.shape(), DType::float32, input.device());
  kernels::sigmoid_forward(input.device(), input.data<float>(), output.data<float>(),
                           input.physical_numel());
}

void softmax_forward(const Tensor& input, Tensor& output) {
  require_float_on(input, input.device(), "softmax: input");
  WISE_CHECK(input.format() == MemoryFormat::plain && input.rank() == 2 && input.size(1) > 0,
             "softmax: input must be plain (N, C) with C > 0, got ", input.describe());
  ensure_tensor(output, input.shape(), DType::float32, input.device());
  kernels::softmax_rows(input.device(), input.data<float>(), input.size(0), input.size(1),
                        output.data<float>());
}

void add_forward(const Tensor& a, const Tensor& b, Tensor& output) {
  require_float_on(a, a.device(), "add: a");
  check_same_kind(a, b, "add: b");
  ensure_tensor(output, a.shape(), DType::float32, a.device(), a.format());
  kernels::add(a.device(), a.data<float>(), b.data<float>(), output.data<float>(), a.physical_numel());
}

void add_backward(const Tensor& d_output, Tensor* d_a, Tensor* d_b) {
  require_float_on(d_output, d_output.device(), "add: d_output");
  for (Tensor* gradient : {d_a, d_b}) {
    if (!gradient) continue;
    check_same_kind(d_output, *gradient, "add: gradient");
    kernels::axpy(d_output.device(), 1.0f, d_output.data<float>(), gradient->data<float>(),
                  d_output.physical_numel());
  }
}

}  // namespace wise
