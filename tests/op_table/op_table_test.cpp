// Runs every registered op case on every device (see tests/support/op_table.h).
#include <gtest/gtest.h>

#include <tuple>

#include "tests/support/devices.h"
#include "tests/support/op_table.h"
#include "tests/support/seeding.h"

namespace wise::testing {

std::vector<OpCase>& op_table() {
  static std::vector<OpCase> table;
  return table;
}

OpCaseRegistrar::OpCaseRegistrar(std::vector<OpCase> cases) {
  for (OpCase& row : cases) op_table().push_back(std::move(row));
}

namespace {

int cpu_rows_run = 0;

class OpTable : public ::testing::TestWithParam<std::tuple<OpCase, Device>> {};

TEST_P(OpTable, MatchesReference) {
  const auto& [row, device] = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  const uint64_t seed = seed_from_name(row.name);
  SCOPED_TRACE(::testing::Message() << "case " << row.name << " on "
                                    << kernels::device_name(device) << ", seed " << seed);
  row.run(device, seed);
  if (device == Device::cpu) ++cpu_rows_run;
}

INSTANTIATE_TEST_SUITE_P(
    Rows, OpTable, ::testing::Combine(::testing::ValuesIn(op_table()), ::testing::ValuesIn(all_devices())),
    [](const ::testing::TestParamInfo<std::tuple<OpCase, Device>>& row_info) {
      return std::get<0>(row_info.param).name + "_" + kernels::device_name(std::get<1>(row_info.param));
    });

// The guard: runs after all tests, fails the program when no CPU row ran.
class CpuRowsRanGuard : public ::testing::Environment {
 public:
  void TearDown() override {
    if (cpu_rows_run == 0) {
      ADD_FAILURE() << "the op table ran no CPU row: every row was filtered out, skipped or "
                       "not registered, so nothing was checked";
    }
  }
};

}  // namespace
}  // namespace wise::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new wise::testing::CpuRowsRanGuard);
  return RUN_ALL_TESTS();
}
