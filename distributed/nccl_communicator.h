// The Communicator of a job whose ranks each drive one CUDA device: the gradient
// all-reduce and the broadcasts of device memory go through NCCL (ncclAllReduce /
// ncclBroadcast, one communicator per rank, one GPU per rank), everything on the host
// (loss terms, flags, barriers) through the job's MPI communicator, which also bootstraps
// NCCL: rank 0's ncclUniqueId reaches the others by MPI broadcast.
//
// Device: rank r of a machine's L ranks uses CUDA device (local rank) mod (devices), the
// local rank from Open MPI's OMPI_COMM_WORLD_LOCAL_RANK (0 without it), set with
// cudaSetDevice before any other CUDA work of the process. Collectives are issued on
// wise's stream (kernels/cuda/stream.h) and waited for, so they order after the
// backward that produced the gradients and before the optimizer step.
//
// NCCL is not a Debian package: scripts/setup.sh fetches the nvidia-nccl-cu13 wheel from
// PyPI into .deps/nccl, and CMake's WISE_NCCL (ON for CUDA builds that find it) links it.
// Errors: one check macro naming the call, its file and line and ncclGetErrorString.
#pragma once

#include <memory>

#include "distributed/communicator.h"

namespace wise::distributed {

// Wraps `mpi` (the job's MPI communicator, kept alive by the caller); collective over the
// job: every rank calls it at start-up.
std::unique_ptr<Communicator> nccl_communicator(Communicator& mpi);

// The CUDA device this rank uses, set before NCCL or wise touches the GPU.
int select_rank_device();

}  // namespace wise::distributed
