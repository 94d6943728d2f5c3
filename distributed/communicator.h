// The processes of one data-parallel job and the collectives training needs from them.
//
// Data parallelism in wise (issue 25): every rank holds the whole model, reads its shard
// of each global batch (data/loader.h's Sharding), runs forward and backward, and then
//   gradients   one all-reduce (sum) over ParameterBuffer::trainable_gradients(), the one
//               contiguous range, divided by the world size: the mean over the global batch
//   buffers     one broadcast of the non-trainable values (BatchNorm's running statistics)
//               from rank 0, as PyTorch's DistributedDataParallel does, so every rank
//               saves and validates the same model
//   scalars     the loss terms, metrics and a stop flag, one all-reduce of a few doubles
// so every rank takes the same optimizer step on the same bits (train/data_parallel.h).
//
// Engines: the job's processes come from an existing launcher and library, never a
// protocol of ours: Open MPI (mpirun; distributed/mpi_communicator.h) across CPU processes
// and machines, and NCCL for CUDA devices. A job of one process needs neither
// (single_process_communicator). distributed/session.h picks the engine at start-up.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "kernels/device.h"

namespace wise::distributed {

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;        // 0 .. world_size() - 1
  virtual int world_size() const = 0;  // >= 1
  virtual std::string engine() const = 0;  // "single process", "MPI (Open MPI v4.1.4)", ...

  // In place, on every rank: data[i] = the sum over ranks of data[i], count floats in
  // `device` memory. Every rank gets the same bits (a sum of two is commutative; larger
  // jobs rely on the engine reducing each element once and distributing the result, as
  // Open MPI's and NCCL's ring and recursive-doubling algorithms do). A device the engine
  // cannot reach is an error naming both, never a silent copy through the host.
  virtual void all_reduce_sum(float* data, int64_t count, kernels::Device device) = 0;
  // The same for a few host doubles (loss terms, metrics, flags).
  virtual void all_reduce_sum(double* values, int64_t count) = 0;
  // In place: every rank's data = rank `root`'s.
  virtual void broadcast(float* data, int64_t count, kernels::Device device, int root) = 0;
  // Returns once every rank has called it.
  virtual void barrier() = 0;
};

// A job of one process: the collectives are the identity.
std::unique_ptr<Communicator> single_process_communicator();

}  // namespace wise::distributed
