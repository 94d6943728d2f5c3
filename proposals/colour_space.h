// The colour spaces selective search segments and groups in (Uijlings et al. 2013,
// Sec. 3.3: a region that merges in one space may stay apart in another, so running the
// hierarchy in several spaces diversifies the proposals).
//
// Every space is returned as three float channels scaled to [0, 1], row-major and
// interleaved (H, W, 3), so that histogram bins and Felzenszwalb-Huttenlocher's k mean
// the same in each:
//   rgb  R, G, B / 255
//   hsv  hue / 360 (circular: 0 and 1 are the same hue), saturation, value
//   lab  CIE L*a*b* (D65, sRGB primaries): L / 100, (a + 128) / 255, (b + 128) / 255
// Lab is the perceptual one: a Euclidean step in it is roughly a visible difference, so
// it is also the space the objectness contrast (objectness.h) measures edges in.
#pragma once

#include <string>
#include <vector>

#include "data/image.h"

namespace wise::proposals {

enum class ColourSpace { rgb, hsv, lab };

// "rgb", "hsv", "lab"; parse throws std::invalid_argument naming the text and the choices.
const char* colour_space_name(ColourSpace space);
ColourSpace parse_colour_space(const std::string& text);

// image: RGB (3 channels; gray and RGBA are converted by the caller's load_image).
// Returns H * W * 3 floats in [0, 1].
std::vector<float> convert_colour_space(const data::Image& image, ColourSpace space);

}  // namespace wise::proposals
