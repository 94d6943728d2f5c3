#include "distributed/nccl_communicator.h"

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/check.h"
#include "kernels/cuda/status_check.h"
#include "kernels/cuda/stream.h"

namespace wise::distributed {
namespace {

void check_nccl(ncclResult_t result, const char* statement, const char* file, int line) {
  if (result == ncclSuccess) return;
  throw Error(concat("NCCL: ", statement, " failed at ", file, ":", line, ": ", ncclGetErrorString(result)));
}
#define WISE_NCCL_CHECK(statement) ::wise::distributed::check_nccl((statement), #statement, __FILE__, __LINE__)

class NcclJob final : public Communicator {
 public:
  explicit NcclJob(Communicator& mpi) : mpi_(mpi) {
    // rank 0's id, carried to every rank as floats through the MPI broadcast (the id is
    // 128 opaque bytes: 32 floats' worth, copied bit for bit).
    ncclUniqueId id;
    std::memset(&id, 0, sizeof(id));
    if (mpi_.rank() == 0) WISE_NCCL_CHECK(ncclGetUniqueId(&id));
    static_assert(sizeof(ncclUniqueId) % sizeof(float) == 0, "ncclUniqueId is a whole number of floats");
    float words[sizeof(ncclUniqueId) / sizeof(float)];
    std::memcpy(words, &id, sizeof(id));
    mpi_.broadcast(words, static_cast<int64_t>(sizeof(words) / sizeof(float)), kernels::Device::cpu, 0);
    std::memcpy(&id, words, sizeof(id));
    WISE_NCCL_CHECK(ncclCommInitRank(&comm_, mpi_.world_size(), id, mpi_.rank()));
    int version = 0;
    WISE_NCCL_CHECK(ncclGetVersion(&version));
    engine_ = "NCCL " + std::to_string(version / 10000) + "." + std::to_string(version / 100 % 100) + "." +
              std::to_string(version % 100) + " over " + mpi_.engine();
  }
  ~NcclJob() override { ncclCommDestroy(comm_); }

  int rank() const override { return mpi_.rank(); }
  int world_size() const override { return mpi_.world_size(); }
  std::string engine() const override { return engine_; }

  void all_reduce_sum(float* data, int64_t count, kernels::Device device) override {
    if (device == kernels::Device::cpu) return mpi_.all_reduce_sum(data, count, device);
    const cudaStream_t stream = kernels::cuda::current_stream();
    WISE_NCCL_CHECK(ncclAllReduce(data, data, static_cast<size_t>(count), ncclFloat32, ncclSum, comm_, stream));
    WISE_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  void all_reduce_sum(double* values, int64_t count) override { mpi_.all_reduce_sum(values, count); }
  void broadcast(float* data, int64_t count, kernels::Device device, int root) override {
    if (device == kernels::Device::cpu) return mpi_.broadcast(data, count, device, root);
    const cudaStream_t stream = kernels::cuda::current_stream();
    WISE_NCCL_CHECK(ncclBroadcast(data, data, static_cast<size_t>(count), ncclFloat32, root, comm_, stream));
    WISE_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  void barrier() override { mpi_.barrier(); }

 private:
  Communicator& mpi_;
  ncclComm_t comm_ = nullptr;
  std::string engine_;
};

}  // namespace

int select_rank_device() {
  int devices = 0;
  WISE_CUDA_CHECK(cudaGetDeviceCount(&devices));
  WISE_CHECK(devices > 0, "NCCL: no CUDA device on this machine");
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK");
  const int device = (local ? std::atoi(local) : 0) % devices;
  WISE_CUDA_CHECK(cudaSetDevice(device));
  return device;
}

std::unique_ptr<Communicator> nccl_communicator(Communicator& mpi) { return std::make_unique<NcclJob>(mpi); }

}  // namespace wise::distributed
