// libFuzzer target: image bytes through data/image_io.h (JPEG: libjpeg-turbo; PNG: stb) and through the
// libpng label-map reader (VOC's SegmentationObject / SegmentationClass PNGs).
//
// Contract under test: decode_image and decode_palette_png return an image whose buffer
// holds exactly height x width (x channels) values, or throw ImageError; anything else,
// including an allocation past kMaxImagePixels, is a bug. The first byte picks the reader
// and, for decode_image, the channels asked for (0 keeps the file's, or 1, 3, 4).
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "data/image_io.h"
#include "data/palette_png.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int mode = data[0] % 5;
  ++data;
  --size;
  try {
    if (mode == 4) {
      const wise::data::IndexedImage labels = wise::data::decode_palette_png(data, size, "fuzz labels");
      if (labels.height <= 0 || labels.width <= 0 ||
          labels.indices.size() != static_cast<size_t>(labels.height * labels.width) ||
          labels.palette.size() > 256) {
        std::fprintf(stderr, "label map %lld x %lld with %zu indices, %zu colours\n",
                     static_cast<long long>(labels.height), static_cast<long long>(labels.width),
                     labels.indices.size(), labels.palette.size());
        std::abort();
      }
      return 0;
    }
    const int channels[] = {0, 1, 3, 4};
    const wise::data::Image image = wise::data::decode_image(data, size, "fuzz image", channels[mode]);
    const bool channels_ok = channels[mode] == 0 ? (image.channels == 1 || image.channels == 3 || image.channels == 4)
                                                 : image.channels == channels[mode];
    if (!channels_ok || image.height <= 0 || image.width <= 0 ||
        image.height * image.width > wise::data::kMaxImagePixels ||
        image.pixels.size() != static_cast<size_t>(image.height * image.width * image.channels)) {
      std::fprintf(stderr, "image %lld x %lld x %lld with %zu values\n", static_cast<long long>(image.height),
                   static_cast<long long>(image.width), static_cast<long long>(image.channels), image.pixels.size());
      std::abort();
    }
  } catch (const wise::data::ImageError&) {
  }
  return 0;
}
