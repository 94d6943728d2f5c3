// The CUDA stream every wise kernel and copy is issued on.
//
// One stream per host thread (CUDA's per-thread default stream): work issued by
// a training step is ordered without explicit synchronisation, and a loader
// thread's copies do not serialise against it.
#pragma once

#include <cuda_runtime_api.h>

namespace wise::kernels::cuda {

inline cudaStream_t current_stream() { return cudaStreamPerThread; }

}  // namespace wise::kernels::cuda
