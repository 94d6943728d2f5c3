// report: the report of a scripts/run.sh run, the paper's way (report/wise_report.h):
// <run>/report.md and <run>/report.html (self-contained: its PNGs embedded), the curve
// plots and the Figure-4 grid in <run>/report-files/.
//
//   report --run runs/wise [--preset default] [--commit abc1234] [--threads 2]
//
// Exit status: 0 written, 1 on an error (naming the file), 2 on a bad command line.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "apps/command_line.h"
#include "data/atomic_file.h"
#include "report/wise_report.h"

namespace {

using namespace wise;

struct Options {
  std::string run;
  report::ReportContext context;
};

void print_usage(std::FILE* stream) {
  std::fprintf(stream,
               "usage: report --run DIR [--preset NAME] [--commit HASH] [--threads N]\n"
               "  --run DIR      a scripts/run.sh run folder (runs/wise): its stages/, eval/, logs, pictures\n"
               "  --preset NAME  the run's preset, as the report names it (default: default)\n"
               "  --commit HASH  the code's git commit (default: unknown)\n"
               "  --threads N    the threads the run used (default: OMP_NUM_THREADS, else all cores)\n"
               "writes DIR/report.md, DIR/report.html and DIR/report-files/*.png\n");
}

// lscpu's "Model name" (from /proc/cpuinfo) and the core count.
std::string machine_description() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) model = line.substr(line.find_first_not_of(" \t", colon + 1));
      break;
    }
  }
  return model + ", " + std::to_string(std::thread::hardware_concurrency()) + " cores";
}

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &utc);
  return text;
}

Options parse(int argc, char** argv) {
  Options options;
  options.context.preset = "default";
  options.context.commit = "unknown";
  const char* threads = std::getenv("OMP_NUM_THREADS");
  options.context.threads = threads != nullptr && std::atoi(threads) > 0 ? std::atoi(threads)
                                                                           : static_cast<int>(std::thread::hardware_concurrency());
  apps::CommandLine args(argc, argv);
  while (args.next()) {
    if (args.is("--help") || args.is("-h")) {
      print_usage(stdout);
      std::exit(0);
    } else if (args.is("--run")) {
      options.run = args.value();
    } else if (args.is("--preset")) {
      options.context.preset = args.value();
    } else if (args.is("--commit")) {
      options.context.commit = args.value();
    } else if (args.is("--threads")) {
      options.context.threads = static_cast<int>(args.integer(1));
    } else {
      args.unknown();
    }
  }
  if (options.run.empty()) throw std::invalid_argument("--run is required (--help lists the options)");
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = parse(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "report: %s\n", error.what());
    return 2;
  }
  try {
    options.context.machine = machine_description();
    options.context.date = utc_now();
    const report::RunRecord run = report::read_run(options.run);
    const report::Document document = report::make_wise_report(run, options.context);
    const std::filesystem::path folder(options.run);
    data::write_file_atomically((folder / "report.md").string(), report::to_markdown(document));
    data::write_file_atomically((folder / "report.html").string(), report::to_html(document, options.run));
    std::printf("report: wrote %s and %s\n", (folder / "report.md").c_str(), (folder / "report.html").c_str());
    for (const report::GoalCheck& check : report::check_goals(run)) {
      std::printf("  %-80s %s%s\n", check.goal.c_str(), check.known ? check.measured.c_str() : "not measured",
                  !check.known ? "" : check.met ? "  met" : "  NOT met");
    }
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "report: %s\n", error.what());
    return 1;
  }
}
