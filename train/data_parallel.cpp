#include "train/data_parallel.h"

#include "kernels/check.h"
#include "kernels/elementwise.h"

namespace wise {

void broadcast_parameters(ParameterBuffer& parameters, distributed::Communicator& communicator) {
  if (communicator.world_size() == 1) return;
  Tensor values = parameters.all_values();  // a view: writes reach the buffer
  communicator.broadcast(values.data<float>(), values.numel(), values.device(), /*root=*/0);
  parameters.mark_changed();  // models caching values derived from weights refresh them
}

void average_gradients(ParameterBuffer& parameters, distributed::Communicator& communicator) {
  const int world = communicator.world_size();
  if (world == 1) return;
  Tensor gradients = parameters.trainable_gradients();  // a view
  communicator.all_reduce_sum(gradients.data<float>(), gradients.numel(), gradients.device());
  kernels::scale(gradients.device(), 1.0f / static_cast<float>(world), gradients.data<float>(), gradients.numel());
}

void broadcast_buffers(ParameterBuffer& parameters, distributed::Communicator& communicator) {
  if (communicator.world_size() == 1) return;
  Tensor values = parameters.all_values();  // a view: writes reach the buffer
  const int64_t frozen = values.numel() - parameters.trainable_numel();
  if (frozen == 0) return;
  communicator.broadcast(values.data<float>() + parameters.trainable_numel(), frozen, values.device(), /*root=*/0);
}

void average_scalars(std::vector<double>& values, distributed::Communicator& communicator) {
  const int world = communicator.world_size();
  if (world == 1 || values.empty()) return;
  communicator.all_reduce_sum(values.data(), static_cast<int64_t>(values.size()));
  for (double& value : values) value /= world;
}

void shard_global_batch(data::LoaderOptions& loader, int64_t global_batch, const distributed::Communicator* job) {
  const int world = job ? job->world_size() : 1;
  WISE_CHECK(global_batch % world == 0, "data parallel: a global batch of ", global_batch, " images does not split into ",
             world, " equal shards (--batch-size must be a multiple of the number of processes)");
  loader.batch_size = global_batch / world;
  loader.rank = job ? job->rank() : 0;
  loader.world_size = world;
}

}  // namespace wise
