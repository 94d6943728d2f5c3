// Data-parallel training on a ParameterBuffer (distributed/communicator.h has the scheme):
// what the training loop (train/training_loop.h) does around each step when its job has
// more than one process. Each is one collective over one contiguous range.
//
//   broadcast_parameters  every value (trainable and not) from rank 0, once at the start:
//                         a resumed or freshly initialised model is rank 0's everywhere
//   average_gradients     trainable_gradients() summed over the ranks, then x 1 / W: each
//                         rank's gradient is the mean over its shard of the global batch,
//                         so the result is the global batch's mean (shards of equal size)
//   broadcast_buffers     the non-trainable range (BatchNorm's running statistics, frozen
//                         weights) from rank 0, after each step: DistributedDataParallel's
//                         broadcast_buffers, so the ranks save and validate one model
//   average_scalars       loss terms and metrics summed, x 1 / W
//
// Why the mean is not bit-identical to one process with the whole batch: a backward pass
// sums a weight's gradient over the batch's images in an order of its own (a gemm over
// the batch, the batch's RoIs at once); two ranks each sum half and the all-reduce adds
// the halves. The two orders round differently, by about 1e-7 relative per step; the
// parameters after k steps agree to ~1e-6 (tests/distributed/).
#pragma once

#include <vector>

#include "data/loader.h"
#include "distributed/communicator.h"
#include "nn/parameter_buffer.h"

namespace wise {

void broadcast_parameters(ParameterBuffer& parameters, distributed::Communicator& communicator);
void average_gradients(ParameterBuffer& parameters, distributed::Communicator& communicator);
void broadcast_buffers(ParameterBuffer& parameters, distributed::Communicator& communicator);
void average_scalars(std::vector<double>& values, distributed::Communicator& communicator);

// This rank's part of a global batch of `global_batch` images: the loader's rank and
// world size (data/loader.h's Sharding) and batch_size = global_batch / W, which W must
// divide (an error naming both otherwise). `job` null: one process, the whole batch.
void shard_global_batch(data::LoaderOptions& loader, int64_t global_batch, const distributed::Communicator* job);

// Whether this process writes the run's files (checkpoints, logs, results) and runs what
// follows training: rank 0 of a job, or a process alone (`job` null).
inline bool leads_job(const distributed::Communicator* job) { return job == nullptr || job->rank() == 0; }

}  // namespace wise
