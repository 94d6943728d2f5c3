// Anchor generation (see anchors.h): the launches. One source for CPU and CUDA.
#include "kernels/anchors.h"

#include "kernels/launch.h"

namespace wise::kernels {

void cell_anchors(Device device, const CellAnchorConfig& config, float* cell) {
  const CellAnchorConfig local = config;  // by value into the lambda
  parallel_for(device, 4 * cell_anchor_count(local), [=] WISE_HD(int64_t index) {
    cell[index] = cell_anchor_coordinate(local, index / 4, index % 4);
  });
}

void grid_anchors(Device device, const CellAnchorConfig& config, int64_t grid_height,
                  int64_t grid_width, int64_t stride_height, int64_t stride_width, float* anchors) {
  const CellAnchorConfig local = config;
  const int64_t n = 4 * grid_height * grid_width * cell_anchor_count(local);
  if (n <= 0) return;
  parallel_for(device, n, [=] WISE_HD(int64_t index) {
    grid_anchor_element(index, local, grid_width, stride_height, stride_width, anchors);
  });
}

}  // namespace wise::kernels
