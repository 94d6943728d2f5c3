// Random initialisation of tensors, reproducible on every device.
//
// A Generator is a seed and a position in that seed's Philox stream
// (kernels/philox.h). Each fill takes the next numel() positions, so a model
// initialised from seed 0 gets the same weights on the CPU at any thread count
// and on the GPU. Its state is two integers, saved in checkpoints.
//
// The initialisers follow torch.nn.init: the same fan computation, gains and
// bounds, so a wise layer starts from the same distribution as its PyTorch twin
// (not the same numbers: PyTorch uses another generator).
#pragma once

#include <cstdint>
#include <string>

#include "nn/tensor.h"

namespace wise {

struct Generator {
  uint64_t seed = 0;
  uint64_t offset = 0;  // next unused stream position
};

void uniform_(Tensor& tensor, Generator& generator, float low, float high);
void normal_(Tensor& tensor, Generator& generator, float mean, float std);

// torch.nn.init._calculate_fan_in_and_fan_out: for a weight of shape
// (out, in, k...), fan_in = in * prod(k) and fan_out = out * prod(k).
struct Fans {
  int64_t fan_in = 0;
  int64_t fan_out = 0;
};
Fans compute_fans(const Shape& weight_shape);

// torch.nn.init.calculate_gain for "linear", "conv2d", "sigmoid", "tanh",
// "relu" and "leaky_relu" (with negative_slope).
double calculate_gain(const std::string& nonlinearity, double negative_slope = 0.01);

enum class FanMode { fan_in, fan_out };

// kaiming_uniform_: U(-b, b), b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).
void kaiming_uniform_(Tensor& tensor, Generator& generator, double a = 0.0,
                      FanMode mode = FanMode::fan_in, const std::string& nonlinearity = "leaky_relu");
// kaiming_normal_: N(0, std^2), std = gain / sqrt(fan).
void kaiming_normal_(Tensor& tensor, Generator& generator, double a = 0.0,
                     FanMode mode = FanMode::fan_in, const std::string& nonlinearity = "leaky_relu");
// xavier_uniform_: U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)).
void xavier_uniform_(Tensor& tensor, Generator& generator, double gain = 1.0);
// xavier_normal_: N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)).
void xavier_normal_(Tensor& tensor, Generator& generator, double gain = 1.0);

// The bounds/stds the initialisers above use, exposed for tests and docs.
double kaiming_uniform_bound(const Shape& shape, double a, FanMode mode, const std::string& nonlinearity);
double kaiming_normal_std(const Shape& shape, double a, FanMode mode, const std::string& nonlinearity);
double xavier_uniform_bound(const Shape& shape, double gain);
double xavier_normal_std(const Shape& shape, double gain);

}  // namespace wise
