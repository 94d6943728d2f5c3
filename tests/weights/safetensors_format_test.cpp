// Tests for weights/safetensors_format.* and weights/safetensors_file.*: round trips,
// alignment, atomic writes, and one test per malformation kind. Malformed files are built
// byte by byte (8-byte size + JSON + data), so each test shows exactly what it feeds in.
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "weights/safetensors_file.h"
#include "weights/safetensors_format.h"

namespace wise {
namespace {

namespace fs = std::filesystem;
using Kind = SafetensorsErrorKind;

std::string le64(uint64_t value) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return bytes;
}

std::string read_file_bytes(const std::string& path) {
  std::ifstream stream(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(stream), {});
}

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) / ("wise_safetensors_" + std::to_string(::getpid())) / info->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::string write_bytes(const std::string& name, const std::string& bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
    return path(name);
  }
  // A file with the given header JSON (its size field computed) followed by `data`.
  std::string write_raw(const std::string& name, const std::string& json, const std::string& data) const {
    return write_bytes(name, le64(json.size()) + json + data);
  }

  std::vector<std::string> files_in_dir() const {
    std::vector<std::string> names;
    for (const auto& item : fs::directory_iterator(dir_)) names.push_back(item.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
};

// Reads `file`'s header expecting a SafetensorsError of `kind` whose message names the
// file and, when given, the tensor (quoted). Returns the message for further checks.
std::string expect_error(const std::string& file, Kind kind, const std::string& tensor = "") {
  try {
    read_safetensors_header(file);
  } catch (const SafetensorsError& error) {
    const std::string message = error.what();
    EXPECT_STREQ(safetensors_error_kind_name(error.kind()), safetensors_error_kind_name(kind)) << message;
    EXPECT_NE(message.find(file), std::string::npos) << "message does not name the file: " << message;
    if (!tensor.empty()) {
      EXPECT_NE(message.find('"' + tensor + '"'), std::string::npos) << "message does not name the tensor: " << message;
    }
    return message;
  }
  ADD_FAILURE() << file << ": expected a " << safetensors_error_kind_name(kind) << " error, but it parsed";
  return "";
}

// ---- valid files -------------------------------------------------------------------------

TEST_F(SafetensorsTest, RoundTripsDtypesAndShapes) {
  struct Case {
    std::string name;
    SafetensorsDType dtype;
    std::vector<int64_t> shape;
  };
  const std::vector<Case> cases = {
      {"f32", SafetensorsDType::F32, {2, 3}},    {"f16", SafetensorsDType::F16, {5}},
      {"bf16", SafetensorsDType::BF16, {1, 3}},  {"f64", SafetensorsDType::F64, {2}},
      {"i64", SafetensorsDType::I64, {3}},       {"i32", SafetensorsDType::I32, {2, 2}},
      {"empty", SafetensorsDType::F32, {0, 3}},  {"i16", SafetensorsDType::I16, {3}},
      {"i8", SafetensorsDType::I8, {7}},         {"u8", SafetensorsDType::U8, {2, 3, 1}},
      {"bool", SafetensorsDType::BOOL, {4}},     {"scalar", SafetensorsDType::F32, {}},
      {"u64", SafetensorsDType::U64, {1}},       {"f8", SafetensorsDType::F8_E4M3, {3}},
  };
  std::vector<std::vector<uint8_t>> data;
  std::vector<SafetensorsWriteEntry> tensors;
  for (size_t c = 0; c < cases.size(); ++c) {
    std::vector<uint8_t> bytes(*safetensors_byte_size(cases[c].dtype, cases[c].shape));
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 31 + c * 7 + 1);
    data.push_back(std::move(bytes));
  }
  for (size_t c = 0; c < cases.size(); ++c) {
    tensors.push_back({cases[c].name, cases[c].dtype, cases[c].shape, data[c].data()});
  }
  write_safetensors_file(path("model.safetensors"), tensors);

  SafetensorsReader reader(path("model.safetensors"));
  const SafetensorsHeader& header = reader.header();
  ASSERT_EQ(header.entries.size(), cases.size());
  uint64_t total = 0;
  for (size_t c = 0; c < cases.size(); ++c) {
    SCOPED_TRACE(cases[c].name);
    EXPECT_EQ(header.entries[c].name, cases[c].name);  // written back to back, in order
    const SafetensorsEntry& entry = header.at(cases[c].name);
    EXPECT_EQ(entry.dtype, cases[c].dtype);
    EXPECT_EQ(entry.shape, cases[c].shape);
    EXPECT_EQ(entry.begin, total);
    EXPECT_EQ(entry.byte_size(), data[c].size());
    std::vector<uint8_t> back(entry.byte_size(), 0xAB);
    reader.read(entry, back.data(), back.size());
    EXPECT_EQ(back, data[c]);
    total += data[c].size();
  }
  EXPECT_EQ(header.at("scalar").byte_size(), 4u);  // a 0-d tensor holds one element
  EXPECT_EQ(header.at("empty").byte_size(), 0u);
  EXPECT_EQ(header.data_size, total);
  EXPECT_TRUE(header.metadata.empty());
  EXPECT_EQ(fs::file_size(path("model.safetensors")), header.data_offset + total);
}

TEST_F(SafetensorsTest, SerializesTheDocumentedLayout) {
  // Hand-computed: 54 bytes of JSON + 2 spaces = 56 = 0x38, so the data starts at byte 64.
  const std::string json = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string expected = std::string("\x38\0\0\0\0\0\0\0", 8) + json + "  ";
  EXPECT_EQ(serialize_safetensors_header({{"w", SafetensorsDType::F32, {2}, 0, 8}}, {}), expected);
}

TEST_F(SafetensorsTest, MetadataRoundTrips) {
  const std::map<std::string, std::string> metadata = {
      {"format", "pt"}, {"note", "caf\xc3\xa9 \"quoted\"\nline"}, {"empty", ""}};
  const float value = 1.5f;
  write_safetensors_file(path("m.safetensors"), {{"x", SafetensorsDType::F32, {}, &value}}, metadata);
  EXPECT_EQ(read_safetensors_header(path("m.safetensors")).metadata, metadata);

  write_safetensors_file(path("plain.safetensors"), {{"x", SafetensorsDType::F32, {}, &value}});
  EXPECT_EQ(read_file_bytes(path("plain.safetensors")).find("__metadata__"), std::string::npos);
}

TEST_F(SafetensorsTest, DataBlockStartsAtMultipleOfEight) {
  const uint8_t byte = 7;
  for (size_t length = 1; length <= 16; ++length) {
    const std::string file = path("a" + std::to_string(length) + ".safetensors");
    write_safetensors_file(file, {{std::string(length, 'n'), SafetensorsDType::U8, {1}, &byte}});
    const SafetensorsHeader header = read_safetensors_header(file);
    EXPECT_EQ(header.data_offset % 8, 0u) << "name length " << length;
    // The padding is spaces after the closing brace.
    const std::string json = read_file_bytes(file).substr(8, header.data_offset - 8);
    const size_t brace = json.find_last_of('}');
    EXPECT_EQ(json.find_first_not_of(' ', brace + 1), std::string::npos) << json;
  }
}

TEST_F(SafetensorsTest, AcceptsSpacePaddedHeader) {
  const std::string json = R"({"w":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}})";
  const auto header = read_safetensors_header(write_raw("p.safetensors", json + "     ", "abc"));
  ASSERT_EQ(header.entries.size(), 1u);
  EXPECT_EQ(header.data_offset, 8 + json.size() + 5);
}

TEST_F(SafetensorsTest, AcceptsFileWithNoTensors) {
  const auto header = read_safetensors_header(write_raw("e.safetensors", "{}", ""));
  EXPECT_TRUE(header.entries.empty());
  EXPECT_EQ(header.data_size, 0u);
}

TEST_F(SafetensorsTest, ParsesFromHeaderBytesAlone) {
  // The file layer hands the parser only 8 + N bytes; the data block is never read.
  const std::string header_bytes = serialize_safetensors_header({{"w", SafetensorsDType::F64, {4}, 0, 32}}, {});
  const auto header = parse_safetensors_header(reinterpret_cast<const uint8_t*>(header_bytes.data()),
                                               header_bytes.size() + 32, "memory");
  EXPECT_EQ(header.at("w").byte_size(), 32u);
  EXPECT_EQ(header.data_offset, header_bytes.size());
}

// ---- file layer and atomic writes ----------------------------------------------------------

TEST_F(SafetensorsTest, MissingFileIsNamed) { expect_error(path("absent.safetensors"), Kind::file_not_found); }

TEST_F(SafetensorsTest, LookupOfMissingTensorNamesFileAndTensor) {
  const float value = 0;
  write_safetensors_file(path("m.safetensors"), {{"x", SafetensorsDType::F32, {}, &value}});
  const auto header = read_safetensors_header(path("m.safetensors"));
  EXPECT_EQ(header.find("rpn.head.conv.weight"), nullptr);
  try {
    header.at("rpn.head.conv.weight");
    ADD_FAILURE() << "expected missing_tensor";
  } catch (const SafetensorsError& error) {
    EXPECT_EQ(error.kind(), Kind::missing_tensor);
    EXPECT_NE(std::string(error.what()).find(path("m.safetensors")), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("\"rpn.head.conv.weight\""), std::string::npos) << error.what();
  }
}

TEST_F(SafetensorsTest, ReadRejectsWrongBufferSize) {
  const float values[2] = {1, 2};
  write_safetensors_file(path("m.safetensors"), {{"x", SafetensorsDType::F32, {2}, values}});
  SafetensorsReader reader(path("m.safetensors"));
  float dst[3];
  try {
    reader.read("x", dst, sizeof(dst));
    ADD_FAILURE() << "expected invalid_argument";
  } catch (const SafetensorsError& error) {
    EXPECT_EQ(error.kind(), Kind::invalid_argument);
    EXPECT_NE(std::string(error.what()).find("holds 12 bytes"), std::string::npos) << error.what();
  }
}

TEST_F(SafetensorsTest, WriterRejectsDuplicateNames) {
  const float value = 0;
  const SafetensorsWriteEntry entry{"x", SafetensorsDType::F32, {}, &value};
  EXPECT_THROW(write_safetensors_file(path("d.safetensors"), {entry, entry}), SafetensorsError);
  EXPECT_TRUE(files_in_dir().empty());
}

TEST_F(SafetensorsTest, WriteLeavesNoTemporaryFile) {
  const float value = 3;
  write_safetensors_file(path("m.safetensors"), {{"x", SafetensorsDType::F32, {}, &value}});
  write_safetensors_file(path("m.safetensors"), {{"y", SafetensorsDType::F32, {}, &value}});  // replaces
  EXPECT_EQ(files_in_dir(), std::vector<std::string>{"m.safetensors"});
  EXPECT_NE(read_safetensors_header(path("m.safetensors")).find("y"), nullptr);
}

TEST_F(SafetensorsTest, WriteIntoMissingDirectoryNamesPathAndErrno) {
  const float value = 3;
  const std::string file = path("no/such/dir/m.safetensors");
  try {
    write_safetensors_file(file, {{"x", SafetensorsDType::F32, {}, &value}});
    ADD_FAILURE() << "expected io_error";
  } catch (const SafetensorsError& error) {
    EXPECT_EQ(error.kind(), Kind::io_error);
    EXPECT_NE(std::string(error.what()).find(file), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("No such file or directory"), std::string::npos) << error.what();
  }
  EXPECT_TRUE(files_in_dir().empty());
}

TEST_F(SafetensorsTest, FailedWriteKeepsOldFileIntact) {
  const float old_value = 1, new_value = 2;
  const std::string file = path("m.safetensors");
  write_safetensors_file(file, {{"old", SafetensorsDType::F32, {}, &old_value}});
  const std::string old_bytes = read_file_bytes(file);
  // A directory squatting on the temporary file's name makes creating it fail.
  fs::create_directory(file + ".tmp." + std::to_string(::getpid()));
  EXPECT_THROW(write_safetensors_file(file, {{"new", SafetensorsDType::F32, {}, &new_value}}), SafetensorsError);
  EXPECT_EQ(read_file_bytes(file), old_bytes);
}

TEST_F(SafetensorsTest, FailedRenameRemovesTemporaryFile) {
  // The target is a non-empty directory: the temporary file is complete, the rename fails.
  const float value = 1;
  fs::create_directories(path("m.safetensors/occupied"));
  EXPECT_THROW(write_safetensors_file(path("m.safetensors"), {{"x", SafetensorsDType::F32, {}, &value}}),
               SafetensorsError);
  EXPECT_EQ(files_in_dir(), std::vector<std::string>{"m.safetensors"});
  EXPECT_TRUE(fs::is_directory(path("m.safetensors")));
}

// ---- one test per malformation kind ---------------------------------------------------------

const std::string kEight(8, '\0');  // data for one F32 [2] tensor

TEST_F(SafetensorsTest, HeaderSizeOver100MB) {
  expect_error(write_bytes("h.safetensors", le64(100000001) + "{}"), Kind::header_too_large);
}

// torch.save's two formats are named, with the converter to run.
TEST_F(SafetensorsTest, PyTorchCheckpointsAreRecognised) {
  const std::string zip = std::string("PK\x03\x04\0\0\x08\0", 8) + std::string(64, 'x');
  const std::string pickle = std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8", 12) +
                             std::string(64, 'x');
  for (const std::string& file : {write_bytes("resnet50-0676ba61.pth", zip), write_bytes("legacy.pth", pickle)}) {
    const std::string message = expect_error(file, Kind::not_safetensors);
    EXPECT_NE(message.find("scripts/convert_torchvision_weights.py"), std::string::npos) << message;
  }
}

TEST_F(SafetensorsTest, HeaderLargerThanFile) {
  expect_error(write_bytes("h.safetensors", le64(1000) + "{}"), Kind::truncated);
}

TEST_F(SafetensorsTest, FileShorterThanEightBytes) {
  expect_error(write_bytes("short.safetensors", std::string("\x02\0\0", 3)), Kind::truncated);
  expect_error(write_bytes("empty.safetensors", ""), Kind::truncated);
}

TEST_F(SafetensorsTest, DataBlockShorterThanOffsets) {
  const std::string json = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})";
  expect_error(write_raw("t.safetensors", json, std::string(12, '\0')), Kind::truncated, "b");
}

TEST_F(SafetensorsTest, InvalidJson) {
  expect_error(write_raw("j.safetensors", R"({"a":{"dtype":"F32",)", ""), Kind::invalid_json);
}

TEST_F(SafetensorsTest, InvalidUtf8) {
  const auto message = expect_error(write_raw("u.safetensors", "{\"\xff\":{}}", ""), Kind::invalid_json);
  EXPECT_EQ(message.find('\xff'), std::string::npos) << "raw file bytes leaked into the message";
}

TEST_F(SafetensorsTest, NumberBeyondDouble) {
  // Found by the fuzzer: nlohmann reports 1e999 as out_of_range, not as a parse error.
  expect_error(write_raw("n.safetensors", R"({"a":{"dtype":"F32","shape":[1e999],"data_offsets":[0,8]}})", kEight),
               Kind::invalid_json);
}

TEST_F(SafetensorsTest, JsonNotAnObject) {
  expect_error(write_raw("j.safetensors", "[1, 2]", ""), Kind::invalid_json);
}

TEST_F(SafetensorsTest, DuplicateTensorName) {
  const std::string json = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})";
  expect_error(write_raw("d.safetensors", json, kEight + kEight), Kind::invalid_json, "a");
}

TEST_F(SafetensorsTest, EntryNotAnObject) {
  expect_error(write_raw("e.safetensors", R"({"a":[0,8]})", kEight), Kind::bad_field, "a");
}

TEST_F(SafetensorsTest, MissingDtype) {
  const auto message =
      expect_error(write_raw("m.safetensors", R"({"a":{"shape":[2],"data_offsets":[0,8]}})", kEight),
                   Kind::bad_field, "a");
  EXPECT_NE(message.find("\"dtype\""), std::string::npos) << message;
}

TEST_F(SafetensorsTest, MissingShape) {
  const auto message =
      expect_error(write_raw("m.safetensors", R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", kEight),
                   Kind::bad_field, "a");
  EXPECT_NE(message.find("\"shape\""), std::string::npos) << message;
}

TEST_F(SafetensorsTest, MissingDataOffsets) {
  const auto message =
      expect_error(write_raw("m.safetensors", R"({"a":{"dtype":"F32","shape":[2]}})", kEight), Kind::bad_field, "a");
  EXPECT_NE(message.find("\"data_offsets\""), std::string::npos) << message;
}

TEST_F(SafetensorsTest, WronglyTypedFields) {
  expect_error(write_raw("d.safetensors", R"({"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", kEight),
               Kind::bad_field, "a");
  expect_error(write_raw("s.safetensors", R"({"a":{"dtype":"F32","shape":"2","data_offsets":[0,8]}})", kEight),
               Kind::bad_field, "a");
  expect_error(write_raw("o.safetensors", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8]}})", kEight),
               Kind::bad_field, "a");
  expect_error(write_raw("n.safetensors", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", kEight),
               Kind::bad_field, "a");
}

TEST_F(SafetensorsTest, UnknownDtype) {
  expect_error(write_raw("u.safetensors", R"({"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", kEight),
               Kind::unknown_dtype, "a");
}

TEST_F(SafetensorsTest, NegativeDim) {
  expect_error(write_raw("n.safetensors", R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", kEight),
               Kind::bad_shape, "a");
}

TEST_F(SafetensorsTest, FractionalDim) {
  expect_error(write_raw("f.safetensors", R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", kEight),
               Kind::bad_shape, "a");
}

TEST_F(SafetensorsTest, EndBeforeBegin) {
  expect_error(write_raw("r.safetensors", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", kEight),
               Kind::reversed_offsets, "a");
}

TEST_F(SafetensorsTest, OffsetsOutOfRange) {
  // b points far past a 16-byte data block whose first 8 bytes a holds.
  const std::string json = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("b":{"dtype":"F32","shape":[2],"data_offsets":[100,108]}})";
  expect_error(write_raw("o.safetensors", json, kEight + kEight), Kind::offsets_out_of_range, "b");
}

TEST_F(SafetensorsTest, ByteLengthNotNumelTimesSize) {
  const std::string json = R"({"layer1.0.conv1.weight":{"dtype":"F32","shape":[64,3,7,7],"data_offsets":[0,100]}})";
  const auto message =
      expect_error(write_raw("s.safetensors", json, std::string(100, '\0')), Kind::size_mismatch,
                   "layer1.0.conv1.weight");
  EXPECT_NE(message.find("tensor \"layer1.0.conv1.weight\": data_offsets [0, 100) hold 100 bytes, "
                         "but shape [64, 3, 7, 7] of F32 needs 37632"),
            std::string::npos)
      << message;
}

TEST_F(SafetensorsTest, ByteLengthOverflows) {
  const std::string json = R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})";
  expect_error(write_raw("s.safetensors", json, kEight), Kind::size_mismatch, "a");
}

TEST_F(SafetensorsTest, OverlappingTensors) {
  const std::string json = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  const auto message = expect_error(write_raw("o.safetensors", json, std::string(12, '\0')), Kind::overlapping, "b");
  EXPECT_NE(message.find("\"a\""), std::string::npos) << message;
}

TEST_F(SafetensorsTest, GapBetweenTensors) {
  const std::string json = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})";
  const auto message = expect_error(write_raw("g.safetensors", json, std::string(20, '\0')), Kind::not_covering, "b");
  EXPECT_NE(message.find("\"a\""), std::string::npos) << message;
  EXPECT_NE(message.find("[8, 12)"), std::string::npos) << message;
}

TEST_F(SafetensorsTest, GapBeforeFirstTensor) {
  expect_error(write_raw("g.safetensors", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                         std::string(12, '\0')),
               Kind::not_covering, "a");
}

TEST_F(SafetensorsTest, TrailingBytes) {
  const auto message = expect_error(
      write_raw("t.safetensors", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", kEight + "tail"),
      Kind::not_covering, "a");
  EXPECT_NE(message.find("4 trailing bytes"), std::string::npos) << message;
}

TEST_F(SafetensorsTest, DataWithoutTensors) {
  expect_error(write_raw("d.safetensors", "{}", "data"), Kind::not_covering);
}

TEST_F(SafetensorsTest, MetadataValueNotString) {
  const std::string json = R"({"__metadata__":{"epoch":3},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const auto message = expect_error(write_raw("m.safetensors", json, kEight), Kind::bad_metadata);
  EXPECT_NE(message.find("\"epoch\""), std::string::npos) << message;
}

TEST_F(SafetensorsTest, MetadataNotObject) {
  expect_error(write_raw("m.safetensors", R"({"__metadata__":"pt"})", ""), Kind::bad_metadata);
}

}  // namespace
}  // namespace wise
