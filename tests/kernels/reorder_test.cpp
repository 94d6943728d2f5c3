// kernels/reorder.h between every pair of memory formats, on shapes whose channels do
// and do not fill a block: every destination float, padding included, against the
// formats' layouts as oneDNN defines them (written out here, not memory_format.h's), on
// every device present; and the flat-index element that CUDA runs, run on the CPU, gives
// the same bits as the CPU's row copies.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/memory.h"
#include "kernels/reorder.h"
#include "nn/tensor.h"
#include "tests/support/devices.h"

namespace wise::testing {
namespace {

using kernels::MemoryFormat;

struct Case {
  int64_t N, C, H, W;
};

const MemoryFormat kFormats[] = {MemoryFormat::plain, MemoryFormat::nhwc, MemoryFormat::nchw8c, MemoryFormat::nchw16c};
const Case kCases[] = {{1, 3, 2, 5}, {2, 13, 3, 4}, {2, 17, 1, 7}, {1, 16, 4, 4}, {3, 8, 2, 1}};

// Channels as stored, and where (n, c, h, w) lives: NCHW, NHWC, and nChw<b>c (channels
// in blocks of b, the block innermost, the last block zero-padded).
int64_t block_of(MemoryFormat format) {
  return format == MemoryFormat::nchw8c ? 8 : format == MemoryFormat::nchw16c ? 16 : 1;
}
int64_t stored_channels(MemoryFormat format, int64_t C) { return (C + block_of(format) - 1) / block_of(format) * block_of(format); }
int64_t layout_offset(MemoryFormat format, const Case& s, int64_t n, int64_t c, int64_t h, int64_t w) {
  if (format == MemoryFormat::plain) return ((n * s.C + c) * s.H + h) * s.W + w;
  if (format == MemoryFormat::nhwc) return ((n * s.H + h) * s.W + w) * s.C + c;
  const int64_t b = block_of(format), blocks = stored_channels(format, s.C) / b;
  return (((n * blocks + c / b) * s.H + h) * s.W + w) * b + c % b;
}

// A buffer of `format` holding value(n, c, h, w) = a distinct number per element; NaN in
// the padding (a reorder must never read it).
std::vector<float> filled(MemoryFormat format, const Case& s) {
  std::vector<float> buffer(static_cast<size_t>(s.N * stored_channels(format, s.C) * s.H * s.W),
                            std::numeric_limits<float>::quiet_NaN());
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t c = 0; c < s.C; ++c)
      for (int64_t h = 0; h < s.H; ++h)
        for (int64_t w = 0; w < s.W; ++w)
          buffer[static_cast<size_t>(layout_offset(format, s, n, c, h, w))] =
              static_cast<float>(((n * 100 + c) * 100 + h) * 100 + w) + 0.5f;
  return buffer;
}

// The expected destination: the values at their places, zeros in the padding.
std::vector<float> expected(MemoryFormat format, const Case& s) {
  std::vector<float> buffer = filled(format, s);
  for (float& value : buffer)
    if (std::isnan(value)) value = 0.0f;
  return buffer;
}

std::string name_of(MemoryFormat from, MemoryFormat to, const Case& s) {
  return std::string(kernels::memory_format_name(from)) + " -> " + kernels::memory_format_name(to) + " of [" +
         std::to_string(s.N) + ", " + std::to_string(s.C) + ", " + std::to_string(s.H) + ", " + std::to_string(s.W) + "]";
}

class Reorder : public ::testing::TestWithParam<kernels::Device> {};

TEST_P(Reorder, EveryFormatPairMovesEveryValueAndZeroesThePadding) {
  const kernels::Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  for (const Case& s : kCases) {
    for (const MemoryFormat from : kFormats) {
      const std::vector<float> source = filled(from, s);
      Tensor on_device = Tensor::empty({static_cast<int64_t>(source.size())}, DType::float32, device);
      kernels::copy_bytes(on_device.raw_data(), device, source.data(), kernels::Device::cpu, source.size() * sizeof(float));
      for (const MemoryFormat to : kFormats) {
        const std::vector<float> want = expected(to, s);
        Tensor result = Tensor::empty({static_cast<int64_t>(want.size())}, DType::float32, device);
        kernels::reorder(device, on_device.data<float>(), from, result.data<float>(), to, s.N, s.C, s.H, s.W);
        EXPECT_EQ(result.to_vector<float>(), want) << name_of(from, to, s);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, Reorder, ::testing::ValuesIn(all_devices()), device_test_name);

// The element CUDA launches, run here over every destination index: the CPU's bits.
TEST(Reorder, TheFlatIndexElementMatchesTheCpuRows) {
  for (const Case& s : kCases) {
    for (const MemoryFormat from : kFormats) {
      const std::vector<float> source = filled(from, s);
      for (const MemoryFormat to : kFormats) {
        std::vector<float> rows(static_cast<size_t>(kernels::physical_numel(to, s.N, s.C, s.H, s.W)), -1.0f);
        kernels::reorder(kernels::Device::cpu, source.data(), from, rows.data(), to, s.N, s.C, s.H, s.W);
        std::vector<float> elements(rows.size(), -1.0f);
        for (size_t i = 0; i < elements.size(); ++i)
          elements[i] = kernels::reorder_element(static_cast<int64_t>(i), source.data(), from, to, s.C, s.H, s.W);
        EXPECT_EQ(elements, rows) << name_of(from, to, s);
      }
    }
  }
}

}  // namespace
}  // namespace wise::testing
