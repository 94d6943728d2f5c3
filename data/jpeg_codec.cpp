// JPEG through libjpeg-turbo (see jpeg_codec.h).
//
// libjpeg reports a fatal error by calling error_exit, which must not return: ours
// longjmps back to the setjmp in the function that drives the codec. Those functions
// (run_decoder, run_header_read, run_encoder) keep no object with a destructor in their
// frames, so the jump skips none, and every object the jump returns to (libjpeg's own
// included) lives in a job struct in the caller's frame, so none of it is an automatic
// variable of the frame that called setjmp (whose values a longjmp leaves indeterminate).
// The caller turns the outcome into an ImageError once libjpeg's objects are destroyed.
#include "data/jpeg_codec.h"

#include <csetjmp>
#include <cstdlib>
#include <cstring>

// jpeglib.h needs size_t and FILE declared first (cstddef, cstdio via jpeg_codec.h).
#include <jerror.h>
#include <jpeglib.h>

namespace wise::data {
namespace {

// libjpeg-turbo's memory manager (no backing store) refuses a request past this instead
// of asking the system: a progressive JPEG of kMaxImagePixels keeps 2 bytes per
// coefficient, 768 MiB at three full-resolution components.
constexpr long kMaxDecoderMemory = 1L << 30;

struct ErrorHandler {
  jpeg_error_mgr manager;  // first: libjpeg hands callbacks &manager as cinfo->err
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void jump_back(j_common_ptr cinfo) {
  auto* handler = reinterpret_cast<ErrorHandler*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, handler->message);
  std::longjmp(handler->jump, 1);
}

void on_error(j_common_ptr cinfo) { jump_back(cinfo); }

// level -1 is a warning, 0.. are trace messages (never printed). A warning that means
// pixels are missing or wrong (truncation, a bad Huffman code, a lost marker) stops the
// decode; these three only say the file is unusual, not that its pixels are.
void on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;
  const int code = cinfo->err->msg_code;
  if (code == JWRN_EXTRANEOUS_DATA || code == JWRN_JFIF_MAJOR || code == JWRN_BOGUS_ICC) return;
  jump_back(cinfo);
}

// Called by libjpeg while it consumes input; a progressive file may hold any number of
// scans, each refining the whole image again, so their count is bounded.
void check_scan_count(j_common_ptr cinfo) {
  if (!cinfo->is_decompressor) return;
  const auto* decompress = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (decompress->input_scan_number > kMaxJpegScans) {
    auto* handler = reinterpret_cast<ErrorHandler*>(cinfo->err);
    std::snprintf(handler->message, sizeof(handler->message), "more than %d progressive scans", kMaxJpegScans);
    std::longjmp(handler->jump, 1);
  }
}

void install_error_handler(ErrorHandler* handler) {
  jpeg_std_error(&handler->manager);
  handler->manager.error_exit = on_error;
  handler->manager.emit_message = on_message;
  handler->message[0] = '\0';
}

enum class Outcome { kDone, kLibjpegError, kTooManyPixels };

// What the decoder needs and fills; it lives in decode_jpeg's frame, above the setjmp.
struct DecodeJob {
  const uint8_t* bytes = nullptr;
  size_t size = 0;
  int requested = 0;  // 0, 1, 3 or 4
  Image* image = nullptr;
  std::vector<uint8_t>* cmyk = nullptr;  // scratch for four-component files
  int64_t claimed_height = 0, claimed_width = 0;
  ErrorHandler error;
  jpeg_decompress_struct cinfo;
  jpeg_progress_mgr progress;
};

bool is_cmyk(J_COLOR_SPACE space) { return space == JCS_CMYK || space == JCS_YCCK; }

J_COLOR_SPACE output_space(int channels) {
  return channels == 1 ? JCS_GRAYSCALE : channels == 3 ? JCS_RGB : JCS_EXT_RGBA;
}

Outcome run_decoder(DecodeJob* job) {
  jpeg_decompress_struct& cinfo = job->cinfo;
  cinfo.err = &job->error.manager;
  install_error_handler(&job->error);
  if (setjmp(job->error.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return Outcome::kLibjpegError;
  }
  jpeg_create_decompress(&cinfo);
  cinfo.mem->max_memory_to_use = kMaxDecoderMemory;
  job->progress.progress_monitor = check_scan_count;
  cinfo.progress = &job->progress;
  jpeg_mem_src(&cinfo, job->bytes, static_cast<unsigned long>(job->size));
  jpeg_read_header(&cinfo, TRUE);
  job->claimed_height = cinfo.image_height;
  job->claimed_width = cinfo.image_width;
  if (job->claimed_height * job->claimed_width > kMaxImagePixels) {
    jpeg_destroy_decompress(&cinfo);
    return Outcome::kTooManyPixels;
  }
  const bool cmyk = is_cmyk(cinfo.jpeg_color_space);
  const int channels = job->requested != 0 ? job->requested : (cinfo.num_components == 1 ? 1 : 3);
  // libjpeg converts gray, YCbCr and RGB to any of our layouts itself; CMYK it only
  // decodes, and convert_cmyk turns that into RGB below.
  cinfo.out_color_space = cmyk ? JCS_CMYK : output_space(channels);
  jpeg_start_decompress(&cinfo);

  Image& image = *job->image;
  image.height = cinfo.output_height;
  image.width = cinfo.output_width;
  image.channels = channels;
  std::vector<uint8_t>& target = cmyk ? *job->cmyk : image.pixels;
  const size_t row_bytes = static_cast<size_t>(cinfo.output_width) * cinfo.output_components;
  target.resize(row_bytes * cinfo.output_height);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = target.data() + row_bytes * cinfo.output_scanline;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return Outcome::kDone;
}

// Adobe's CMYK JPEGs store inverted ink values, so with c, m, y, k as decoded the colour
// is (c k, m k, y k) / 255 (what PIL and stb do); gray is the RGB's luma (BT.601).
void convert_cmyk(const std::vector<uint8_t>& cmyk, Image* image) {
  const size_t pixels = cmyk.size() / 4;
  image->pixels.resize(pixels * static_cast<size_t>(image->channels));
  for (size_t i = 0; i < pixels; ++i) {
    const uint8_t* in = cmyk.data() + 4 * i;
    const int k = in[3];
    const int r = (in[0] * k + 127) / 255, g = (in[1] * k + 127) / 255, b = (in[2] * k + 127) / 255;
    uint8_t* out = image->pixels.data() + i * static_cast<size_t>(image->channels);
    if (image->channels == 1) {
      out[0] = static_cast<uint8_t>((299 * r + 587 * g + 114 * b + 500) / 1000);
      continue;
    }
    out[0] = static_cast<uint8_t>(r);
    out[1] = static_cast<uint8_t>(g);
    out[2] = static_cast<uint8_t>(b);
    if (image->channels == 4) out[3] = 255;
  }
}

struct HeaderJob {
  std::FILE* file = nullptr;
  ImageHeader header;
  ErrorHandler error;
  jpeg_decompress_struct cinfo;
};

Outcome run_header_read(HeaderJob* job) {
  jpeg_decompress_struct& cinfo = job->cinfo;
  cinfo.err = &job->error.manager;
  install_error_handler(&job->error);
  if (setjmp(job->error.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return Outcome::kLibjpegError;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_stdio_src(&cinfo, job->file);
  jpeg_read_header(&cinfo, TRUE);
  job->header.height = cinfo.image_height;
  job->header.width = cinfo.image_width;
  job->header.channels = cinfo.num_components == 1 ? 1 : 3;  // CMYK decodes to RGB
  jpeg_destroy_decompress(&cinfo);
  return Outcome::kDone;
}

struct EncodeJob {
  const Image* image = nullptr;
  int quality = 95;
  unsigned char* buffer = nullptr;  // malloc'ed by libjpeg's memory destination
  unsigned long size = 0;
  ErrorHandler error;
  jpeg_compress_struct cinfo;
};

Outcome run_encoder(EncodeJob* job) {
  jpeg_compress_struct& cinfo = job->cinfo;
  cinfo.err = &job->error.manager;
  install_error_handler(&job->error);
  if (setjmp(job->error.jump)) {
    jpeg_destroy_compress(&cinfo);
    return Outcome::kLibjpegError;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &job->buffer, &job->size);
  const Image& image = *job->image;
  cinfo.image_width = static_cast<JDIMENSION>(image.width);
  cinfo.image_height = static_cast<JDIMENSION>(image.height);
  cinfo.input_components = static_cast<int>(image.channels);
  cinfo.in_color_space = output_space(static_cast<int>(image.channels));
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, job->quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    // libjpeg's API takes rows as non-const; it only reads them.
    JSAMPROW row = const_cast<uint8_t*>(image.row(cinfo.next_scanline));
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return Outcome::kDone;
}

}  // namespace

bool looks_like_jpeg(const uint8_t* bytes, size_t size) {
  return size >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;
}

Image decode_jpeg(const uint8_t* bytes, size_t size, const std::string& name, int channels) {
  Image image;
  std::vector<uint8_t> cmyk;
  DecodeJob job;
  job.bytes = bytes;
  job.size = size;
  job.requested = channels;
  job.image = &image;
  job.cmyk = &cmyk;
  switch (run_decoder(&job)) {
    case Outcome::kLibjpegError:
      throw ImageError(name + ": cannot read image: corrupt JPEG: " + job.error.message);
    case Outcome::kTooManyPixels:
      throw ImageError(name + ": cannot read image: its header says " + std::to_string(job.claimed_width) + " x " +
                       std::to_string(job.claimed_height) + " pixels, more than wise decodes (" +
                       std::to_string(kMaxImagePixels) + " pixels; data/image_io.h)");
    case Outcome::kDone:
      break;
  }
  if (!cmyk.empty()) convert_cmyk(cmyk, &image);
  return image;
}

ImageHeader read_jpeg_header(std::FILE* file, const std::string& name) {
  HeaderJob job;
  job.file = file;
  if (run_header_read(&job) != Outcome::kDone) {
    throw ImageError(name + ": cannot read image header: corrupt JPEG: " + job.error.message);
  }
  return job.header;
}

std::vector<uint8_t> encode_jpeg(const Image& image, int quality, const std::string& name) {
  EncodeJob job;
  job.image = &image;
  job.quality = quality;
  const Outcome outcome = run_encoder(&job);
  std::vector<uint8_t> bytes;
  if (outcome == Outcome::kDone) bytes.assign(job.buffer, job.buffer + job.size);
  std::free(job.buffer);
  if (outcome != Outcome::kDone) throw ImageError(name + ": libjpeg could not encode the JPEG: " + job.error.message);
  return bytes;
}

}  // namespace wise::data
