// Image files (see image_io.h): JPEG through libjpeg-turbo (data/jpeg_codec.h), PNG
// through stb_image / stb_image_write and libpng. stb itself is compiled once, in
// data/stb_image_impl.cpp; this file only calls it.
#include "data/image_io.h"

#include <algorithm>
#include <csetjmp>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>

#include <png.h>
#include <stb_image.h>
#include <stb_image_write.h>

#include "data/atomic_file.h"
#include "data/jpeg_codec.h"
#include "data/stb_guard.h"

namespace wise::data {
namespace {

std::string os_reason() { return std::strerror(errno); }

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File open_for_reading(const std::string& path) {
  File file(std::fopen(path.c_str(), "rb"));
  if (!file) throw ImageError(path + ": cannot open: " + os_reason());
  return file;
}

// stb reports failures through a thread-local reason string (STBI_FAILURE_USERMSG
// makes it a sentence); never null after a failed call, but be safe.
std::string stb_reason() {
  const char* reason = stbi_failure_reason();
  return reason != nullptr ? reason : "unknown stb_image error";
}

// stbi_info tries every format in turn and, when all fail, reports only "unknown
// type"; a full decode stops at the first format whose signature matches and says
// what is wrong inside it ("Corrupt JPEG", "Corrupt PNG"). So after a failed info call
// the reason comes from a decode attempt.
std::string reason_decode_fails(const uint8_t* bytes, int length) {
  int width = 0, height = 0, channels = 0;
  stbi_uc* decoded = stbi_load_from_memory(bytes, length, &width, &height, &channels, 0);
  if (decoded == nullptr) return stb_reason();
  stbi_image_free(decoded);
  return "stb_image decodes the pixels but cannot read the header";
}

void check_requested_channels(int channels, const std::string& name) {
  if (channels != 0 && channels != 1 && channels != 3 && channels != 4) {
    throw ImageError(name + ": requested channels must be 0 (keep the file's), 1, 3 or 4, got " +
                     std::to_string(channels));
  }
}

// A writable image: sizes positive, 1-4 channels, and exactly height * width * channels
// bytes (stb would read past a short buffer).
void check_image_for_writing(const Image& image, const std::string& path) {
  if (image.height <= 0 || image.width <= 0 || image.height > INT_MAX / 8 ||
      image.width > INT_MAX / 8) {
    throw ImageError(path + ": cannot write a " + std::to_string(image.height) + " x " +
                     std::to_string(image.width) + " image (each side must be 1..2^28)");
  }
  if (image.channels < 1 || image.channels > 4) {
    throw ImageError(path + ": cannot write an image with " + std::to_string(image.channels) +
                     " channels, expected 1 (gray), 3 (RGB) or 4 (RGBA)");
  }
  const size_t expected = static_cast<size_t>(image.height * image.width * image.channels);
  if (image.pixels.size() != expected) {
    throw ImageError(path + ": image has " + std::to_string(image.pixels.size()) +
                     " pixel bytes, expected height * width * channels = " +
                     std::to_string(expected));
  }
}

// stb_image_write's callback: append the encoded bytes to a vector.
void append_to_vector(void* context, void* data, int size) {
  auto* bytes = static_cast<std::vector<uint8_t>*>(context);
  const auto* begin = static_cast<const uint8_t*>(data);
  bytes->insert(bytes->end(), begin, begin + size);
}

// data/atomic_file.h reports failures as std::runtime_error naming the file and the
// system's reason; image_io promises ImageError, so the message is carried over.
std::string read_image_file(const std::string& path) {
  try {
    return read_whole_file(path);
  } catch (const std::runtime_error& error) {
    throw ImageError(error.what());
  }
}

void write_image_file(const std::string& path, const std::vector<uint8_t>& bytes, bool sync = true) {
  try {
    write_file_atomically(path, std::string(bytes.begin(), bytes.end()), sync);
  } catch (const std::runtime_error& error) {
    throw ImageError(error.what());
  }
}

// The fast PNG encoder (PngWriteOptions::fast): libpng into memory. libpng reports
// errors by longjmp to encode_png_fast's setjmp; no object with a destructor lives in
// that frame, so the jump skips none.
struct PngBytes {
  std::vector<uint8_t> bytes;
  char message[256] = {};  // libpng's first error
};

void on_png_error(png_structp png, png_const_charp message) {
  auto* output = static_cast<PngBytes*>(png_get_error_ptr(png));
  std::snprintf(output->message, sizeof(output->message), "%s", message);
  png_longjmp(png, 1);
}
void on_png_warning(png_structp, png_const_charp) {}
void append_png_bytes(png_structp png, png_bytep data, png_size_t length) {
  auto* output = static_cast<PngBytes*>(png_get_io_ptr(png));
  output->bytes.insert(output->bytes.end(), data, data + length);
}
void flush_nothing(png_structp) {}

bool encode_png_fast(const Image* image, PngBytes* output) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, output, on_png_error, on_png_warning);
  if (png == nullptr) return false;
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, output, append_png_bytes, flush_nothing);
  png_set_compression_level(png, 1);
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
  const int color_type = image->channels == 1   ? PNG_COLOR_TYPE_GRAY
                         : image->channels == 3 ? PNG_COLOR_TYPE_RGB
                                                : PNG_COLOR_TYPE_RGB_ALPHA;
  png_set_IHDR(png, info, static_cast<png_uint_32>(image->width), static_cast<png_uint_32>(image->height), 8,
               color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int64_t y = 0; y < image->height; ++y) png_write_row(png, image->row(y));
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return true;
}

}  // namespace

Image decode_image(const uint8_t* bytes, size_t size, const std::string& name, int channels) {
  check_requested_channels(channels, name);
  if (size == 0) throw ImageError(name + ": cannot read image: the file is empty");
  if (size > static_cast<size_t>(INT_MAX)) {
    throw ImageError(name + ": cannot read image: " + std::to_string(size) +
                     " bytes is more than stb_image accepts (2 GiB)");
  }
  if (looks_like_jpeg(bytes, size)) return decode_jpeg(bytes, size, name, channels);
  const int length = static_cast<int>(size);
  if (const auto problem = check_png_chunk_lengths(bytes, size)) {
    throw ImageError(name + ": cannot read image: corrupt PNG: " + *problem);
  }
  int width = 0, height = 0, stored_channels = 0;
  if (!stbi_info_from_memory(bytes, length, &width, &height, &stored_channels)) {
    throw ImageError(name + ": cannot read image: " + reason_decode_fails(bytes, length));
  }
  if (static_cast<int64_t>(width) * height > kMaxImagePixels) {
    throw ImageError(name + ": cannot read image: its header says " + std::to_string(width) + " x " +
                     std::to_string(height) + " pixels, more than wise decodes (" +
                     std::to_string(kMaxImagePixels) + " pixels; data/image_io.h)");
  }
  // Gray + alpha has no Image layout of its own; keeping the file's channels gives RGBA.
  const int wanted = channels != 0 ? channels : (stored_channels == 2 ? 4 : stored_channels);
  std::unique_ptr<stbi_uc, void (*)(void*)> decoded(
      stbi_load_from_memory(bytes, length, &width, &height, &stored_channels, wanted),
      stbi_image_free);
  if (!decoded) throw ImageError(name + ": cannot read image: " + stb_reason());

  Image image;
  image.height = height;
  image.width = width;
  image.channels = wanted;
  image.pixels.assign(decoded.get(), decoded.get() + static_cast<size_t>(height) * width * wanted);
  return image;
}

Image load_image(const std::string& path, int channels) {
  check_requested_channels(channels, path);
  const std::string bytes = read_image_file(path);
  return decode_image(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path,
                      channels);
}

ImageHeader read_image_header(const std::string& path) {
  File file = open_for_reading(path);
  uint8_t signature[3] = {};
  const size_t got = std::fread(signature, 1, sizeof(signature), file.get());
  std::rewind(file.get());
  if (looks_like_jpeg(signature, got)) return read_jpeg_header(file.get(), path);
  int width = 0, height = 0, channels = 0;
  if (!stbi_info_from_file(file.get(), &width, &height, &channels)) {
    // The failure path only: read the whole file for a precise reason (see above).
    file.reset();
    const std::string bytes = read_image_file(path);
    const int length = static_cast<int>(std::min<size_t>(bytes.size(), INT_MAX));
    const std::string reason =
        bytes.empty() ? "the file is empty"
                      : reason_decode_fails(reinterpret_cast<const uint8_t*>(bytes.data()), length);
    throw ImageError(path + ": cannot read image header: " + reason);
  }
  return ImageHeader{height, width, channels};
}

void save_png(const Image& image, const std::string& path, const PngWriteOptions& options) {
  check_image_for_writing(image, path);
  if (options.fast) {
    PngBytes output;
    if (!encode_png_fast(&image, &output)) throw ImageError(path + ": libpng could not encode the PNG: " + output.message);
    write_image_file(path, output.bytes, options.sync);
    return;
  }
  std::vector<uint8_t> encoded;
  const int stride = static_cast<int>(image.width * image.channels);
  if (!stbi_write_png_to_func(append_to_vector, &encoded, static_cast<int>(image.width),
                              static_cast<int>(image.height), static_cast<int>(image.channels),
                              image.pixels.data(), stride)) {
    throw ImageError(path + ": stb_image_write could not encode the PNG");
  }
  write_image_file(path, encoded, options.sync);
}

void save_jpeg(const Image& image, const std::string& path, int quality) {
  check_image_for_writing(image, path);
  if (quality < 1 || quality > 100) {
    throw ImageError(path + ": JPEG quality must be in 1..100, got " + std::to_string(quality));
  }
  write_image_file(path, encode_jpeg(image, quality, path));
}

}  // namespace wise::data
