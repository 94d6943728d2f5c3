// Loading named tensors into a model: each mismatch has its own named error,
// and a failed load changes nothing.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "nn/parameter_buffer.h"
#include "nn/state_dict.h"

namespace wise {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / ("wise_state_dict_" + name)).string();
}

ParameterBuffer model() {
  ParameterBuffer parameters;
  parameters.add("conv1.weight", {4, 3, 3, 3});
  parameters.add("fc.weight", {2, 4});
  parameters.allocate(Device::cpu);
  return parameters;
}

void expect_error(const std::function<void()>& action, SafetensorsErrorKind kind,
                  const std::vector<std::string>& fragments) {
  try {
    action();
    ADD_FAILURE() << "no error; expected " << safetensors_error_kind_name(kind);
  } catch (const SafetensorsError& error) {
    EXPECT_EQ(error.kind(), kind) << error.what();
    for (const std::string& fragment : fragments) {
      EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos)
          << "missing \"" << fragment << "\" in: " << error.what();
    }
  }
}

TEST(StateDict, RoundTripThroughAFile) {
  ParameterBuffer source = model();
  source.value("conv1.weight").fill(0.5f);
  source.value("fc.weight").fill(-2.0f);
  const std::string path = temp_path("round_trip.safetensors");
  write_tensors(path, source.named_values(), {{"format", "wise"}});

  ParameterBuffer destination = model();
  const LoadReport report = load_into(path, destination.named_values());
  EXPECT_EQ(report.loaded.size(), 2u);
  EXPECT_EQ(report.metadata.at("format"), "wise");
  EXPECT_EQ(destination.all_values().to_vector<float>(), source.all_values().to_vector<float>());

  const auto tensors = read_tensors(path);
  EXPECT_EQ(tensors.at("fc.weight").shape(), Shape({2, 4}));
}

TEST(StateDict, WritesBlockedTensorsAsPlainNchw) {
  const Tensor plain = Tensor::from_vector<float>({1, 3, 1, 2}, {1, 2, 3, 4, 5, 6});
  const std::string path = temp_path("blocked.safetensors");
  write_tensors(path, {{"x", plain.to_format(MemoryFormat::nchw16c)}});
  EXPECT_EQ(read_tensors(path).at("x").to_vector<float>(), plain.to_vector<float>());
  // And loads back into a blocked target.
  Tensor target = Tensor::zeros({1, 3, 1, 2}, DType::float32, Device::cpu, MemoryFormat::nchw8c);
  load_into(path, {{"x", target}});
  EXPECT_EQ(target.to_vector<float>(), plain.to_vector<float>());
}

TEST(StateDict, MissingTensorIsNamed) {
  const std::string path = temp_path("missing.safetensors");
  write_tensors(path, {{"conv1.weight", Tensor::zeros({4, 3, 3, 3})}});
  ParameterBuffer destination = model();
  expect_error([&] { load_into(path, destination.named_values()); },
               SafetensorsErrorKind::missing_tensor, {path, "missing 1 tensor(s)", "fc.weight"});
  LoadOptions options;
  options.allow_missing = true;
  EXPECT_EQ(load_into(path, destination.named_values(), options).missing,
            std::vector<std::string>{"fc.weight"});
}

TEST(StateDict, UnexpectedTensorIsAnErrorUnlessAllowed) {
  ParameterBuffer source = model();
  NamedTensors with_extra = source.named_values();
  with_extra.emplace_back("fc.bias", Tensor::zeros({2}));
  with_extra.emplace_back("layer9.weight", Tensor::zeros({1}));
  const std::string path = temp_path("unexpected.safetensors");
  write_tensors(path, with_extra);
  ParameterBuffer destination = model();
  expect_error([&] { load_into(path, destination.named_values()); },
               SafetensorsErrorKind::unexpected_tensor, {path, "2 unexpected tensor(s)", "fc.bias", "layer9.weight"});
  LoadOptions ignore_one;
  ignore_one.ignore_prefixes = {"fc."};
  expect_error([&] { load_into(path, destination.named_values(), ignore_one); },
               SafetensorsErrorKind::unexpected_tensor, {"1 unexpected tensor(s)", "layer9.weight"});
  LoadOptions allow;
  allow.allow_unexpected = true;
  EXPECT_EQ(load_into(path, destination.named_values(), allow).unexpected.size(), 2u);
}

TEST(StateDict, ShapeMismatchIsNamedAndLoadsNothing) {
  const std::string path = temp_path("shape.safetensors");
  Tensor good = Tensor::zeros({4, 3, 3, 3});
  good.fill(7.0f);
  write_tensors(path, {{"conv1.weight", good}, {"fc.weight", Tensor::zeros({4, 2})}});
  ParameterBuffer destination = model();
  expect_error([&] { load_into(path, destination.named_values()); }, SafetensorsErrorKind::shape_mismatch,
               {path, "tensor \"fc.weight\": shape mismatch: expected [2, 4], found [4, 2]"});
  // conv1.weight came first in the file, but nothing was written.
  EXPECT_EQ(destination.value("conv1.weight").to_vector<float>(), std::vector<float>(108, 0.0f));
}

TEST(StateDict, DtypeMismatchIsNamed) {
  const std::string path = temp_path("dtype.safetensors");
  write_tensors(path, {{"conv1.weight", Tensor::zeros({4, 3, 3, 3}, DType::int32)},
                       {"fc.weight", Tensor::zeros({2, 4})}});
  ParameterBuffer destination = model();
  expect_error([&] { load_into(path, destination.named_values()); }, SafetensorsErrorKind::dtype_mismatch,
               {path, "tensor \"conv1.weight\": dtype mismatch: expected F32, found I32"});
}

TEST(StateDict, UnsupportedFileDtypeIsNamed) {
  const std::string path = temp_path("bf16.safetensors");
  const uint16_t bfloat[2] = {0x3f80, 0x4000};
  write_safetensors_file(path, {{"w", SafetensorsDType::BF16, {2}, bfloat}});
  expect_error([&] { read_tensors(path); }, SafetensorsErrorKind::dtype_mismatch,
               {path, "tensor \"w\": dtype BF16 is not supported"});
}

// F16 files: hand-written bit patterns read as their float32 values (1, 2, -2, 2^-24, the
// largest finite 65504, -0), into a read and into a model's float32 parameters.
TEST(StateDict, F16TensorsAreReadAsFloat32) {
  const std::string path = temp_path("f16.safetensors");
  const uint16_t half[6] = {0x3c00, 0x4000, 0xc000, 0x0001, 0x7bff, 0x8000};
  write_safetensors_file(path, {{"w", SafetensorsDType::F16, {2, 3}, half}});
  const Tensor w = read_tensors(path).at("w");
  EXPECT_EQ(w.dtype(), DType::float32);
  const std::vector<float> values = w.to_vector<float>();
  EXPECT_EQ(values, (std::vector<float>{1.0f, 2.0f, -2.0f, 5.9604644775390625e-8f, 65504.0f, -0.0f}));
  EXPECT_TRUE(std::signbit(values[5]));

  std::vector<uint16_t> conv(4 * 3 * 3 * 3, 0x3800);  // 0.5
  const uint16_t fc[8] = {0x2e66, 0, 0, 0, 0, 0, 0, 0xbc00};  // 0.0999755859375 (0.1 in F16), ..., -1
  const std::string model_path = temp_path("f16_model.safetensors");
  write_safetensors_file(model_path, {{"conv1.weight", SafetensorsDType::F16, {4, 3, 3, 3}, conv.data()},
                                      {"fc.weight", SafetensorsDType::F16, {2, 4}, fc}});
  ParameterBuffer destination = model();
  EXPECT_EQ(load_into(model_path, destination.named_values()).loaded.size(), 2u);
  EXPECT_EQ(destination.value("conv1.weight").to_vector<float>(), std::vector<float>(108, 0.5f));
  const std::vector<float> loaded = destination.value("fc.weight").to_vector<float>();
  EXPECT_EQ(loaded.front(), 0.0999755859375f);
  EXPECT_EQ(loaded.back(), -1.0f);
}

// Writing as F16: the file holds each value rounded to nearest even (0.1 -> 0x2e66; 1 +
// 2^-11, halfway between 1 and 1 + 2^-10, -> 1), other dtypes stay as they are, and a
// value F16 cannot hold is an error naming the tensor.
TEST(StateDict, WritesFloat32AsF16WhenAsked) {
  const std::string path = temp_path("as_f16.safetensors");
  write_tensors(path,
                {{"w", Tensor::from_vector<float>({3}, {0.1f, 1.0f + 1.0f / 2048.0f, -65504.0f})},
                 {"ids", Tensor::from_vector<int64_t>({2}, {7, -3})}},
                {{"source", "test"}}, StoredFloat::f16);
  SafetensorsReader reader(path);
  const SafetensorsEntry* w = reader.header().find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->dtype, SafetensorsDType::F16);
  uint16_t bits[3];
  reader.read(*w, bits, sizeof(bits));
  EXPECT_EQ(bits[0], 0x2e66);
  EXPECT_EQ(bits[1], 0x3c00);
  EXPECT_EQ(bits[2], 0xfbff);
  EXPECT_EQ(reader.header().find("ids")->dtype, SafetensorsDType::I64);
  EXPECT_EQ(reader.header().metadata.at("source"), "test");
  EXPECT_EQ(read_tensors(path).at("ids").to_vector<int64_t>(), (std::vector<int64_t>{7, -3}));

  try {
    write_tensors(temp_path("too_big.safetensors"), {{"bn.running_var", Tensor::from_vector<float>({1}, {70000.0f})}},
                  {}, StoredFloat::f16);
    ADD_FAILURE() << "70000 written as F16";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("tensor \"bn.running_var\" holds 70000, which F16 cannot store"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace wise
