#include "report/plots.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "data/draw.h"

namespace wise::report {

std::vector<double> nice_ticks(double low, double high, int count) {
  if (!(high > low)) {  // one value: a unit range around it
    const double half = low == 0 ? 1.0 : std::fabs(low) * 0.5;
    low -= half;
    high += half;
  }
  const double raw = (high - low) / std::max(1, count - 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude * 10;
  for (double multiple : {1.0, 2.0, 2.5, 5.0}) {
    if (multiple * magnitude >= raw * (1 - 1e-9)) {
      step = multiple * magnitude;
      break;
    }
  }
  const double first = std::floor(low / step + 1e-9) * step, last = std::ceil(high / step - 1e-9) * step;
  std::vector<double> ticks;
  const int64_t steps = static_cast<int64_t>(std::llround((last - first) / step));
  for (int64_t i = 0; i <= steps; ++i) {
    const double tick = (std::llround(first / step) + i) * step;  // a multiple of step, not a running sum
    ticks.push_back(std::fabs(tick) < step * 1e-9 ? 0 : tick);
  }
  return ticks;
}

namespace {

// Ticks of a log axis, in log10 units: 1, 2 and 5 x 10^k from the one at or below `low` to
// the one at or above `high` (10^k alone when that would be more than 8).
std::vector<double> log_ticks(double low, double high) {
  std::vector<double> candidates;
  for (int k = static_cast<int>(std::floor(low)) - 1; k <= static_cast<int>(std::ceil(high)) + 1; ++k)
    for (double m : {1.0, 2.0, 5.0}) candidates.push_back(std::log10(m) + k);
  std::vector<double> ticks;
  size_t first = 0, last = candidates.size() - 1;
  while (first + 1 < candidates.size() && candidates[first + 1] <= low + 1e-12) ++first;
  while (last > 0 && candidates[last - 1] >= high - 1e-12) --last;
  for (size_t i = first; i <= last; ++i) ticks.push_back(candidates[i]);
  if (ticks.size() > 8) {
    std::vector<double> decades;
    for (double tick = std::floor(low); tick <= std::ceil(high) + 1e-12; tick += 1) decades.push_back(tick);
    return decades;
  }
  return ticks;
}

std::string tick_text(double value, bool log_y) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", log_y ? std::pow(10.0, value) : value);
  return text;
}

}  // namespace

void plot_curves(const std::vector<Curve>& curves, const ChartOptions& options, const std::string& png_path) {
  double x_low = std::numeric_limits<double>::infinity(), x_high = -x_low, y_low = x_low, y_high = -x_low;
  for (const Curve& curve : curves) {
    for (const auto& [x, value] : curve.points) {
      if (options.log_y && !(value > 0))
        throw std::invalid_argument("plot " + options.title + ": curve " + curve.name + " has value " +
                                    std::to_string(value) + " on a log axis");
      const double y = options.log_y ? std::log10(value) : value;
      x_low = std::min(x_low, x);
      x_high = std::max(x_high, x);
      y_low = std::min(y_low, y);
      y_high = std::max(y_high, y);
    }
  }
  if (!std::isfinite(x_low)) throw std::invalid_argument("plot " + options.title + ": no points");
  if (!options.log_y && y_low >= 0) y_low = 0;
  const std::vector<double> x_ticks = nice_ticks(x_low, x_high);
  const std::vector<double> y_ticks = options.log_y && y_high > y_low ? log_ticks(y_low, y_high) : nice_ticks(y_low, y_high);
  const double x0 = x_ticks.front(), x1 = x_ticks.back(), y0 = y_ticks.front(), y1 = y_ticks.back();

  // The legend is a band under the title, a line per curve, so it never covers one.
  const double legend_line = 16, top = 32 + legend_line * static_cast<double>(curves.size()) + 20;
  const int height = options.height + static_cast<int>(legend_line * static_cast<double>(curves.size()));
  data::Canvas canvas(height, options.width);
  const double left = 64, right = 16, bottom = 44;
  const double plot_width = options.width - left - right, plot_height = height - top - bottom;
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * plot_width; };
  auto py = [&](double y) { return top + (1 - (y - y0) / (y1 - y0)) * plot_height; };
  const data::Color ink{40, 40, 40}, grid{225, 225, 225};
  data::TextStyle small;
  small.font_size = 11;
  small.bold = false;
  small.color = ink;
  data::TextStyle heading = small;
  heading.font_size = 13;
  heading.bold = true;

  for (double y : y_ticks) {
    canvas.draw_polyline({{left, py(y)}, {left + plot_width, py(y)}}, grid, 1);
    canvas.draw_text(left - 6, py(y), tick_text(y, options.log_y), small, 1, 0.5);
  }
  for (double x : x_ticks) {
    canvas.draw_polyline({{px(x), top}, {px(x), top + plot_height}}, grid, 1);
    canvas.draw_text(px(x), top + plot_height + 4, tick_text(x, false), small, 0.5, 0);
  }
  canvas.draw_polyline({{left, top}, {left, top + plot_height}, {left + plot_width, top + plot_height}}, ink, 1);
  canvas.draw_text(options.width / 2.0, 8, options.title, heading, 0.5, 0);
  canvas.draw_text(left + plot_width / 2, height - 4, options.x_label, small, 0.5, 1);
  canvas.draw_text(4, top - 6, options.y_label + (options.log_y ? " (log scale)" : ""), small, 0, 1);

  double legend_y = 30;
  for (size_t c = 0; c < curves.size(); ++c) {
    const data::Color color = data::instance_color(static_cast<int64_t>(c));
    std::vector<std::array<double, 2>> points;
    for (const auto& [x, value] : curves[c].points) points.push_back({px(x), py(options.log_y ? std::log10(value) : value)});
    if (points.size() > 1) canvas.draw_polyline(points, color, 1.5);
    if (points.size() <= 40) {  // few points (validations): each one marked
      for (const auto& [x, y] : points) canvas.fill_rectangle({x - 2.5, y - 2.5, 5, 5}, color);
    }
    canvas.draw_polyline({{left, legend_y + 6}, {left + 20, legend_y + 6}}, color, 3);
    canvas.draw_text(left + 26, legend_y, curves[c].name, small, 0, 0);
    legend_y += legend_line;
  }
  canvas.save_png(png_path);
}

}  // namespace wise::report
