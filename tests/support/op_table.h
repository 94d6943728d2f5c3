// The op x shape x device table (after ggml's test-backend-ops, with an
// independent oracle).
//
// Each row is a case — an op at one shape with its parameters, named by a
// printable parameter string — run once per device. A case runs the op on the
// given device and compares with an INDEPENDENT reference: a naive double loop
// in tests/reference/, a PyTorch fixture, or hand-computed values; never with
// wise's own CPU kernel, so a machine without a GPU still checks everything.
// CUDA rows compare with the same reference and are skipped without a device.
// Adding an op = adding rows in a tests/op_table/*_cases.cpp file:
//
//   static OpCaseRegistrar add_cases({{"add_n1000", [](Device device, uint64_t seed) { ... }}});
//
// A guard fails the run when no CPU row ran (a table that silently checks
// nothing is what this harness exists to prevent).
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "kernels/device.h"

namespace wise::testing {

struct OpCase {
  std::string name;  // letters, digits and '_' only: it becomes part of the test name
  std::function<void(kernels::Device device, uint64_t seed)> run;
};

std::vector<OpCase>& op_table();

// gtest prints a failing row's parameter with this: its name.
inline void PrintTo(const OpCase& row, std::ostream* out) { *out << row.name; }

struct OpCaseRegistrar {
  explicit OpCaseRegistrar(std::vector<OpCase> cases);
};

}  // namespace wise::testing
