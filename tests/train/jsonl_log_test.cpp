// train/jsonl_log.h: the exact text of records, flushing, and the truncation a
// resumed run applies to its log.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include "tests/train/tiny_trainer.h"
#include "train/jsonl_log.h"

namespace wise::testing {
namespace {

TEST(LogRecord, WritesFieldsInOrderAsCompactJson) {
  LogRecord record;
  record.add("step", 20).add("lr", 0.25).add("loss", -1.5).add("name", "run \"a\"").add("best", true);
  record.add("big", int64_t{1} << 40);
  EXPECT_EQ(record.to_json(), "{\"step\":20,\"lr\":0.25,\"loss\":-1.5,\"name\":\"run \\\"a\\\"\",\"best\":true,"
                              "\"big\":1099511627776}");
}

TEST(LogRecord, NonFiniteNumbersBecomeStringsAndRepeatedKeysKeepTheirPlace) {
  LogRecord record;
  record.add("a", std::numeric_limits<double>::quiet_NaN())
      .add("b", std::numeric_limits<double>::infinity())
      .add("c", -std::numeric_limits<double>::infinity())
      .add("a", 1.0);
  EXPECT_EQ(record.to_json(), "{\"a\":1.0,\"b\":\"inf\",\"c\":\"-inf\"}");
  EXPECT_EQ(LogRecord().add("x", std::nan("")).to_json(), "{\"x\":\"nan\"}");
  // Doubles round-trip exactly (shortest representation).
  EXPECT_EQ(LogRecord().add("x", 0.1).to_json(), "{\"x\":0.1}");
}

TEST(JsonlLog, CreateWritesOneFlushedLinePerRecordAndReplacesAnOldLog) {
  ScratchDirectory dir;
  const std::string path = dir.file("nested/log.jsonl");
  {
    JsonlLog log = JsonlLog::create(path);
    log.write(LogRecord().add("step", 1));
    // Flushed: visible before the log is closed.
    EXPECT_EQ(read_file(path), "{\"step\":1}\n");
    log.write(LogRecord().add("step", 2).add("loss", 0.5));
  }
  EXPECT_EQ(read_file(path), "{\"step\":1}\n{\"step\":2,\"loss\":0.5}\n");
  JsonlLog::create(path).write(LogRecord().add("step", 9));
  EXPECT_EQ(read_file(path), "{\"step\":9}\n");
}

TEST(JsonlLog, ResumeKeepsStepsUpToTheCheckpointAndDropsTheRest) {
  ScratchDirectory dir;
  const std::string path = dir.file("log.jsonl");
  write_file(path,
             "{\"step\":1,\"loss\":3}\n"
             "{\"step\":2,\"loss\":2}\n"
             "{\"step\":3,\"loss\":1}\n"
             "{\"note\":\"no step\"}\n"
             "{\"step\":\"4\"}\n"
             "{\"step\":4,\"loss\":0.5}\n"
             "{\"step\":5,\"event\":\"non_finite\"}\n"
             "{\"step\":6,\"lo");  // torn by a kill
  {
    JsonlLog log = JsonlLog::resume(path, 3);
    EXPECT_EQ(read_file(path), "{\"step\":1,\"loss\":3}\n{\"step\":2,\"loss\":2}\n{\"step\":3,\"loss\":1}\n");
    log.write(LogRecord().add("step", 4).add("loss", 0.25));
  }
  EXPECT_EQ(read_file(path),
            "{\"step\":1,\"loss\":3}\n{\"step\":2,\"loss\":2}\n{\"step\":3,\"loss\":1}\n{\"step\":4,\"loss\":0.25}\n");
  // No leftover temporary file from the atomic rewrite.
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1);
}

TEST(JsonlLog, ResumeWithoutALogStartsAnEmptyOne) {
  ScratchDirectory dir;
  const std::string path = dir.file("log.jsonl");
  JsonlLog::resume(path, 10).write(LogRecord().add("step", 11));
  EXPECT_EQ(read_file(path), "{\"step\":11}\n");
}

TEST(JsonlLog, UnwritableLocationIsANamedError) {
  ScratchDirectory dir;
  write_file(dir.file("a_file"), "x");
  try {
    JsonlLog::create(dir.file("a_file/log.jsonl"));
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("a_file/log.jsonl"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace wise::testing
