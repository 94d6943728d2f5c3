#include "distributed/mpi_communicator.h"

#include <mpi.h>

#include <algorithm>
#include <string>

#include "kernels/check.h"

namespace wise::distributed {
namespace {

// The check of every MPI call: the statement, where, and MPI's text for the code.
void check_mpi(int code, const char* statement, const char* file, int line) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(concat("MPI: ", statement, " failed at ", file, ":", line, ": ", std::string(text, length)));
}
#define WISE_MPI_CHECK(statement) ::wise::distributed::check_mpi((statement), #statement, __FILE__, __LINE__)

constexpr int64_t kMaxPiece = int64_t{1} << 30;  // MPI counts are int

bool runtime_alive = false;

class MpiWorld final : public Communicator {
 public:
  MpiWorld() {
    WISE_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
    WISE_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
    char version[MPI_MAX_LIBRARY_VERSION_STRING] = {};
    int length = 0;
    WISE_MPI_CHECK(MPI_Get_library_version(version, &length));
    std::string text(version, static_cast<size_t>(length));
    text = text.substr(0, text.find_first_of(",\n"));  // "Open MPI v4.1.4"
    engine_ = "MPI (" + text + ")";
  }

  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  std::string engine() const override { return engine_; }

  void all_reduce_sum(float* data, int64_t count, kernels::Device device) override {
    require_host(device, "all_reduce_sum");
    for (int64_t first = 0; first < count; first += kMaxPiece) {
      const int piece = static_cast<int>(std::min(kMaxPiece, count - first));
      WISE_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, data + first, piece, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD));
    }
  }
  void all_reduce_sum(double* values, int64_t count) override {
    WISE_CHECK(count <= kMaxPiece, "MPI all_reduce_sum: ", count, " doubles, expected a few");
    WISE_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, values, static_cast<int>(count), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  }
  void broadcast(float* data, int64_t count, kernels::Device device, int root) override {
    require_host(device, "broadcast");
    WISE_CHECK(root >= 0 && root < size_, "MPI broadcast: root ", root, " is not a rank of ", size_);
    for (int64_t first = 0; first < count; first += kMaxPiece) {
      const int piece = static_cast<int>(std::min(kMaxPiece, count - first));
      WISE_MPI_CHECK(MPI_Bcast(data + first, piece, MPI_FLOAT, root, MPI_COMM_WORLD));
    }
  }
  void barrier() override { WISE_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD)); }

 private:
  static void require_host(kernels::Device device, const char* what) {
    WISE_CHECK(device == kernels::Device::cpu, "MPI ", what, ": the data is on ", kernels::device_name(device),
               "; MPI here moves host memory only. CUDA training across processes goes through NCCL: a "
               "build with WISE_NCCL and a GPU for each rank of the machine");
  }

  int rank_ = 0, size_ = 1;
  std::string engine_;
};

}  // namespace

MpiRuntime::MpiRuntime(int* argc, char*** argv) {
  WISE_CHECK(!runtime_alive, "MpiRuntime: MPI is already initialised in this process");
  int provided = 0;
  WISE_MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided));
  runtime_alive = true;
  WISE_MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
  WISE_CHECK(provided >= MPI_THREAD_FUNNELED, "MPI: MPI_THREAD_FUNNELED is not supported (got level ", provided, ")");
}

MpiRuntime::~MpiRuntime() {
  MPI_Finalize();
  runtime_alive = false;
}

std::unique_ptr<Communicator> mpi_world_communicator(const MpiRuntime&) { return std::make_unique<MpiWorld>(); }

}  // namespace wise::distributed
