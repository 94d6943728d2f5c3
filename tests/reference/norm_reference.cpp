#include "tests/reference/norm_reference.h"

#include <cmath>

namespace wise::reference {

namespace {

int64_t at(const NormShape& s, int64_t n, int64_t c, int64_t h, int64_t w) {
  return ((n * s.C + c) * s.H + h) * s.W + w;
}

double weight_of(const std::vector<float>& weight, int64_t c) { return weight.empty() ? 1.0 : weight[c]; }
double bias_of(const std::vector<float>& bias, int64_t c) { return bias.empty() ? 0.0 : bias[c]; }

// The indices of one normalization set: channel c over (n, h, w) for batch norm,
// or (sample n, channels [c0, c1)) over (c, h, w) for group norm.
std::vector<int64_t> channel_set(const NormShape& s, int64_t c) {
  std::vector<int64_t> indices;
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t h = 0; h < s.H; ++h)
      for (int64_t w = 0; w < s.W; ++w) indices.push_back(at(s, n, c, h, w));
  return indices;
}

std::vector<int64_t> group_set(const NormShape& s, int64_t n, int64_t c0, int64_t c1) {
  std::vector<int64_t> indices;
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t h = 0; h < s.H; ++h)
      for (int64_t w = 0; w < s.W; ++w) indices.push_back(at(s, n, c, h, w));
  return indices;
}

// Mean and biased variance of x over `indices`.
void moments(const std::vector<float>& x, const std::vector<int64_t>& indices, double& mean,
             double& variance) {
  const double m = static_cast<double>(indices.size());
  mean = 0.0;
  for (int64_t i : indices) mean += x[i];
  mean /= m;
  variance = 0.0;
  for (int64_t i : indices) variance += (x[i] - mean) * (x[i] - mean);
  variance /= m;
}

// Ioffe & Szegedy's chain rule over one set, given d_x_hat (= d_y gamma) per
// element: writes d_input for the set's elements.
void normalization_chain_rule(const std::vector<float>& x, const std::vector<int64_t>& indices,
                              const std::vector<double>& d_x_hat, double mean, double variance, double eps,
                              std::vector<double>& d_input) {
  const double m = static_cast<double>(indices.size());
  const double std_inverse = 1.0 / std::sqrt(variance + eps);
  double d_variance = 0.0;
  for (size_t k = 0; k < indices.size(); ++k) {
    d_variance += d_x_hat[k] * (x[indices[k]] - mean) * -0.5 * std::pow(variance + eps, -1.5);
  }
  double d_mean = 0.0, centred_sum = 0.0;
  for (size_t k = 0; k < indices.size(); ++k) {
    d_mean += -d_x_hat[k] * std_inverse;
    centred_sum += -2.0 * (x[indices[k]] - mean);
  }
  d_mean += d_variance * centred_sum / m;
  for (size_t k = 0; k < indices.size(); ++k) {
    d_input[indices[k]] =
        d_x_hat[k] * std_inverse + d_variance * 2.0 * (x[indices[k]] - mean) / m + d_mean / m;
  }
}

}  // namespace

BatchNormResult batch_norm_training(const std::vector<float>& x, const NormShape& shape,
                                    const std::vector<float>& weight, const std::vector<float>& bias,
                                    const std::vector<float>& running_mean,
                                    const std::vector<float>& running_var, double eps, double momentum) {
  BatchNormResult result;
  result.output.assign(x.size(), 0.0);
  for (int64_t c = 0; c < shape.C; ++c) {
    const std::vector<int64_t> indices = channel_set(shape, c);
    double mean = 0.0, variance = 0.0;
    moments(x, indices, mean, variance);
    const double invstd = 1.0 / std::sqrt(variance + eps);
    for (int64_t i : indices)
      result.output[i] = (x[i] - mean) * invstd * weight_of(weight, c) + bias_of(bias, c);
    result.mean.push_back(mean);
    result.invstd.push_back(invstd);
    const double m = static_cast<double>(indices.size());
    if (!running_mean.empty()) {
      result.running_mean.push_back((1.0 - momentum) * running_mean[c] + momentum * mean);
      result.running_var.push_back((1.0 - momentum) * running_var[c] + momentum * variance * m / (m - 1.0));
    }
  }
  return result;
}

std::vector<double> batch_norm_eval(const std::vector<float>& x, const NormShape& shape,
                                    const std::vector<float>& weight, const std::vector<float>& bias,
                                    const std::vector<float>& running_mean,
                                    const std::vector<float>& running_var, double eps) {
  std::vector<double> output(x.size());
  for (int64_t c = 0; c < shape.C; ++c) {
    for (int64_t i : channel_set(shape, c)) {
      output[i] =
          (x[i] - double(running_mean[c])) / std::sqrt(double(running_var[c]) + eps) * weight_of(weight, c) +
          bias_of(bias, c);
    }
  }
  return output;
}

NormGradients batch_norm_training_backward(const std::vector<float>& d_y, const std::vector<float>& x,
                                           const NormShape& shape, const std::vector<float>& weight,
                                           double eps) {
  NormGradients gradients;
  gradients.d_input.assign(x.size(), 0.0);
  for (int64_t c = 0; c < shape.C; ++c) {
    const std::vector<int64_t> indices = channel_set(shape, c);
    double mean = 0.0, variance = 0.0;
    moments(x, indices, mean, variance);
    std::vector<double> d_x_hat;
    double d_weight = 0.0, d_bias = 0.0;
    for (int64_t i : indices) {
      d_x_hat.push_back(d_y[i] * weight_of(weight, c));
      d_weight += d_y[i] * (x[i] - mean) / std::sqrt(variance + eps);
      d_bias += d_y[i];
    }
    normalization_chain_rule(x, indices, d_x_hat, mean, variance, eps, gradients.d_input);
    gradients.d_weight.push_back(d_weight);
    gradients.d_bias.push_back(d_bias);
  }
  return gradients;
}

NormGradients batch_norm_eval_backward(const std::vector<float>& d_y, const std::vector<float>& x,
                                       const NormShape& shape, const std::vector<float>& weight,
                                       const std::vector<float>& running_mean,
                                       const std::vector<float>& running_var, double eps) {
  NormGradients gradients;
  gradients.d_input.assign(x.size(), 0.0);
  for (int64_t c = 0; c < shape.C; ++c) {
    const double std_deviation = std::sqrt(double(running_var[c]) + eps);
    double d_weight = 0.0, d_bias = 0.0;
    for (int64_t i : channel_set(shape, c)) {
      gradients.d_input[i] = d_y[i] * weight_of(weight, c) / std_deviation;
      d_weight += d_y[i] * (x[i] - double(running_mean[c])) / std_deviation;
      d_bias += d_y[i];
    }
    gradients.d_weight.push_back(d_weight);
    gradients.d_bias.push_back(d_bias);
  }
  return gradients;
}

GroupNormResult group_norm(const std::vector<float>& x, const NormShape& shape, int64_t groups,
                           const std::vector<float>& weight, const std::vector<float>& bias, double eps) {
  GroupNormResult result;
  result.output.assign(x.size(), 0.0);
  const int64_t per_group = shape.C / groups;
  for (int64_t n = 0; n < shape.N; ++n) {
    for (int64_t g = 0; g < groups; ++g) {
      double mean = 0.0, variance = 0.0;
      moments(x, group_set(shape, n, g * per_group, (g + 1) * per_group), mean, variance);
      const double rstd = 1.0 / std::sqrt(variance + eps);
      result.mean.push_back(mean);
      result.rstd.push_back(rstd);
      for (int64_t c = g * per_group; c < (g + 1) * per_group; ++c) {
        for (int64_t i : group_set(shape, n, c, c + 1)) {
          result.output[i] = (x[i] - mean) * rstd * weight_of(weight, c) + bias_of(bias, c);
        }
      }
    }
  }
  return result;
}

NormGradients group_norm_backward(const std::vector<float>& d_y, const std::vector<float>& x,
                                  const NormShape& shape, int64_t groups, const std::vector<float>& weight,
                                  double eps) {
  NormGradients gradients;
  gradients.d_input.assign(x.size(), 0.0);
  gradients.d_weight.assign(shape.C, 0.0);
  gradients.d_bias.assign(shape.C, 0.0);
  const int64_t per_group = shape.C / groups;
  const int64_t plane = shape.H * shape.W;
  for (int64_t n = 0; n < shape.N; ++n) {
    for (int64_t g = 0; g < groups; ++g) {
      const std::vector<int64_t> indices = group_set(shape, n, g * per_group, (g + 1) * per_group);
      double mean = 0.0, variance = 0.0;
      moments(x, indices, mean, variance);
      std::vector<double> d_x_hat;
      for (size_t k = 0; k < indices.size(); ++k) {
        const int64_t c = g * per_group + static_cast<int64_t>(k) / plane;
        const int64_t i = indices[k];
        d_x_hat.push_back(d_y[i] * weight_of(weight, c));
        gradients.d_weight[c] += d_y[i] * (x[i] - mean) / std::sqrt(variance + eps);
        gradients.d_bias[c] += d_y[i];
      }
      normalization_chain_rule(x, indices, d_x_hat, mean, variance, eps, gradients.d_input);
    }
  }
  return gradients;
}

std::vector<double> conv2d_same(const std::vector<double>& x, const NormShape& shape,
                                const std::vector<double>& weight, int64_t O, int64_t k,
                                const std::vector<double>& bias) {
  const NormShape out{shape.N, O, shape.H, shape.W};
  std::vector<double> y(out.numel(), 0.0);
  const int64_t pad = k / 2;
  for (int64_t n = 0; n < shape.N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t h = 0; h < shape.H; ++h)
        for (int64_t w = 0; w < shape.W; ++w) {
          double sum = bias.empty() ? 0.0 : bias[o];
          for (int64_t c = 0; c < shape.C; ++c)
            for (int64_t r = 0; r < k; ++r)
              for (int64_t s = 0; s < k; ++s) {
                const int64_t ih = h + r - pad, iw = w + s - pad;
                if (ih < 0 || ih >= shape.H || iw < 0 || iw >= shape.W) continue;
                sum += x[at(shape, n, c, ih, iw)] * weight[((o * shape.C + c) * k + r) * k + s];
              }
          y[at(out, n, o, h, w)] = sum;
        }
  return y;
}

}  // namespace wise::reference
