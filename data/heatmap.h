// Maps of real values drawn as colour (class response maps, peak response maps): a
// perceptually ordered palette and its blend over an image, for the PRM figures.
#pragma once

#include <cstdint>

#include "data/draw.h"
#include "data/image.h"

namespace wise::data {

// The palette at t in [0, 1] (clamped): black, purple, red, orange, pale yellow, linear
// between those five anchors (an "inferno"-like ramp whose luminance rises with t, so a
// map reads the same in gray).
Color heat_color(double t);

// `values` (image.height x image.width, row-major) scaled to [0, 1] by (v - low) /
// (high - low) (high <= low: all 0), coloured by heat_color and blended over the image:
// out = (1 - alpha) image + alpha colour, per pixel, rounded. Returns RGB. Throws
// std::invalid_argument for an image that is not gray or RGB, or alpha outside [0, 1].
Image heat_overlay(const Image& image, const float* values, double low, double high, double alpha = 0.6);

}  // namespace wise::data
