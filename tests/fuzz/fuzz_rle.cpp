// libFuzzer target: RLE strings and polygons, the two mask encodings COCO files carry.
//
// The input's first three bytes choose the mask's height and width (1..64 each) and the
// form; the rest is a compressed RLE string (rle_from_string) or, read as doubles, a
// polygon's x, y list (rle_from_polygon), NaNs and infinities included.
//
// Contract under test: rle_from_string returns a mask whose runs sum to height x width,
// or throws std::invalid_argument; its string form reads back to the same runs, and
// decoding then encoding gives the same mask. rle_from_polygon returns a mask of the size
// asked, or throws std::invalid_argument; its area never exceeds the image.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/rle.h"
#include "data/rle_polygon.h"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_rle: %s\n", what);
  std::abort();
}

// A mask read back the way evaluation uses it: runs summing to the size, and a decode
// that encodes back to the same pixels.
void check_mask(const wise::data::Rle& rle, int64_t height, int64_t width) {
  if (rle.height != height || rle.width != width) fail("mask size differs from the size asked");
  wise::data::rle_check(rle, "fuzz mask");  // throws: a bug
  const std::vector<uint8_t> pixels = wise::data::rle_decode(rle);
  if (static_cast<int64_t>(pixels.size()) != height * width) fail("decode size");
  const wise::data::Rle encoded = wise::data::rle_encode(pixels, height, width);
  if (wise::data::rle_decode(encoded) != pixels) fail("encode(decode(mask)) changed the pixels");
  if (wise::data::rle_area(rle) > static_cast<uint64_t>(height * width)) fail("area past the image");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const int64_t height = 1 + data[0] % 64, width = 1 + data[1] % 64;
  const bool polygon = (data[2] & 1) != 0;
  data += 3;
  size -= 3;
  if (!polygon) {
    const std::string counts(reinterpret_cast<const char*>(data), size);
    wise::data::Rle rle;
    try {
      rle = wise::data::rle_from_string(counts, height, width, "fuzz RLE");
    } catch (const std::invalid_argument&) {
      return 0;
    }
    check_mask(rle, height, width);
    const std::string again = wise::data::rle_to_string(rle);
    if (wise::data::rle_from_string(again, height, width, "fuzz round trip").counts != rle.counts) {
      fail("the string form does not read back to the same runs");
    }
    return 0;
  }
  std::vector<double> xy(size / sizeof(double));
  if (!xy.empty()) std::memcpy(xy.data(), data, xy.size() * sizeof(double));
  wise::data::Rle rle;
  try {
    rle = wise::data::rle_from_polygon(xy, height, width);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  check_mask(rle, height, width);
  return 0;
}
