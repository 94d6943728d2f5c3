// Row gathers and their backward: the indexing steps of Mask R-CNN's losses.
//
//   gather_rows          output[k, j] = input[index[k], j]          torch: input[index]
//   scatter_add_rows     d_input[index[k], j] += d_output[k, j]     its backward
//   select_class         output[k, j] = input[k, labels[k], j]      torch: input[arange(K), labels]
//   select_class_backward d_input[k, labels[k], j] += d_output[k, j]
//
// The RPN picks its sampled anchors' objectness and deltas with gather_rows
// (torchvision's objectness[sampled_inds]); the box head picks each RoI's
// class-specific deltas and the mask head each RoI's class mask with select_class
// (box_regression[sampled_pos_inds_subset, labels_pos], mask_logits[arange, labels]).
//
// All four are one element per output value. The backwards are gathers too: in
// scatter_add_rows the indices must be DISTINCT (a sampled subset, as every caller
// has), so element (k, j) is the only writer of d_input[index[k], j]; in
// select_class_backward element (k, j) owns row k. No atomics, deterministic on both
// devices. An index outside its range reads 0 and writes nothing, so a bad index on the
// GPU cannot touch memory out of bounds (nn/indexing.h checks the range on the CPU).
#pragma once

#include <cstdint>

#include "kernels/device.h"

namespace wise::kernels {

// input (N, D), index (K) -> output (K, D).
void gather_rows(Device device, const float* input, int64_t N, int64_t D, const int64_t* index,
                 int64_t K, float* output);

// d_input (N, D) += d_output (K, D) scattered to rows index (K), indices distinct.
void scatter_add_rows(Device device, const float* d_output, int64_t K, int64_t D,
                      const int64_t* index, int64_t N, float* d_input);

// input (K, C, D), labels (K) in [0, C) -> output (K, D).
void select_class(Device device, const float* input, int64_t K, int64_t C, int64_t D,
                  const int64_t* labels, float* output);

// d_input (K, C, D) += d_output (K, D) at each row's label.
void select_class_backward(Device device, const float* d_output, int64_t K, int64_t C, int64_t D,
                           const int64_t* labels, float* d_input);

}  // namespace wise::kernels
