#include "tests/support/fixtures.h"

#include <utility>

#include "nn/state_dict.h"

#ifndef WISE_FIXTURE_DIR
#error "WISE_FIXTURE_DIR must name tests/fixtures/data (set in tests/CMakeLists.txt)"
#endif

namespace wise::testing {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw Error(concat(path, ": ", problem, "; ", kRegenerateHint));
}

}  // namespace

Fixture::Fixture(std::string path, std::map<std::string, Tensor> tensors,
                 std::map<std::string, std::string> metadata)
    : path_(std::move(path)), tensors_(std::move(tensors)), metadata_(std::move(metadata)) {}

Tensor Fixture::tensor(const std::string& name) const {
  const auto found = tensors_.find(name);
  if (found == tensors_.end()) {
    fail(path_, concat("no tensor \"", name, "\" (the file has ", tensors_.size(),
                       " tensors, fixture_version ", kFixtureVersion, ")"));
  }
  return found->second;
}

Tensor Fixture::typed(const std::string& name, DType dtype) const {
  Tensor found = tensor(name);
  if (found.dtype() != dtype) {
    fail(path_, concat("tensor \"", name, "\" is ", found.describe(), ", expected ",
                       dtype_name(dtype)));
  }
  return found;
}

std::vector<float> Fixture::floats(const std::string& name) const {
  return typed(name, DType::float32).to_vector<float>();
}

std::vector<int64_t> Fixture::int64s(const std::string& name) const {
  return typed(name, DType::int64).to_vector<int64_t>();
}

float Fixture::scalar(const std::string& name) const {
  const Tensor found = typed(name, DType::float32);
  if (found.shape() != Shape{1}) {
    fail(path_, concat("tensor \"", name, "\" has shape ", found.shape(), ", expected [1]"));
  }
  return found.data<float>()[0];
}

std::string fixture_directory() { return WISE_FIXTURE_DIR; }

Fixture load_fixture(const std::string& family) { return load_fixture(family, fixture_directory()); }

Fixture load_fixture(const std::string& family, const std::string& directory) {
  const std::string path = directory + "/" + family + ".safetensors";
  std::map<std::string, std::string> metadata;
  std::map<std::string, Tensor> tensors;
  try {
    // The version first: a file from another generator may not even parse as this one expects.
    metadata = read_safetensors_header(path).metadata;
    const auto version = metadata.find("fixture_version");
    const std::string expected = std::to_string(kFixtureVersion);
    if (version == metadata.end()) {
      fail(path, concat("no fixture_version in the metadata, expected \"", expected, "\""));
    }
    if (version->second != expected) {
      fail(path, concat("fixture_version \"", version->second, "\", but the tests expect \"",
                        expected, "\" (kFixtureVersion in tests/support/fixtures.h)"));
    }
    tensors = read_tensors(path);
  } catch (const SafetensorsError& error) {
    // what() already starts with the path (missing file, truncated, bad header...).
    throw Error(concat(error.what(), "; ", kRegenerateHint));
  }
  return Fixture(path, std::move(tensors), std::move(metadata));
}

}  // namespace wise::testing
