// Losses, forward and backward, with PyTorch's semantics (torch.nn.functional).
//
//   softmax_cross_entropy              F.cross_entropy           Fast R-CNN box classifier
//   binary_cross_entropy_with_logits   F.binary_cross_entropy_with_logits   RPN objectness,
//                                                                Mask R-CNN mask head
//   smooth_l1                          F.smooth_l1_loss          box regression (beta = 1/9,
//                                                                reduction sum, as torchvision)
//   multilabel_soft_margin             F.multilabel_soft_margin_loss   PRM classification
//
// Every forward writes the loss to `loss`, a float32 tensor of shape [1] on the
// inputs' device (allocated by ensure_tensor), so a training step needs no host
// synchronisation. Every backward takes `d_loss`, a 1-element float32 tensor on the
// same device (1 for the plain gradient of this loss), and ADDS the input gradient
// into `d_logits` / `d_input`, which must exist with the input's shape (wise's one
// accumulation rule). Only the gradient of the first input is computed: targets and
// weights are data, not parameters.
//
// Tensors: float32 (targets of softmax_cross_entropy: int64), plain layout, all on
// one device. Reductions are deterministic (kernels/reduce.h): the loss is bitwise the
// same at any CPU thread count. Formulas and numerics: kernels/losses.h.
#pragma once

#include <cstdint>

#include "kernels/losses.h"
#include "nn/tensor.h"

namespace wise {

// Reduction::mean or Reduction::sum over the per-element terms (torch's `reduction`
// argument without "none").
using kernels::Reduction;

// ---------------------------------------------------------------------------------------
// Softmax cross entropy. logits (N, C), targets int64 (N) with values in [0, C) or
// ignore_index. mean: over the rows that are not ignored (NaN if all are, as torch).
// An out-of-range target is a named error when the targets are on the CPU; on the GPU
// it cannot be checked without a host sync, and makes the loss (and that row's
// gradient) NaN instead.
// ---------------------------------------------------------------------------------------

struct SoftmaxCrossEntropyOptions {
  Reduction reduction = Reduction::mean;
  int64_t ignore_index = -100;
};

void softmax_cross_entropy_forward(const Tensor& logits,   // (N, C)
                                   const Tensor& targets,  // int64 (N)
                                   const SoftmaxCrossEntropyOptions& options,
                                   Tensor& loss);  // [1]
void softmax_cross_entropy_backward(const Tensor& d_loss,   // [1]
                                    const Tensor& logits,   // (N, C)
                                    const Tensor& targets,  // int64 (N)
                                    const SoftmaxCrossEntropyOptions& options,
                                    Tensor& d_logits);  // (N, C), += ...

// ---------------------------------------------------------------------------------------
// Binary cross entropy with logits. logits, targets (any values in [0, 1]) and the
// optional per-element weight (undefined Tensor = none) share one shape. mean divides
// by the number of elements.
// ---------------------------------------------------------------------------------------

struct BinaryCrossEntropyWithLogitsOptions {
  Reduction reduction = Reduction::mean;
};

void binary_cross_entropy_with_logits_forward(const Tensor& logits,   // any shape S
                                              const Tensor& targets,  // S
                                              const Tensor& weight,   // S, or undefined
                                              const BinaryCrossEntropyWithLogitsOptions& options,
                                              Tensor& loss);  // [1]
void binary_cross_entropy_with_logits_backward(const Tensor& d_loss,   // [1]
                                               const Tensor& logits,   // S
                                               const Tensor& targets,  // S
                                               const Tensor& weight,   // S, or undefined
                                               const BinaryCrossEntropyWithLogitsOptions& options,
                                               Tensor& d_logits);  // S, += ...

// ---------------------------------------------------------------------------------------
// Smooth L1: |d| < beta ? 0.5 d^2 / beta : |d| - 0.5 beta, d = input - target. beta = 0
// is the L1 loss (as torch); beta < 0 is an error (as torch).
// ---------------------------------------------------------------------------------------

struct SmoothL1Options {
  Reduction reduction = Reduction::mean;
  float beta = 1.0f;
};

void smooth_l1_forward(const Tensor& input,   // any shape S
                       const Tensor& target,  // S
                       const SmoothL1Options& options,
                       Tensor& loss);  // [1]
void smooth_l1_backward(const Tensor& d_loss,  // [1]
                        const Tensor& input,   // S
                        const Tensor& target,  // S
                        const SmoothL1Options& options,
                        Tensor& d_input);  // S, += ...

// ---------------------------------------------------------------------------------------
// Multilabel soft margin: row n's loss is -(1/C) sum_c w_c [t log sigma(x) + (1 - t)
// log sigma(-x)]; mean (or sum) over the N rows. target holds 0/1 labels (any values
// in [0, 1] work); weight (C) per class, or undefined.
// ---------------------------------------------------------------------------------------

struct MultilabelSoftMarginOptions {
  Reduction reduction = Reduction::mean;
};

void multilabel_soft_margin_forward(const Tensor& input,   // (N, C)
                                    const Tensor& target,  // (N, C)
                                    const Tensor& weight,  // (C), or undefined
                                    const MultilabelSoftMarginOptions& options,
                                    Tensor& loss);  // [1]
void multilabel_soft_margin_backward(const Tensor& d_loss,  // [1]
                                     const Tensor& input,   // (N, C)
                                     const Tensor& target,  // (N, C)
                                     const Tensor& weight,  // (C), or undefined
                                     const MultilabelSoftMarginOptions& options,
                                     Tensor& d_input);  // (N, C), += ...

}  // namespace wise
