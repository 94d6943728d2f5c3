// Wall-clock seconds per stage of a Mask R-CNN step, added up while a StageTimes is
// attached (MaskRcnn::time_stages): the split the benchmark prints
// (apps/bench/maskrcnn_benchmark.cpp). Nothing is timed when none is attached. Each
// stage's clock stops after a device synchronise, so on a GPU the split costs the overlap
// of one stage's kernels with the next's.
#pragma once

#include <chrono>

#include "kernels/device.h"
#include "kernels/memory.h"

namespace wise {

struct StageTimes {
  double backbone = 0;   // ResNet + FPN, forward
  double rpn = 0;        // head, anchors, proposals, and in training its targets and losses
  double box_head = 0;   // RoI heads' box branch (in training: sampling, RoIAlign, head, losses)
  double mask_head = 0;  // the mask branch
  double backward = 0;   // every stage's backward
};

// Adds the seconds since construction (or the last lap) to a stage, when timing.
class StageClock {
 public:
  StageClock(StageTimes* times, kernels::Device device) : times_(times), device_(device) { start_ = now(); }
  void lap(double StageTimes::*stage) {
    if (times_ == nullptr) return;
    kernels::synchronize(device_);
    const auto at = now();
    times_->*stage += std::chrono::duration<double>(at - start_).count();
    start_ = at;
  }

 private:
  static std::chrono::steady_clock::time_point now() { return std::chrono::steady_clock::now(); }
  StageTimes* times_;
  kernels::Device device_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace wise
