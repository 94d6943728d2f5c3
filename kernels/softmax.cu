// Row softmax (see softmax.h): one source for CPU and CUDA.
#include "kernels/softmax.h"

#include <cmath>

#include "kernels/launch.h"
#include "kernels/losses.h"

namespace wise::kernels {

void softmax_rows(Device device, const float* logits, int64_t N, int64_t C, float* probabilities) {
  parallel_for(
      device, N,
      [=] WISE_HD(int64_t n) {
        const float* row = logits + n * C;
        const RowSoftmaxStatistics statistics = row_softmax_statistics(row, C);
        const float inverse_sum = static_cast<float>(1.0 / statistics.sum_exp);
        float* out = probabilities + n * C;
        for (int64_t c = 0; c < C; ++c) out[c] = expf(row[c] - statistics.max) * inverse_sum;
      },
      /*work_per_index=*/C);
}

}  // namespace wise::kernels
