// Philox: known-answer vectors, and the reproducibility promises of kernels/random.h.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/cpu/parallel_for.h"
#include "kernels/philox.h"
#include "kernels/random.h"
#include "kernels/reduce.h"
#include "tests/reference/random_reference.h"
#include "tests/support/compare.h"
#include "tests/support/devices.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

namespace k = kernels;

struct KnownAnswer {
  std::array<uint32_t, 4> counter;
  std::array<uint32_t, 2> key;
  std::array<uint32_t, 4> expected;
};

// Random123's kat_vectors for philox4x32_10.
const KnownAnswer kKnownAnswers[] = {
    {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
     {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
};

TEST(Philox, MatchesRandom123KnownAnswers) {
  for (const KnownAnswer& kat : kKnownAnswers) {
    const k::PhiloxBlock out = k::philox4x32_10({{kat.counter[0], kat.counter[1], kat.counter[2],
                                                  kat.counter[3]}},
                                                 kat.key[0], kat.key[1]);
    for (int lane = 0; lane < 4; ++lane) EXPECT_EQ(out.x[lane], kat.expected[lane]) << "lane " << lane;
    EXPECT_EQ(reference::philox4x32_10(kat.counter, kat.key), kat.expected);
  }
}

TEST(PortableMath, LogAndCosAgreeWithLibm) {
  for (double u : {1e-300, 1e-30, 1e-5, 0.1, 0.5, 0.70710678118654752, 0.7071067811865476, 0.9, 1.0}) {
    EXPECT_NEAR(k::portable_log_unit(u), std::log(u), 4e-16 * std::fabs(std::log(u)) + 1e-300) << u;
  }
  for (int i = 0; i <= 1000; ++i) {
    const double u = i / 1000.0 * 0.999999;
    EXPECT_NEAR(k::portable_cos_two_pi(u), std::cos(2.0 * 3.14159265358979323846 * u), 1e-15) << u;
  }
}

// Fills and reductions give the same bits at 1 and 2 threads: the values
// depend only on (seed, index), and reductions use fixed chunks.
TEST(Reproducibility, CpuResultsAreBitwiseIdenticalAtOneAndTwoThreads) {
  const int saved = k::cpu::num_threads();
  const int64_t n = 300001;
  auto run = [n](int threads) {
    k::cpu::set_num_threads(threads);
    Tensor uniform = Tensor::empty({n});
    Tensor normal = Tensor::empty({n});
    k::fill_uniform(Device::cpu, uniform.data<float>(), n, 42, 7, -1.0f, 1.0f);
    k::fill_normal(Device::cpu, normal.data<float>(), n, 42, 7 + n, 0.0f, 1.0f);
    Tensor workspace = Tensor::empty({2 * k::reduce_workspace_size(n)});
    Tensor total = Tensor::empty({1});
    k::sum(Device::cpu, normal.data<float>(), n, static_cast<double*>(workspace.raw_data()),
           total.data<float>());
    std::vector<float> all = host_floats(uniform);
    for (float value : host_floats(normal)) all.push_back(value);
    all.push_back(host_floats(total)[0]);
    return all;
  };
  const std::vector<float> one = run(1);
  const std::vector<float> two = run(2);
  k::cpu::set_num_threads(saved);
  EXPECT_TRUE(bitwise_equal(one, two));
}

class RandomOnDevice : public ::testing::TestWithParam<Device> {};

// The CUDA row compares the GPU's bits with the CPU's: identical, not close.
TEST_P(RandomOnDevice, SameBitsAsTheCpu) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  const int64_t n = 100003;
  Tensor on_cpu = Tensor::empty({n});
  Tensor on_gpu = Tensor::empty({n}, DType::float32, device);
  k::fill_normal(Device::cpu, on_cpu.data<float>(), n, 3, 0, 0.0f, 1.0f);
  k::fill_normal(device, on_gpu.data<float>(), n, 3, 0, 0.0f, 1.0f);
  EXPECT_TRUE(bitwise_equal(host_floats(on_gpu), host_floats(on_cpu)));
  k::fill_uniform(Device::cpu, on_cpu.data<float>(), n, 3, 0, -2.0f, 2.0f);
  k::fill_uniform(device, on_gpu.data<float>(), n, 3, 0, -2.0f, 2.0f);
  EXPECT_TRUE(bitwise_equal(host_floats(on_gpu), host_floats(on_cpu)));
}

// Moments of a large sample: a sanity check of the distributions themselves.
TEST_P(RandomOnDevice, MomentsOfALargeSample) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  const int64_t n = 1 << 20;
  Tensor y = Tensor::empty({n}, DType::float32, device);
  k::fill_normal(device, y.data<float>(), n, 11, 0, 1.0f, 2.0f);
  double mean = 0, second = 0;
  for (float v : host_floats(y)) {
    mean += v;
    second += double(v) * v;
  }
  mean /= n;
  const double variance = second / n - mean * mean;
  EXPECT_NEAR(mean, 1.0, 5 * 2.0 / std::sqrt(double(n)));
  EXPECT_NEAR(variance, 4.0, 0.03);
  k::fill_uniform(device, y.data<float>(), n, 11, 0, 0.0f, 1.0f);
  const auto u = host_floats(y);
  double u_mean = 0;
  for (float v : u) {
    EXPECT_GE(v, 0.0f);
    EXPECT_LT(v, 1.0f);
    u_mean += v;
  }
  EXPECT_NEAR(u_mean / n, 0.5, 5 * 0.2887 / std::sqrt(double(n)));
}

INSTANTIATE_TEST_SUITE_P(Devices, RandomOnDevice, ::testing::ValuesIn(all_devices()), device_test_name);

}  // namespace
}  // namespace wise::testing
