#include "distributed/session.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "kernels/check.h"

#ifdef WISE_HAVE_MPI
#include "distributed/mpi_communicator.h"
#endif
#ifdef WISE_HAVE_NCCL
#include "distributed/nccl_communicator.h"
#include "kernels/device.h"
#endif

namespace wise::distributed {

#ifndef WISE_HAVE_MPI
class MpiRuntime {};  // never made: the build has no MPI
#endif

int launcher_world_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
    if (const char* value = std::getenv(name)) {
      const int size = std::atoi(value);
      return size > 0 ? size : 1;
    }
  }
  return std::getenv("PMIX_RANK") != nullptr ? 1 : 0;
}

Session::Session(int* argc, char*** argv) {
  const int launched = launcher_world_size();
#ifdef WISE_HAVE_MPI
  if (launched > 0) {
    mpi_ = std::make_unique<MpiRuntime>(argc, argv);
    communicator_ = mpi_world_communicator(*mpi_);
#ifdef WISE_HAVE_NCCL
    // NCCL wants a GPU of its own per rank: with fewer GPUs than this machine's ranks (a
    // CPU job on a GPU machine, a test), the job stays on MPI, whose collectives refuse
    // device memory with an error that says NCCL is needed.
    const char* local_size = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    const int ranks_here = local_size ? std::max(1, std::atoi(local_size)) : 1;
    if (kernels::device_available(kernels::Device::cuda) && kernels::cuda_device_count() >= ranks_here) {
      select_rank_device();
      mpi_world_ = std::move(communicator_);
      communicator_ = nccl_communicator(*mpi_world_);
    }
#endif
    return;
  }
#else
  (void)argc;
  (void)argv;
  WISE_CHECK(launched <= 1, "started as one of ", launched,
             " processes, but this build has no MPI: each would train alone on all the data. Install "
             "libopenmpi-dev (scripts/setup.sh) and re-configure (WISE_MPI=ON), or run one process");
#endif
  communicator_ = single_process_communicator();
}

Session::~Session() {
  communicator_.reset();  // NCCL's before MPI's, both before MPI_Finalize
  mpi_world_.reset();
  mpi_.reset();
}

}  // namespace wise::distributed
