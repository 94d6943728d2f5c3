// Sorting and scans on device buffers, through Thrust.
//
// Thrust runs the same algorithm on the CUDA system (GPU) or the OpenMP system
// (CPU). Its templates are expensive for nvcc (about 10 s per architecture per
// instantiation), so every Thrust call in wise lives in kernels/sort.cu and
// other code reaches it through these few functions.
#pragma once

#include <cstdint>

#include "kernels/device.h"

namespace wise::kernels {

// Stable sort of (keys, values) by key, descending: equal keys keep their input
// order. With values = 0..n-1 this gives torchvision's NMS order (score desc,
// index asc), identically on both devices.
void stable_sort_by_key_descending(Device device, float* keys, int64_t* values, int64_t n);

// Stable sort of (keys, values) by integer key, ascending: equal keys keep their
// input order. Batched NMS groups its score-sorted boxes by category with it.
void stable_sort_by_key_ascending(Device device, int64_t* keys, int64_t* values, int64_t n);

// out[i] = x[0] + ... + x[i]; in place is fine.
void inclusive_scan(Device device, const int64_t* x, int64_t* out, int64_t n);

}  // namespace wise::kernels
