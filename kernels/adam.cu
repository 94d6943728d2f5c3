// Adam / AdamW update (see adam.h). One source for CPU and CUDA.
#include "kernels/adam.h"

#include <cmath>

#include "kernels/host_device.h"
#include "kernels/launch.h"

namespace wise::kernels {

void adam_update(Device device, float* value, const float* gradient, float* exp_avg, float* exp_avg_sq,
                 float* max_exp_avg_sq, const float* gradient_scale, int64_t n, const AdamStep& step) {
  require_device(device, "adam_update");
  const AdamStep s = step;  // captured by value into the element
  parallel_for(device, n, [=] WISE_HD(int64_t i) {
    float p = value[i];
    float g = gradient_scale != nullptr ? gradient[i] * gradient_scale[0] : gradient[i];
    if (s.weight_decay != 0.0f) g = fmaf(p, s.weight_decay, g);  // grad.add(param, alpha=wd)
    if (s.decoupled_decay_factor != 1.0f) p = product_rounded(p, s.decoupled_decay_factor);  // param.mul_
    // exp_avg.mul_(beta1).add_(g, alpha=1 - beta1)
    const float m = fmaf(g, s.one_minus_beta1, product_rounded(exp_avg[i], s.beta1));
    // exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)
    const float v = fmaf(product_rounded(s.one_minus_beta2, g), g, product_rounded(exp_avg_sq[i], s.beta2));
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    float second_moment = v;
    if (s.amsgrad) {
      // torch.maximum: NaN wins, so a NaN moment propagates as in torch.
      const float previous = max_exp_avg_sq[i];
      second_moment = (v != v || previous < v) ? v : previous;
      max_exp_avg_sq[i] = second_moment;
    }
    // (v.sqrt() / bias_correction2_sqrt).add_(eps): three roundings, never fused.
    const float denominator = sqrtf(second_moment) / s.bias_correction2_sqrt + s.eps;
    // param.addcdiv_(m, denom, value=-step_size)
    value[i] = p + product_rounded(s.negative_step_size, m) / denominator;
  });
}

}  // namespace wise::kernels
