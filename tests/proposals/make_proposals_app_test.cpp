// apps/make_proposals end to end on a tiny generated shapes set (shapes-v1's generator at
// 64 x 64, data/shapes/shapes.h): it prints the report table with recall, a second run
// reads every image from the cache and prints the same table, and bad options are named.
// The app runs as its own process through posix_spawn (OpenMP threads do not survive a
// bare fork), found through WISE_MAKE_PROPOSALS (tests/CMakeLists.txt).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "data/atomic_file.h"
#include "data/shapes/shapes.h"

extern char** environ;

namespace wise::testing {
namespace {

namespace fs = std::filesystem;

#ifndef WISE_MAKE_PROPOSALS
#error "WISE_MAKE_PROPOSALS (the make_proposals binary) must be defined by tests/CMakeLists.txt"
#endif

// Runs `arguments` (a program and its arguments), stdout and stderr into `output`;
// returns its exit code.
int run_command(std::vector<std::string> arguments, const std::string& output) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int run_app(std::vector<std::string> arguments, const std::string& output) {
  arguments.insert(arguments.begin(), WISE_MAKE_PROPOSALS);
  return run_command(std::move(arguments), output);
}

class MakeProposalsApp : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wise_make_proposals_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    data::ShapesConfig config = data::shapes_config_by_name("shapes-v1");
    config.name = "shapes-tiny";
    config.image_height = config.image_width = 64;
    config.train.count = 2;
    config.val.count = 6;
    config.instances = {1, 3};
    config.same_class_instances = {2, 3};
    config.object_size = {14, 36};
    config.clutter.count = {0, 2};
    data::generate_shapes_dataset(config, (dir_ / "data").string());
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> arguments() const {
    return {"--images", (dir_ / "data/images/val").string(), "--annotations",
            (dir_ / "data/annotations/val.json").string(), "--out", (dir_ / "cache").string()};
  }
  std::string output() const { return (dir_ / "output.txt").string(); }

  fs::path dir_;
};

// The table's rows (from "| proposals" on) of an app's output.
std::string table_of(const std::string& text) {
  const size_t begin = text.find("| proposals |"), all = text.find("| all |");
  if (begin == std::string::npos || all == std::string::npos) return "";
  return text.substr(begin, text.find('\n', all) - begin);
}

TEST_F(MakeProposalsApp, ReportsAndCaches) {
  ASSERT_EQ(run_app(arguments(), output()), 0) << data::read_whole_file(output());
  const std::string first = data::read_whole_file(output());
  EXPECT_NE(first.find("6 images"), std::string::npos) << first;
  EXPECT_NE(first.find("| top 100 |"), std::string::npos) << first;
  EXPECT_NE(first.find("(6 computed, 0 from the cache)"), std::string::npos) << first;
  // Every object of these simple images is found at IoU 0.5 by some proposal.
  EXPECT_NE(first.find("| all | "), std::string::npos) << first;
  const size_t all = first.find("| all | ");
  const double recall_50 = std::stod(first.substr(first.find('|', all + 8) + 1));
  EXPECT_GE(recall_50, 0.9) << first;

  ASSERT_EQ(run_app(arguments(), output()), 0);
  const std::string second = data::read_whole_file(output());
  EXPECT_NE(second.find("all 6 images from the cache"), std::string::npos) << second;
  EXPECT_EQ(table_of(first), table_of(second));
  EXPECT_FALSE(table_of(first).empty());

  // Two shards: the images split 3 + 3, both from the cache.
  std::vector<std::string> shard = arguments();
  shard.insert(shard.end(), {"--shard", "1/2"});
  ASSERT_EQ(run_app(shard, output()), 0);
  EXPECT_NE(data::read_whole_file(output()).find("3 images"), std::string::npos) << data::read_whole_file(output());
}

TEST_F(MakeProposalsApp, BadOptionsAreNamed) {
  std::vector<std::string> bad = arguments();
  bad.insert(bad.end(), {"--shard", "2/2"});
  EXPECT_EQ(run_app(bad, output()), 1);
  EXPECT_NE(data::read_whole_file(output()).find("shard \"2/2\": i is not below n"), std::string::npos)
      << data::read_whole_file(output());
  EXPECT_EQ(run_app({"--annotations", (dir_ / "data/annotations/val.json").string()}, output()), 1);
  EXPECT_NE(data::read_whole_file(output()).find("give --images and --out, or --precomputed"), std::string::npos);
  EXPECT_EQ(run_app({"--bogus"}, output()), 1);
  EXPECT_NE(data::read_whole_file(output()).find("unknown option \"--bogus\""), std::string::npos);
}


#ifdef WISE_MPIEXEC
// Every file of a folder: name -> bytes.
std::map<std::string, std::string> folder_files(const fs::path& folder) {
  std::map<std::string, std::string> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder))
    files[entry.path().filename().string()] = data::read_whole_file(entry.path().string());
  return files;
}

// Under mpirun the ranks split the images one process takes (--limit counts those) and
// fill one cache: the files one process writes, byte for byte, and rank 0 prints the
// job's table, which is the one process's.
TEST_F(MakeProposalsApp, UnderMpirunTheRanksFillTheCacheOneProcessFills) {
  std::vector<std::string> alone = arguments();
  alone.insert(alone.end(), {"--limit", "5"});
  ASSERT_EQ(run_app(alone, output()), 0) << data::read_whole_file(output());
  const std::string one = data::read_whole_file(output());

  std::vector<std::string> job = {WISE_MPIEXEC,  "-np",      "2", "--oversubscribe", "--bind-to", "none",
                                  "--allow-run-as-root", WISE_MAKE_PROPOSALS};
  for (std::string argument : alone) job.push_back(argument == (dir_ / "cache").string() ? (dir_ / "job").string() : argument);
  ASSERT_EQ(run_command(job, output()), 0) << data::read_whole_file(output());
  const std::string two = data::read_whole_file(output());
  EXPECT_NE(two.find("over 2 processes"), std::string::npos) << two;
  EXPECT_NE(two.find("5 images"), std::string::npos) << two;
  EXPECT_NE(two.find("(5 computed, 0 from the cache)"), std::string::npos) << two;
  EXPECT_EQ(table_of(two), table_of(one));
  EXPECT_FALSE(table_of(two).empty()) << two;
  const std::map<std::string, std::string> cached = folder_files(dir_ / "cache");
  EXPECT_EQ(cached.size(), 5u);
  EXPECT_TRUE(folder_files(dir_ / "job") == cached) << "the job's cache holds other files than one process's";
}
#endif

}  // namespace
}  // namespace wise::testing
