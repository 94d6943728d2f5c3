// Indexing layers: row selection by index and per-row class selection, forward and
// backward (kernels/gather.h holds the arithmetic and says why the backwards need no
// atomics).
//
//   index_select_rows   input (N, D...) , index (K) int64  -> output (K, D...)
//                       torch: input[index]; Mask R-CNN: the sampled anchors or RoIs
//   select_class        input (K, C, D...), labels (K) int64 -> output (K, D...)
//                       torch: input[arange(K), labels]; the chosen class's deltas or mask
//
// Everything is float32 (indices int64), plain, on one device. Outputs are (re)allocated
// with ensure_tensor and overwritten; backwards ADD into d_input, which must exist with
// the input's shape (wise's one accumulation rule). index_select_rows_backward needs
// distinct indices; both check ranges (and distinctness) on the CPU, where the values
// are at hand; on the GPU an out-of-range index reads 0 and writes nothing.
#pragma once

#include "nn/tensor.h"

namespace wise {

void index_select_rows(const Tensor& input, const Tensor& index, Tensor& output);
void index_select_rows_backward(const Tensor& d_output, const Tensor& index, Tensor& d_input);

void select_class(const Tensor& input, const Tensor& labels, Tensor& output);
void select_class_backward(const Tensor& d_output, const Tensor& labels, Tensor& d_input);

}  // namespace wise
