// Running an app of wise as a separate process in a test: started with posix_spawn (no
// bare fork(): OpenMP's threads do not survive one) at one OpenMP thread, its stdout and
// stderr in a file, waited for at most 60 s; and what its runs leave behind (the JSONL
// log's records, a checkpoint's tensors as bytes).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/shapes/shapes.h"
#include "nn/state_dict.h"
#include "tests/train/tiny_trainer.h"

extern char** environ;

namespace wise::testing {

// A running app, its output in a file.
class App {
 public:
  App(std::vector<std::string> arguments, const std::string& output_path) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> argv;
    for (std::string& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    // One thread: the run is tiny, and OpenMP threads that wait for a busy core
    // (ctest -j, other builds) slow a run down many times over.
    std::vector<std::string> environment{"OMP_NUM_THREADS=1"};
    for (char** entry = environ; *entry; ++entry) {
      if (std::strncmp(*entry, "OMP_NUM_THREADS=", 16) != 0) environment.emplace_back(*entry);
    }
    std::vector<char*> envp;
    for (std::string& variable : environment) envp.push_back(variable.data());
    envp.push_back(nullptr);
    spawned_ = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data()) == 0;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~App() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  bool spawned() const { return spawned_; }
  pid_t pid() const { return pid_; }
  bool running() const { return spawned_ && !waited_; }
  // True once the process has ended (collects its status).
  bool poll() {
    if (!running()) return true;
    if (::waitpid(pid_, &status_, WNOHANG) == pid_) waited_ = true;
    return waited_;
  }
  // Waits at most 60 s (then kills it): a hung app fails the test, never hangs it.
  int wait() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!poll()) {
      if (std::chrono::steady_clock::now() > deadline) ::kill(pid_, SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return status_;
  }
  void kill() { ::kill(pid_, SIGKILL); }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool spawned_ = false, waited_ = false;
};

inline int run_app(const std::vector<std::string>& arguments, const std::string& output_path) {
  App app(arguments, output_path);
  if (!app.spawned()) return -1;
  return app.wait();
}

inline bool exited_with(int status, int code) { return WIFEXITED(status) && WEXITSTATUS(status) == code; }

// `mpiexec` -np N for `command`: oversubscribed (CI has 2 cores), unbound (each rank's
// OpenMP threads may run anywhere), allowed as root (containers).
inline std::vector<std::string> mpirun_command(const std::string& mpiexec, int processes,
                                               const std::vector<std::string>& command) {
  std::vector<std::string> line = {mpiexec, "-np", std::to_string(processes), "--oversubscribe",
                                   "--bind-to", "none", "--allow-run-as-root"};
  line.insert(line.end(), command.begin(), command.end());
  return line;
}

// The log's records without their wall-clock "time".
inline std::vector<nlohmann::json> log_records(const std::string& dir) {
  std::vector<nlohmann::json> records;
  for (const std::string& line : lines_of(read_file((std::filesystem::path(dir) / "log.jsonl").string()))) {
    nlohmann::json record = nlohmann::json::parse(line);
    record.erase("time");
    records.push_back(record);
  }
  return records;
}

// Every tensor of a checkpoint, as bytes.
inline std::map<std::string, std::string> checkpoint_bytes(const std::string& path) {
  std::map<std::string, std::string> bytes;
  for (const auto& [name, tensor] : read_tensors(path)) {
    bytes[name] = std::string(static_cast<const char*>(tensor.raw_data()), tensor.nbytes());
  }
  return bytes;
}

// shapes-v1's generator at 64 x 64 with fewer, smaller objects: `train` and `val` images.
inline void make_tiny_shapes_dataset(const std::string& dir, int64_t train, int64_t val) {
  data::ShapesConfig config = data::shapes_config_by_name("shapes-v1");
  config.name = "shapes-tiny";
  config.image_height = config.image_width = 64;
  config.train.count = train;
  config.val.count = val;
  config.instances = {1, 3};
  config.same_class_instances = {2, 3};
  config.object_size = {12, 40};
  config.clutter.count = {0, 2};
  data::generate_shapes_dataset(config, dir);
}

}  // namespace wise::testing
