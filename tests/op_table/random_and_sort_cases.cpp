// Op-table rows for kernels/random.h and kernels/sort.h.
#include <algorithm>
#include <numeric>
#include <random>

#include "kernels/random.h"
#include "kernels/sort.h"
#include "tests/reference/random_reference.h"
#include "tests/support/compare.h"
#include "tests/support/op_table.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

namespace k = kernels;
using kernels::Device;

std::vector<OpCase> random_cases() {
  std::vector<OpCase> cases;
  for (int64_t n : {int64_t{1}, int64_t{1000}, int64_t{70001}}) {
    for (uint64_t offset : {uint64_t{0}, uint64_t{12345}, uint64_t{1} << 33}) {
      const std::string name = "_n" + std::to_string(n) + "_offset" + std::to_string(offset);
      cases.push_back({"fill_uniform" + name, [=](Device device, uint64_t seed) {
                         Tensor y = Tensor::empty({n}, DType::float32, device);
                         k::fill_uniform(device, y.data<float>(), n, seed, offset, -0.5f, 2.0f);
                         std::vector<double> expected(static_cast<size_t>(n));
                         for (int64_t i = 0; i < n; ++i) {
                           expected[i] = reference::uniform(seed, offset + i, -0.5, 2.0);
                         }
                         EXPECT_TRUE(all_close(host_floats(y), expected, {1.2e-7, 0.0}));
                       }});
      cases.push_back({"fill_normal" + name, [=](Device device, uint64_t seed) {
                         Tensor y = Tensor::empty({n}, DType::float32, device);
                         k::fill_normal(device, y.data<float>(), n, seed, offset, 0.25f, 1.5f);
                         std::vector<double> expected(static_cast<size_t>(n));
                         for (int64_t i = 0; i < n; ++i) {
                           expected[i] = reference::normal(seed, offset + i, 0.25, 1.5);
                         }
                         // Our portable log/cos agree with libm's to ~1e-15; one
                         // float rounding of the sample, one of the fma.
                         EXPECT_TRUE(all_close(host_floats(y), expected, {2.5e-7, 1e-7}));
                       }});
    }
  }
  return cases;
}

std::vector<OpCase> sort_cases() {
  std::vector<OpCase> cases;
  for (int64_t n : {int64_t{1}, int64_t{2}, int64_t{1000}, int64_t{100000}}) {
    cases.push_back({"stable_sort_by_key_descending_n" + std::to_string(n),
                     [n](Device device, uint64_t seed) {
                       // Few distinct keys: many ties, whose input order must survive.
                       std::mt19937_64 engine(seed);
                       std::uniform_int_distribution<int> level(0, 20);
                       std::vector<float> keys(static_cast<size_t>(n));
                       for (float& key : keys) key = 0.05f * static_cast<float>(level(engine));
                       std::vector<int64_t> order(static_cast<size_t>(n));
                       std::iota(order.begin(), order.end(), 0);

                       Tensor key_tensor = on_device(keys, device);
                       Tensor value_tensor = on_device(order, device);
                       k::stable_sort_by_key_descending(device, key_tensor.data<float>(),
                                                        value_tensor.data<int64_t>(), n);

                       std::vector<int64_t> expected = order;
                       std::stable_sort(expected.begin(), expected.end(), [&](int64_t a, int64_t b) {
                         return keys[static_cast<size_t>(a)] > keys[static_cast<size_t>(b)];
                       });
                       EXPECT_EQ(value_tensor.to_vector<int64_t>(), expected);
                     }});
  }
  cases.push_back({"inclusive_scan_n100001", [](Device device, uint64_t seed) {
                     std::mt19937_64 engine(seed);
                     std::vector<int64_t> x(100001);
                     for (int64_t& value : x) value = static_cast<int64_t>(engine() % 7);
                     Tensor tensor = on_device(x, device);
                     k::inclusive_scan(device, tensor.data<int64_t>(), tensor.data<int64_t>(),
                                       static_cast<int64_t>(x.size()));
                     std::vector<int64_t> expected(x.size());
                     std::partial_sum(x.begin(), x.end(), expected.begin());
                     EXPECT_EQ(tensor.to_vector<int64_t>(), expected);
                   }});
  return cases;
}

const OpCaseRegistrar register_random(random_cases());
const OpCaseRegistrar register_sort(sort_cases());

}  // namespace
}  // namespace wise::testing
