// Training progress on stderr: a bar on a terminal, plain lines in a log file.
//
// On a terminal (isatty) the reporter redraws one line in place with a carriage
// return, at most every redraw_every_seconds:
//
//   [#########---------------]  120/1000  12% loss 0.4123  3.21 it/s  ETA 4m34s
//
// Anywhere else (a batch job's log, a pipe) it prints a whole line on the first
// step, then every line_every_steps steps and at least every line_every_seconds,
// and on the last step, with every loss term:
//
//   train: step 120/1000 (12%) loss 0.4123 loss_classifier 0.3 loss_box_reg 0.1123  3.21 it/s  ETA 4m34s
//
// The rate counts only the steps of this process (a resumed run starts its
// clock at the resumed iteration). The stream and the clock are injected, so
// tests drive both.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "train/nan_guard.h"

namespace wise {

struct ProgressOptions {
  bool terminal = false;              // the bar (true) or plain lines (false)
  double redraw_every_seconds = 0.1;  // terminal: at most this often
  double line_every_seconds = 30.0;   // lines: at least this often...
  int64_t line_every_steps = 0;       // ...and every this many steps (0: by time only)
  int bar_width = 24;
  std::string label = "train";        // the lines' prefix
};

// Whether stderr is a terminal (the default for ProgressOptions::terminal).
bool stderr_is_terminal();

// Seconds in the ETA's short form: "42s", "4m34s", "2h05m", "3d07h".
std::string format_duration(double seconds);

class ProgressReporter {
 public:
  // `clock` returns seconds on any monotonic scale (steady_clock in a trainer).
  ProgressReporter(std::ostream& out, int64_t total_iterations, int64_t start_iteration, ProgressOptions options,
                   std::function<double()> clock);

  // After a step: `iteration` steps are complete; `loss` is their total and
  // `terms` the named parts (may be empty).
  void update(int64_t iteration, double loss, const LossTerms& terms);
  // A line of its own (checkpoint saved, a warning), printed above the bar.
  void message(const std::string& text);
  // Ends the bar's line, or prints the last line if it was not printed yet.
  void finish();

 private:
  std::string status_text(bool with_terms) const;
  void draw_bar();
  void print_line();

  std::ostream& out_;
  int64_t total_iterations_, start_iteration_;
  ProgressOptions options_;
  std::function<double()> clock_;
  double start_time_ = 0, last_output_time_ = 0;
  bool bar_visible_ = false, last_update_printed_ = true, any_update_ = false;
  // The latest update.
  int64_t iteration_ = 0;
  double loss_ = 0;
  LossTerms terms_;
  double now_ = 0;
};

}  // namespace wise
