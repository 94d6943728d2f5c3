// The Communicator over MPI (Open MPI: Debian's libopenmpi-dev / openmpi-bin): CPU
// processes on one machine or many, started by `mpirun -np N <app> ...`.
//
// Collectives are MPI_Allreduce(MPI_IN_PLACE, MPI_SUM) and MPI_Bcast on MPI_COMM_WORLD,
// in pieces of at most 2^30 elements (MPI's counts are int). Host memory only: CUDA
// gradients go through NCCL, and a CUDA pointer here is an error rather than a hidden
// copy. Errors return (MPI_ERRORS_RETURN) and become a wise::Error naming the call, its
// file and line, and MPI's own text for the code.
//
// Threads: MPI is initialised with MPI_THREAD_FUNNELED: only the thread that initialised
// it calls MPI (the training loop's), while OpenMP threads compute.
#pragma once

#include <memory>

#include "distributed/communicator.h"

namespace wise::distributed {

// MPI_Init_thread on construction, MPI_Finalize on destruction; one per process, and no
// MPI call outside its lifetime (a second one is an error).
class MpiRuntime {
 public:
  MpiRuntime(int* argc, char*** argv);
  ~MpiRuntime();
  MpiRuntime(const MpiRuntime&) = delete;
  MpiRuntime& operator=(const MpiRuntime&) = delete;
};

// The communicator of MPI_COMM_WORLD; `runtime` must outlive it.
std::unique_ptr<Communicator> mpi_world_communicator(const MpiRuntime& runtime);

}  // namespace wise::distributed
