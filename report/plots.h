// Line charts as PNG (data/draw.h's Cairo canvas): the report's loss and validation
// curves. One chart per call; each curve gets its own colour and a line in the legend band
// under the title, and a square on each point when it has few (validations); the axes
// span the data (y from 0 when every value is >= 0) with about five round ticks each (a
// log axis: 1, 2, 5 x 10^k).
#pragma once

#include <string>
#include <vector>

#include "report/run_record.h"

namespace wise::report {

struct ChartOptions {
  std::string title;
  std::string x_label = "step";
  std::string y_label;
  int height = 320;  // the plot's, plus a legend line per curve
  int width = 640;
  bool log_y = false;  // losses span decades: plot log10 of the values (all must be > 0)
};

// Writes the chart to `png_path` (atomically). Throws std::invalid_argument if no curve
// has a point, or log_y is asked of a value <= 0.
void plot_curves(const std::vector<Curve>& curves, const ChartOptions& options, const std::string& png_path);

// The tick values of [low, high]: about `count` round numbers (1, 2, 2.5 or 5 x 10^k
// apart) from at or below low to at or above high.
std::vector<double> nice_ticks(double low, double high, int count = 5);

}  // namespace wise::report
