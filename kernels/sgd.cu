// SGD update and clipping coefficient (see sgd.h). One source for CPU and CUDA.
#include "kernels/sgd.h"

#include <cmath>

#include "kernels/launch.h"

namespace wise::kernels {

void sgd_update(Device device, float* value, const float* gradient, float* momentum_buffer,
                const float* gradient_scale, int64_t n, const SgdStep& step) {
  require_device(device, "sgd_update");
  const SgdStep s = step;  // captured by value into the element
  parallel_for(device, n, [=] WISE_HD(int64_t i) {
    const float p = value[i];
    // torch multiplies the gradient in place by the clamped coefficient; we scale
    // it as it is read (the same product) and leave the gradient buffer alone.
    float d_p = gradient_scale != nullptr ? gradient[i] * gradient_scale[0] : gradient[i];
    if (s.weight_decay != 0.0f) d_p = fmaf(p, s.weight_decay, d_p);  // d_p.add(p, alpha=wd)
    if (s.momentum != 0.0f) {
      // buf.mul_(momentum).add_(d_p, alpha=1 - dampening): a rounded product, then an fma.
      const float buffer =
          s.first_step ? d_p : fmaf(d_p, s.one_minus_dampening, momentum_buffer[i] * s.momentum);
      momentum_buffer[i] = buffer;
      d_p = s.nesterov ? fmaf(buffer, s.momentum, d_p) : buffer;
    }
    value[i] = fmaf(d_p, -s.learning_rate, p);  // p.add_(d_p, alpha=-lr)
  });
}

void clip_grad_norm_coefficient(Device device, const double* sum_of_squares, float max_norm,
                                float* total_norm, float* coefficient) {
  require_device(device, "clip_grad_norm_coefficient");
  parallel_for(device, 1, [=] WISE_HD(int64_t) {
    const float norm = static_cast<float>(sqrt(sum_of_squares[0]));
    const float clip = (1.0f / (norm + 1e-6f)) * max_norm;
    total_norm[0] = norm;
    // `clip > 1 ? 1 : clip`, not min_of: a NaN compares false and passes through.
    coefficient[0] = clip > 1.0f ? 1.0f : clip;
  });
}

}  // namespace wise::kernels
