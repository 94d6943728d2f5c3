// How well a PRM classifier's peaks find the instances (what train_prm reports on a
// val split, and issue 21's bar: >= 70 % of instances found, >= 60 % of peaks right).
//
// For one image, the peaks considered are those of the classes the classifier
// predicts present (class score >= the class threshold), in image pixels. Then
//   recall    = instances (of any class) holding at least one peak of their class
//               / instances;
//   precision = peaks lying inside an instance of their class / peaks.
// Instances are the ground-truth masks; both counts add up over a split.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace wise {

struct PixelPeak {
  int64_t category_id = 0;  // the dataset's category id of the peak's class
  int64_t y = 0, x = 0;     // image pixel
};

struct PeakQuality {
  int64_t instances = 0, instances_found = 0;
  int64_t peaks = 0, peaks_inside = 0;
  // Wrong peaks that lie inside an instance of another class (class confusion, as
  // against peaks on the background or clutter).
  int64_t peaks_on_other_class = 0;
  double recall() const;     // NaN without instances
  double precision() const;  // NaN without peaks
  PeakQuality& operator+=(const PeakQuality& other);
};

// One image: its ground-truth annotations (image-sized RLE masks of height x width)
// against its peaks. A peak outside the image counts as a wrong peak.
PeakQuality peak_quality(const std::vector<const data::Annotation*>& instances, int64_t height, int64_t width,
                         const std::vector<PixelPeak>& peaks);

// "peaks: recall 0.712 (1050 of 1475 instances), precision 0.634 (1202 of 1896 peaks; 301
//  wrong ones on another class's instance)"
std::string format_peak_quality(const PeakQuality& quality);

}  // namespace wise
