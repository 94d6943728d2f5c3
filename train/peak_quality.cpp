#include "train/peak_quality.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "data/rle.h"

namespace wise {

double PeakQuality::recall() const {
  return instances > 0 ? static_cast<double>(instances_found) / static_cast<double>(instances)
                       : std::numeric_limits<double>::quiet_NaN();
}

double PeakQuality::precision() const {
  return peaks > 0 ? static_cast<double>(peaks_inside) / static_cast<double>(peaks)
                   : std::numeric_limits<double>::quiet_NaN();
}

PeakQuality& PeakQuality::operator+=(const PeakQuality& other) {
  instances += other.instances;
  instances_found += other.instances_found;
  peaks += other.peaks;
  peaks_inside += other.peaks_inside;
  peaks_on_other_class += other.peaks_on_other_class;
  return *this;
}

PeakQuality peak_quality(const std::vector<const data::Annotation*>& instances, int64_t height, int64_t width,
                         const std::vector<PixelPeak>& peaks) {
  PeakQuality quality;
  quality.instances = static_cast<int64_t>(instances.size());
  quality.peaks = static_cast<int64_t>(peaks.size());
  std::vector<bool> peak_inside(peaks.size(), false), peak_on_other(peaks.size(), false);
  for (const data::Annotation* instance : instances) {
    const std::vector<uint8_t> mask = data::rle_decode(instance->segmentation);  // row-major, height x width
    bool found = false;
    for (size_t p = 0; p < peaks.size(); ++p) {
      const PixelPeak& peak = peaks[p];
      if (peak.y < 0 || peak.y >= height || peak.x < 0 || peak.x >= width) continue;
      if (mask[static_cast<size_t>(peak.y * width + peak.x)] == 0) continue;
      if (peak.category_id != instance->category_id) {
        peak_on_other[p] = true;
        continue;
      }
      found = true;
      peak_inside[p] = true;
    }
    quality.instances_found += found ? 1 : 0;
  }
  for (size_t p = 0; p < peaks.size(); ++p) {
    quality.peaks_inside += peak_inside[p] ? 1 : 0;
    quality.peaks_on_other_class += !peak_inside[p] && peak_on_other[p] ? 1 : 0;
  }
  return quality;
}

std::string format_peak_quality(const PeakQuality& quality) {
  char line[240];
  std::snprintf(line, sizeof line,
                "peaks: recall %.3f (%lld of %lld instances), precision %.3f (%lld of %lld peaks; %lld wrong ones on "
                "another class's instance)",
                quality.recall(), static_cast<long long>(quality.instances_found),
                static_cast<long long>(quality.instances), quality.precision(),
                static_cast<long long>(quality.peaks_inside), static_cast<long long>(quality.peaks),
                static_cast<long long>(quality.peaks_on_other_class));
  return line;
}

}  // namespace wise
