#include "train/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>

#include "kernels/check.h"

namespace wise {

namespace {

std::string format_number(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

}  // namespace

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long long total = std::llround(seconds);
  char text[64];
  if (total < 60) {
    std::snprintf(text, sizeof text, "%llds", total);
  } else if (total < 3600) {
    std::snprintf(text, sizeof text, "%lldm%02llds", total / 60, total % 60);
  } else if (total < 86400) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", total / 3600, total % 3600 / 60);
  } else {
    std::snprintf(text, sizeof text, "%lldd%02lldh", total / 86400, total % 86400 / 3600);
  }
  return text;
}

ProgressReporter::ProgressReporter(std::ostream& out, int64_t total_iterations, int64_t start_iteration,
                                   ProgressOptions options, std::function<double()> clock)
    : out_(out),
      total_iterations_(total_iterations),
      start_iteration_(start_iteration),
      options_(std::move(options)),
      clock_(std::move(clock)) {
  WISE_CHECK(total_iterations_ >= 0 && start_iteration_ >= 0 && start_iteration_ <= total_iterations_,
             "ProgressReporter: expected 0 <= start_iteration <= total_iterations, got start ", start_iteration_,
             " and total ", total_iterations_);
  WISE_CHECK(clock_ != nullptr, "ProgressReporter: clock is empty");
  start_time_ = last_output_time_ = now_ = clock_();
  iteration_ = start_iteration_;
}

// "120/1000  12% loss 0.4123  3.21 it/s  ETA 4m34s" (the terms after the loss when asked).
std::string ProgressReporter::status_text(bool with_terms) const {
  const int digits = static_cast<int>(std::to_string(total_iterations_).size());
  char count[96];
  std::snprintf(count, sizeof count, "%*lld/%lld", digits, static_cast<long long>(iteration_),
                static_cast<long long>(total_iterations_));
  const double percent = total_iterations_ > 0 ? 100.0 * static_cast<double>(iteration_) / total_iterations_ : 100.0;
  std::string text = count;
  text += with_terms ? format_number(" (%.0f%%)", percent) : format_number(" %3.0f%%", percent);
  text += " loss " + format_number("%.4g", loss_);
  if (with_terms) {
    for (const auto& [name, value] : terms_) {
      if (name != "loss") text += " " + name + " " + format_number("%.4g", value);
    }
  }
  const double elapsed = now_ - start_time_;
  const int64_t done = iteration_ - start_iteration_;
  if (done > 0 && elapsed > 0) {
    const double rate = static_cast<double>(done) / elapsed;
    text += rate >= 1.0 ? format_number("  %.2f it/s", rate) : format_number("  %.2f s/it", 1.0 / rate);
    text += "  ETA " + format_duration(static_cast<double>(total_iterations_ - iteration_) / rate);
  } else {
    text += "  ETA ?";
  }
  return text;
}

void ProgressReporter::draw_bar() {
  const int width = options_.bar_width;
  const double fraction = total_iterations_ > 0 ? static_cast<double>(iteration_) / total_iterations_ : 1.0;
  const int filled = std::min(width, static_cast<int>(width * fraction));
  // \r returns to the line's start; \x1b[K erases what a longer previous line left.
  out_ << "\r[" << std::string(filled, '#') << std::string(width - filled, '-') << "] " << status_text(false)
       << "\x1b[K" << std::flush;
  bar_visible_ = true;
}

void ProgressReporter::print_line() {
  out_ << options_.label << ": step " << status_text(true) << "\n" << std::flush;
}

void ProgressReporter::update(int64_t iteration, double loss, const LossTerms& terms) {
  iteration_ = iteration;
  loss_ = loss;
  terms_ = terms;
  now_ = clock_();
  const bool last = iteration == total_iterations_;
  const bool first = !any_update_;
  any_update_ = true;
  bool output = false;
  if (options_.terminal) {
    output = first || last || now_ - last_output_time_ >= options_.redraw_every_seconds;
    if (output) draw_bar();
  } else {
    output = first || last || now_ - last_output_time_ >= options_.line_every_seconds ||
             (options_.line_every_steps > 0 && iteration % options_.line_every_steps == 0);
    if (output) print_line();
  }
  if (output) last_output_time_ = now_;
  last_update_printed_ = output;
}

void ProgressReporter::message(const std::string& text) {
  if (options_.terminal && bar_visible_) {
    out_ << "\r\x1b[K" << text << "\n";
    draw_bar();
  } else {
    out_ << text << "\n" << std::flush;
  }
}

void ProgressReporter::finish() {
  if (options_.terminal) {
    if (!bar_visible_) return;
    if (!last_update_printed_) draw_bar();  // show where it ended
    out_ << "\n" << std::flush;
    bar_visible_ = false;
  } else if (any_update_ && !last_update_printed_) {
    print_line();
    last_update_printed_ = true;
  }
}

}  // namespace wise
