// A process's place in its job, set up once at the start of an app's main:
//
//   int main(int argc, char** argv) {
//     wise::distributed::Session session(&argc, &argv);
//     ... options.communicator = &session.communicator();
//
// Started by a launcher (mpirun / mpiexec of Open MPI, or any PMI launcher: the
// environment says so through OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_SIZE), a build with
// MPI initialises it and joins MPI_COMM_WORLD; otherwise the job is this process alone.
// A build with NCCL too (WISE_NCCL), on a machine with a CUDA device for each of its
// ranks, picks this rank's device and puts NCCL under the device collectives
// (distributed/nccl_communicator.h).
// A launcher asking for more than one process of a build without MPI is an error at
// start-up (each process would otherwise train alone on the whole data and write the
// same files), naming the fix.
#pragma once

#include <memory>

#include "distributed/communicator.h"

namespace wise::distributed {

class MpiRuntime;

class Session {
 public:
  Session(int* argc, char*** argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Communicator& communicator() { return *communicator_; }
  int rank() const { return communicator_->rank(); }
  int world_size() const { return communicator_->world_size(); }

 private:
  std::unique_ptr<MpiRuntime> mpi_;
  std::unique_ptr<Communicator> mpi_world_;     // under NCCL's, when there is one
  std::unique_ptr<Communicator> communicator_;
};

// The world size a launcher asked for in the environment: OMPI_COMM_WORLD_SIZE or
// PMI_SIZE when set (PMIX_RANK alone: at least 1); 0 when no launcher started us.
int launcher_world_size();

}  // namespace wise::distributed
