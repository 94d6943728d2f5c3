// Tensors: construction, views, copies across devices and formats, errors.
#include <gtest/gtest.h>

#include "nn/allocator.h"
#include "nn/tensor.h"
#include "tests/support/devices.h"
#include "tests/support/errors.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

TEST(Shape, BasicsAndErrors) {
  const Shape shape{2, 3, 4};
  EXPECT_EQ(shape.rank(), 3);
  EXPECT_EQ(shape.numel(), 24);
  EXPECT_EQ(shape[-1], 4);
  EXPECT_EQ(shape.to_string(), "[2, 3, 4]");
  EXPECT_EQ(Shape{}.numel(), 1);  // a scalar
  EXPECT_NE(error_of([&] { (void)shape[3]; }).find("axis 3 is out of range for shape [2, 3, 4]"),
            std::string::npos);
  EXPECT_NE(error_of([] { Shape({2, -1}); }).find("shape sizes must be >= 0, got -1"),
            std::string::npos);
}

TEST(Tensor, DescribeAndDtypeErrors) {
  Tensor t = Tensor::zeros({2, 3}, DType::int64);
  EXPECT_EQ(t.describe(), "int64[2, 3] cpu plain");
  EXPECT_EQ(t.nbytes(), 48u);
  EXPECT_NE(error_of([&] { t.data<float>(); }).find("tensor int64[2, 3] cpu plain accessed as float32"),
            std::string::npos);
  EXPECT_NE(error_of([] { Tensor::empty({2, 3}, DType::float32, Device::cpu, MemoryFormat::nhwc); })
                .find("needs a 4-d float32 tensor"),
            std::string::npos);
  EXPECT_NE(error_of([] { Tensor::from_vector<float>({2, 2}, {1, 2, 3}); }).find("3 values do not fill shape [2, 2]"),
            std::string::npos);
}

TEST(Tensor, ReshapeSharesTheBuffer) {
  Tensor t = Tensor::from_vector<float>({2, 3}, {0, 1, 2, 3, 4, 5});
  Tensor r = t.reshape({3, 2});
  EXPECT_EQ(r.raw_data(), t.raw_data());
  r.data<float>()[5] = 50;
  EXPECT_EQ(t.to_vector<float>()[5], 50);
  EXPECT_NE(error_of([&] { t.reshape({4}); }).find("cannot reshape float32[2, 3] cpu plain to [4]"),
            std::string::npos);
}

TEST(Tensor, BlockedFormatsPadChannelsWithZeros) {
  Tensor t = Tensor::empty({1, 3, 2, 2}, DType::float32, Device::cpu, MemoryFormat::nchw16c);
  EXPECT_EQ(t.physical_numel(), 16 * 4);
  t.fill(1.5f);
  const auto physical = physical_floats(t);
  for (int64_t i = 0; i < t.physical_numel(); ++i) {
    EXPECT_EQ(physical[i], i % 16 < 3 ? 1.5f : 0.0f) << i;
  }
  EXPECT_EQ(t.to_vector<float>(), std::vector<float>(12, 1.5f));
}

// A training step's allocations repeat step after step: after the first, every
// one must come from the cache.
TEST(CachingAllocator, RepeatedStepsMakeNoRawAllocations) {
  CachingAllocator& allocator = allocator_for(Device::cpu);
  auto step = [] {
    std::vector<Tensor> activations;
    for (int64_t size : {1000, 4096, 3 << 20, 777777, 5}) {
      activations.push_back(Tensor::empty({size}));
    }
    activations.push_back(Tensor::zeros({8, 64, 56, 56}, DType::float32, Device::cpu, MemoryFormat::nchw16c));
  };
  step();
  const int64_t raw_before = allocator.stats().raw_allocations;
  for (int i = 0; i < 5; ++i) step();
  EXPECT_EQ(allocator.stats().raw_allocations, raw_before);
  EXPECT_GT(allocator.stats().cache_hits, 0);
}

TEST(CachingAllocator, SizeClassesBoundTheWaste) {
  for (size_t bytes : {size_t{1}, size_t{511}, size_t{513}, size_t{1} << 20, (size_t{1} << 20) + 1,
                       size_t{123456789}}) {
    const size_t rounded = CachingAllocator::size_class(bytes);
    EXPECT_GE(rounded, bytes);
    // Waste: under one 512-byte quantum for small blocks, at most 1/8 for large ones.
    EXPECT_LT(rounded - bytes, std::max<size_t>(512, bytes / 8 + 1)) << bytes;
  }
  EXPECT_EQ(CachingAllocator::size_class(0), 0u);
}

class TensorOnDevice : public ::testing::TestWithParam<Device> {};

TEST_P(TensorOnDevice, CopiesRoundTripThroughTheDevice) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  const auto values = random_floats(2 * 5 * 3 * 7, 1);
  const Tensor host = Tensor::from_vector(Shape{2, 5, 3, 7}, values);
  const Tensor there = host.to(device);
  EXPECT_EQ(there.device(), device);
  EXPECT_EQ(there.to_vector<float>(), values);
  const Tensor blocked = there.to_format(MemoryFormat::nchw8c);
  EXPECT_EQ(blocked.to_vector<float>(), values);  // to_vector reads logically
  Tensor copy = Tensor::empty(host.shape(), DType::float32, device);
  copy.copy_from(host);
  EXPECT_EQ(copy.to_vector<float>(), values);
  EXPECT_NE(error_of([&] { copy.copy_from(Tensor::zeros({2, 5, 3, 6})); }).find("does not match source"),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Devices, TensorOnDevice, ::testing::ValuesIn(all_devices()), device_test_name);

TEST(Device, RequestingCudaWithoutADeviceIsANamedError) {
  if (kernels::device_available(Device::cuda)) GTEST_SKIP() << "a CUDA device is present";
  const std::string message = error_of([] { Tensor::empty({4}, DType::float32, Device::cuda); });
  EXPECT_NE(message.find("Tensor::empty: CUDA requested"), std::string::npos) << message;
}

}  // namespace
}  // namespace wise::testing
