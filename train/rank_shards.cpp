#include "train/rank_shards.h"

#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace wise {

proposals::Shard rank_shard(const proposals::Shard& requested, int rank, int world_size) {
  return {requested.index + requested.count * rank, requested.count * world_size};
}

proposals::Shard rank_shard(const proposals::Shard& requested, const distributed::Communicator* job) {
  if (job == nullptr) return requested;
  return rank_shard(requested, job->rank(), job->world_size());
}

void run_rank_shard(distributed::Communicator* job, const char* stage, const std::function<void()>& work) {
  if (job == nullptr || job->world_size() == 1) {
    work();
    return;
  }
  std::exception_ptr failure;
  try {
    work();
  } catch (...) {
    failure = std::current_exception();
  }
  double failed = failure ? 1 : 0;
  job->all_reduce_sum(&failed, 1);  // every rank arrives here, whether its shard finished or not
  if (failure) std::rethrow_exception(failure);
  if (failed > 0) {
    const int count = static_cast<int>(failed);
    throw std::runtime_error(std::to_string(count) + " of " + std::to_string(job->world_size()) + " ranks failed in " +
                             stage + "; " + (count == 1 ? "its error is on its" : "their errors are on their") +
                             " stderr");
  }
}

std::string rank_shard_path(const std::string& path, int rank, int world_size) {
  const std::filesystem::path file(path);
  const std::string suffix = ".rank-" + std::to_string(rank) + "-of-" + std::to_string(world_size);
  return (file.parent_path() / (file.stem().string() + suffix + file.extension().string())).string();
}

}  // namespace wise
