// Palette PNGs with libpng (see palette_png.h).
//
// libpng reports errors by calling an error function that must not return; the
// documented way out is longjmp back to a setjmp. To keep that safe in C++, the
// functions that call setjmp own no C++ objects whose destructors a longjmp could
// skip: they take plain pointers to vectors owned by their callers, store the
// message in a char buffer, and return false. The callers then throw.
#include "data/palette_png.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "data/atomic_file.h"
#include "data/image_io.h"

namespace wise::data {
namespace {

// Shared between libpng's callbacks and our code, for one read or one write.
struct PngContext {
  // reading: the file's bytes and how far libpng has consumed them
  const uint8_t* input = nullptr;
  size_t input_size = 0;
  size_t input_offset = 0;
  // writing: the encoded bytes
  std::vector<uint8_t>* output = nullptr;
  // the first error libpng reported
  char message[256] = {};
};

void on_png_error(png_structp png, png_const_charp message) {
  auto* context = static_cast<PngContext*>(png_get_error_ptr(png));
  std::snprintf(context->message, sizeof(context->message), "%s", message);
  png_longjmp(png, 1);
}

void on_png_warning(png_structp, png_const_charp) {}  // benign (e.g. unknown chunks)

void read_from_memory(png_structp png, png_bytep data, png_size_t length) {
  auto* context = static_cast<PngContext*>(png_get_io_ptr(png));
  if (context->input_size - context->input_offset < length) {
    png_error(png, "the file ends early (truncated PNG)");
  }
  std::memcpy(data, context->input + context->input_offset, length);
  context->input_offset += length;
}

void write_to_memory(png_structp png, png_bytep data, png_size_t length) {
  auto* context = static_cast<PngContext*>(png_get_io_ptr(png));
  context->output->insert(context->output->end(), data, data + length);
}

void flush_nothing(png_structp) {}

// data/atomic_file.h throws std::runtime_error; palette_png promises ImageError.
std::string read_label_file(const std::string& path) {
  try {
    return read_whole_file(path);
  } catch (const std::runtime_error& error) {
    throw ImageError(error.what());
  }
}

// Decodes `context->input` into the output vectors; false with the reason in
// context->message on any failure. The vectors live in the caller's frame, so a
// longjmp back here skips no destructor (see the top of the file).
bool decode_into(PngContext* context, int64_t* height, int64_t* width,
                 std::vector<uint8_t>* indices, std::vector<std::array<uint8_t, 3>>* palette,
                 std::vector<png_bytep>* row_pointers) {
  if (context->input_size < 8 || png_sig_cmp(context->input, 0, 8) != 0) {
    std::snprintf(context->message, sizeof(context->message), "not a PNG file (bad signature)");
    return false;
  }
  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, context, on_png_error, on_png_warning);
  png_infop info = png != nullptr ? png_create_info_struct(png) : nullptr;
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    std::snprintf(context->message, sizeof(context->message), "libpng is out of memory");
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, context, read_from_memory);
  png_read_info(png, info);
  const png_uint_32 rows = png_get_image_height(png, info);
  const png_uint_32 columns = png_get_image_width(png, info);
  const int color_type = png_get_color_type(png, info);
  const int bit_depth = png_get_bit_depth(png, info);
  const bool is_palette = color_type == PNG_COLOR_TYPE_PALETTE;
  const bool is_gray8 = color_type == PNG_COLOR_TYPE_GRAY && bit_depth == 8;
  if (!is_palette && !is_gray8) {
    std::snprintf(context->message, sizeof(context->message),
                  "not a label map: expected a palette PNG (or 8-bit gray), found PNG colour "
                  "type %d with %d-bit samples",
                  color_type, bit_depth);
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  if (static_cast<int64_t>(rows) * columns > kMaxImagePixels) {
    std::snprintf(context->message, sizeof(context->message),
                  "its header says %u x %u pixels, more than wise decodes (%lld pixels; "
                  "data/image_io.h)",
                  static_cast<unsigned>(columns), static_cast<unsigned>(rows),
                  static_cast<long long>(kMaxImagePixels));
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  // 1-, 2- and 4-bit palettes (small label maps) become one index per byte.
  if (bit_depth < 8) png_set_packing(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);

  palette->clear();
  png_colorp entries = nullptr;
  int count = 0;
  if (is_palette && png_get_PLTE(png, info, &entries, &count) == PNG_INFO_PLTE) {
    for (int i = 0; i < count; ++i) {
      palette->push_back({entries[i].red, entries[i].green, entries[i].blue});
    }
  }
  *height = rows;
  *width = columns;
  indices->assign(static_cast<size_t>(rows) * columns, 0);
  row_pointers->resize(rows);
  for (png_uint_32 y = 0; y < rows; ++y) {
    (*row_pointers)[y] = indices->data() + static_cast<size_t>(y) * columns;
  }
  png_read_image(png, row_pointers->data());  // handles interlaced files too
  png_read_end(png, nullptr);                 // reads (and CRC-checks) the rest
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

// Encodes `image` (already validated) into context->output; false with the reason
// in context->message on failure.
bool encode_palette_png(PngContext* context, const IndexedImage* image,
                        const std::vector<png_color>* palette,
                        std::vector<png_bytep>* row_pointers) {
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, context, on_png_error, on_png_warning);
  png_infop info = png != nullptr ? png_create_info_struct(png) : nullptr;
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    std::snprintf(context->message, sizeof(context->message), "libpng is out of memory");
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, context, write_to_memory, flush_nothing);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image->width),
               static_cast<png_uint_32>(image->height), 8, PNG_COLOR_TYPE_PALETTE,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_PLTE(png, info, palette->data(), static_cast<int>(palette->size()));
  png_write_info(png, info);
  row_pointers->resize(static_cast<size_t>(image->height));
  for (int64_t y = 0; y < image->height; ++y) {
    // libpng's row type is non-const, but it only reads rows when writing.
    (*row_pointers)[y] = const_cast<png_bytep>(image->indices.data() + y * image->width);
  }
  png_write_image(png, row_pointers->data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

}  // namespace

std::vector<std::array<uint8_t, 3>> voc_palette() {
  // The devkit's labelcolormap: the bits of the index, three at a time, fill the
  // colour channels from their most significant bit down.
  std::vector<std::array<uint8_t, 3>> palette(256);
  for (int index = 0; index < 256; ++index) {
    int bits = index;
    uint8_t red = 0, green = 0, blue = 0;
    for (int j = 0; j < 8; ++j) {
      red |= static_cast<uint8_t>(((bits >> 0) & 1) << (7 - j));
      green |= static_cast<uint8_t>(((bits >> 1) & 1) << (7 - j));
      blue |= static_cast<uint8_t>(((bits >> 2) & 1) << (7 - j));
      bits >>= 3;
    }
    palette[index] = {red, green, blue};
  }
  return palette;
}

IndexedImage decode_palette_png(const uint8_t* bytes, size_t size, const std::string& name) {
  PngContext context;
  context.input = bytes;
  context.input_size = size;
  IndexedImage image;
  std::vector<png_bytep> row_pointers;
  if (!decode_into(&context, &image.height, &image.width, &image.indices, &image.palette,
                   &row_pointers)) {
    throw ImageError(name + ": cannot read palette PNG: " + context.message);
  }
  return image;
}

IndexedImage read_palette_png(const std::string& path) {
  const std::string bytes = read_label_file(path);
  return decode_palette_png(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path);
}

void write_palette_png(const IndexedImage& image, const std::string& path) {
  if (image.height <= 0 || image.width <= 0 || image.height > PNG_UINT_31_MAX ||
      image.width > PNG_UINT_31_MAX) {
    throw ImageError(path + ": cannot write a " + std::to_string(image.height) + " x " +
                     std::to_string(image.width) + " palette PNG (sizes must be positive)");
  }
  const size_t expected = static_cast<size_t>(image.height) * static_cast<size_t>(image.width);
  if (image.indices.size() != expected) {
    throw ImageError(path + ": label map has " + std::to_string(image.indices.size()) +
                     " indices, expected height * width = " + std::to_string(expected));
  }
  const std::vector<std::array<uint8_t, 3>> colours =
      image.palette.empty() ? voc_palette() : image.palette;
  if (colours.size() > 256) {
    throw ImageError(path + ": a PNG palette holds at most 256 colours, got " +
                     std::to_string(colours.size()));
  }
  // An index past the palette is invalid PNG (decoders may reject or recolour it).
  uint8_t largest = 0;
  for (uint8_t index : image.indices) largest = index > largest ? index : largest;
  if (largest >= colours.size()) {
    throw ImageError(path + ": index " + std::to_string(largest) + " has no colour in the " +
                     std::to_string(colours.size()) + "-entry palette");
  }
  std::vector<png_color> palette;
  for (const auto& colour : colours) palette.push_back(png_color{colour[0], colour[1], colour[2]});

  std::vector<uint8_t> encoded;
  PngContext context;
  context.output = &encoded;
  std::vector<png_bytep> row_pointers;
  if (!encode_palette_png(&context, &image, &palette, &row_pointers)) {
    throw ImageError(path + ": cannot write palette PNG: " + context.message);
  }
  try {
    write_file_atomically(path, std::string(encoded.begin(), encoded.end()));
  } catch (const std::runtime_error& error) {
    throw ImageError(error.what());
  }
}

}  // namespace wise::data
