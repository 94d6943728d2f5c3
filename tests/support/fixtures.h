// PyTorch fixtures: committed safetensors files of torch's inputs and results.
//
// tests/fixtures/generate.py writes one file per op family into tests/fixtures/data
// (WISE_FIXTURE_DIR); tests read them here, so running the tests never needs Python.
// Each file's metadata carries fixture_version, which must equal kFixtureVersion: the
// generator and this header are bumped together whenever a file's content or layout
// changes, so a test never silently compares with stale or differently-named data.
//
// Every error (missing file, wrong version, missing tensor, wrong dtype) is a wise::Error
// naming the file and the tensor and ending with the fix:
//   ".../elementwise.safetensors: no tensor "1000.add" ...; re-run the generator: ..."
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nn/tensor.h"

namespace wise::testing {

inline constexpr int kFixtureVersion = 1;

inline constexpr const char* kRegenerateHint =
    "re-run the generator: /usr/bin/python3 tests/fixtures/generate.py";

class Fixture {
 public:
  Fixture(std::string path, std::map<std::string, Tensor> tensors,
          std::map<std::string, std::string> metadata);

  const std::string& path() const { return path_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }

  // A CPU tensor, plain layout, as stored. Throws if the file lacks `name`.
  Tensor tensor(const std::string& name) const;
  // The elements of a float32 tensor, in stored order.
  std::vector<float> floats(const std::string& name) const;
  // The elements of an int64 tensor, in stored order.
  std::vector<int64_t> int64s(const std::string& name) const;
  // The one element of a shape-[1] float32 tensor (how the generator stores scalars).
  float scalar(const std::string& name) const;

 private:
  Tensor typed(const std::string& name, DType dtype) const;

  std::string path_;
  std::map<std::string, Tensor> tensors_;
  std::map<std::string, std::string> metadata_;
};

// The committed fixtures' directory (WISE_FIXTURE_DIR, an absolute path).
std::string fixture_directory();

// Loads <fixture_directory()>/<family>.safetensors, e.g. load_fixture("elementwise").
Fixture load_fixture(const std::string& family);
// Loads <directory>/<family>.safetensors (tests of the loader write files elsewhere).
Fixture load_fixture(const std::string& family, const std::string& directory);

}  // namespace wise::testing
