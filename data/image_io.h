// Reading and writing image files: JPEG (8-bit gray, colour, CMYK) through libjpeg-turbo
// (data/jpeg_codec.h), PNG (8-bit gray, RGB, RGBA) through stb_image and out through
// stb_image_write or libpng.
//
// Every failure throws ImageError naming the file and the reason (the decoder's message
// for corrupt or truncated files, "no such file" for missing ones), e.g.
//   "data/shapes/images/000017.png: cannot read image: Corrupt PNG"
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "data/image.h"

namespace wise::data {

class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The most pixels a decoder allocates for (8,192 x 16,384; a 4-channel image of it is
// 512 MiB). PNG and JPEG compress flat areas a thousandfold, so a file of a few kilobytes
// can claim a size no machine holds: the header is checked against this before any pixel
// is decoded, and a larger image is a named error, not an allocation failure.
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 27;

// channels: 0 keeps the file's own (1, 3 or 4; gray+alpha becomes RGBA); 1, 3 or 4
// converts (RGB from gray replicates; alpha is dropped or set to 255).
Image load_image(const std::string& path, int channels = 3);
// The same from bytes already in memory; `name` is used in error messages.
Image decode_image(const uint8_t* bytes, size_t size, const std::string& name, int channels = 3);

struct PngWriteOptions {
  // libpng at zlib level 1 with the Sub filter instead of stb_image_write's deflate:
  // about twice as fast on noisy images, files ~5 % larger. For writing many images.
  bool fast = false;
  // fsync the file and its folder; false for bulk writes whose completeness is marked
  // otherwise (a generated dataset's last, synced file).
  bool sync = true;
};

// Written atomically (data/atomic_file.h: temporary file + fsync + rename).
void save_png(const Image& image, const std::string& path, const PngWriteOptions& options = {});
void save_jpeg(const Image& image, const std::string& path, int quality = 95);

// The size and channel count stored in a JPEG/PNG header, read without decoding the
// pixels (VOC's reader checks every JPEG this way). A file whose header is fine but
// whose pixel data is corrupt passes here and fails in load_image.
struct ImageHeader {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;  // as stored: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
};
ImageHeader read_image_header(const std::string& path);

}  // namespace wise::data
