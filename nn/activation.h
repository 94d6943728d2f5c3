// Elementwise layers over Tensors: ReLU, addition (a residual connection), the sigmoid;
// and the row softmax.
//
// They work on any memory format as long as all operands share it, since they
// act on each stored element alike (blocked formats' zero padding stays zero:
// relu(0) = 0, 0 + 0 = 0).
#pragma once

#include "nn/tensor.h"

namespace wise {

// output = max(input, 0); `output` may be `input` (in place).
void relu_forward(const Tensor& input, Tensor& output);
// d_input += output > 0 ? d_output : 0, from the forward's OUTPUT.
void relu_backward(const Tensor& output, const Tensor& d_output, Tensor& d_input);

// output = 1 / (1 + exp(-input)) (torch.sigmoid), forward only: the RPN's objectness
// scores, which nothing differentiates. Plain input only; `output` may be `input`.
void sigmoid_forward(const Tensor& input, Tensor& output);

// output (N, C) = softmax of each row of input (N, C) (torch.softmax(input, -1)), forward
// only: the box classifier's probabilities at inference. Plain; `output` may be `input`.
void softmax_forward(const Tensor& input, Tensor& output);

// output = a + b
void add_forward(const Tensor& a, const Tensor& b, Tensor& output);
// d_a += d_output; d_b += d_output (either may be nullptr).
void add_backward(const Tensor& d_output, Tensor* d_a, Tensor* d_b);

}  // namespace wise
