// Image files (data/image_io.h): PNG through stb, JPEG through libjpeg-turbo, against the
// committed fixtures of tests/data/make_voc_fixture.py. PNG pixels are checked against
// the generator's formulas (recomputed here); JPEG pixels against PIL's decode of the
// same file; bad files against the decoder's reason and the file's name.
#include "data/image_io.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include <jpeglib.h>

#include "tests/support/oversized_png.h"

namespace wise::data {
namespace {

namespace fs = std::filesystem;

std::string image_file(const std::string& name) {
  return std::string(WISE_TEST_DATA_DIR) + "/images/" + name;
}

// A fresh empty folder for files a test writes, removed by the destructor.
struct ScratchFolder {
  fs::path path;
  explicit ScratchFolder(const std::string& name)
      : path(fs::temp_directory_path() /
             ("wise_image_io_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchFolder() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// The generator's formulas (make_voc_fixture.py: formula_rgb, formula_gray, formula_alpha).
uint8_t formula_channel(int channel, int64_t y, int64_t x) {
  switch (channel) {
    case 0: return static_cast<uint8_t>((7 * x + 3 * y) % 256);
    case 1: return static_cast<uint8_t>((11 * x + 5 * y + 40) % 256);
    case 2: return static_cast<uint8_t>((x * y) % 256);
    default: return static_cast<uint8_t>((20 * x + y + 1) % 256);  // alpha
  }
}
uint8_t formula_gray(int64_t y, int64_t x) { return static_cast<uint8_t>((13 * x + 17 * y) % 256); }

uint8_t pixel(const Image& image, int64_t y, int64_t x, int64_t c) {
  return image.pixels[static_cast<size_t>((y * image.width + x) * image.channels + c)];
}

// Runs `action`, expecting ImageError whose message contains every one of `parts`.
void expect_image_error(const std::function<void()>& action,
                        const std::vector<std::string>& parts) {
  try {
    action();
    ADD_FAILURE() << "expected ImageError mentioning \"" << parts.front() << "\", got none";
  } catch (const ImageError& error) {
    const std::string message = error.what();
    for (const auto& part : parts) {
      EXPECT_NE(message.find(part), std::string::npos)
          << "message \"" << message << "\" lacks \"" << part << "\"";
    }
  }
}

TEST(ImageIo, LoadsRgbPngExactly) {
  const Image image = load_image(image_file("rgb.png"), 0);
  ASSERT_EQ(image.height, 10);
  ASSERT_EQ(image.width, 12);
  ASSERT_EQ(image.channels, 3);
  ASSERT_EQ(image.pixels.size(), 10u * 12 * 3);
  for (int64_t y = 0; y < 10; ++y)
    for (int64_t x = 0; x < 12; ++x)
      for (int c = 0; c < 3; ++c) ASSERT_EQ(pixel(image, y, x, c), formula_channel(c, y, x));
  // row() points at the row's first pixel.
  EXPECT_EQ(image.row(3)[2 * 3 + 1], formula_channel(1, 3, 2));
}

TEST(ImageIo, GrayIsKeptOrReplicated) {
  const Image gray = load_image(image_file("gray.png"), 0);
  ASSERT_EQ(gray.channels, 1);
  const Image rgb = load_image(image_file("gray.png"), 3);  // the default conversion
  ASSERT_EQ(rgb.channels, 3);
  for (int64_t y = 0; y < 10; ++y) {
    for (int64_t x = 0; x < 12; ++x) {
      ASSERT_EQ(pixel(gray, y, x, 0), formula_gray(y, x));
      for (int c = 0; c < 3; ++c) ASSERT_EQ(pixel(rgb, y, x, c), formula_gray(y, x));
    }
  }
}

TEST(ImageIo, RgbaKeepsAlphaOrDropsIt) {
  const Image rgba = load_image(image_file("rgba.png"), 0);
  ASSERT_EQ(rgba.channels, 4);
  const Image rgb = load_image(image_file("rgba.png"));
  ASSERT_EQ(rgb.channels, 3);
  for (int64_t y = 0; y < 10; ++y) {
    for (int64_t x = 0; x < 12; ++x) {
      for (int c = 0; c < 4; ++c) ASSERT_EQ(pixel(rgba, y, x, c), formula_channel(c, y, x));
      for (int c = 0; c < 3; ++c) ASSERT_EQ(pixel(rgb, y, x, c), formula_channel(c, y, x));
    }
  }
}

TEST(ImageIo, GrayAlphaBecomesRgba) {
  const Image image = load_image(image_file("gray_alpha.png"), 0);
  ASSERT_EQ(image.channels, 4);
  for (int64_t y = 0; y < 10; ++y) {
    for (int64_t x = 0; x < 12; ++x) {
      for (int c = 0; c < 3; ++c) ASSERT_EQ(pixel(image, y, x, c), formula_gray(y, x));
      ASSERT_EQ(pixel(image, y, x, 3), formula_channel(3, y, x));
    }
  }
  const Image gray = load_image(image_file("gray_alpha.png"), 1);
  EXPECT_EQ(gray.channels, 1);
  EXPECT_EQ(pixel(gray, 4, 5, 0), formula_gray(4, 5));
}

// PIL decodes with its own libjpeg-turbo build, which may round the IDCT and the chroma
// upsampling differently from Debian's by a level; the content must be the same.
TEST(ImageIo, JpegMatchesPilDecode) {
  struct Case {
    std::string name;
    int channels;
  };
  for (const Case& c : {Case{"photo", 3}, Case{"progressive", 3}, Case{"cmyk", 3}, Case{"gray", 1}}) {
    const Image ours = load_image(image_file(c.name + ".jpg"), 0);
    const Image pil = load_image(image_file(c.name + "_decoded_by_pil.png"), 0);
    ASSERT_EQ(ours.height, 24) << c.name;
    ASSERT_EQ(ours.width, 32) << c.name;
    ASSERT_EQ(ours.channels, c.channels) << c.name;
    ASSERT_EQ(pil.pixels.size(), ours.pixels.size()) << c.name;
    double total = 0;
    int worst = 0;
    for (size_t i = 0; i < ours.pixels.size(); ++i) {
      const int difference = std::abs(int(ours.pixels[i]) - int(pil.pixels[i]));
      total += difference;
      worst = std::max(worst, difference);
    }
    EXPECT_LE(worst, 2) << c.name;
    EXPECT_LE(total / ours.pixels.size(), 0.5) << c.name;
  }
}

// Every layout converts to every channel count asked for: gray replicated, alpha 255,
// colour to gray as libjpeg's luma.
TEST(ImageIo, JpegConvertsToTheChannelsAskedFor) {
  const Image rgb = load_image(image_file("photo.jpg"), 3);
  const Image rgba = load_image(image_file("photo.jpg"), 4);
  ASSERT_EQ(rgba.pixels.size(), rgb.pixels.size() / 3 * 4);
  for (size_t i = 0; i < rgb.pixels.size() / 3; ++i) {
    ASSERT_EQ(rgba.pixels[4 * i + 0], rgb.pixels[3 * i + 0]);
    ASSERT_EQ(rgba.pixels[4 * i + 2], rgb.pixels[3 * i + 2]);
    ASSERT_EQ(rgba.pixels[4 * i + 3], 255);
  }
  const Image gray = load_image(image_file("gray.jpg"), 1);
  const Image gray_as_rgb = load_image(image_file("gray.jpg"), 3);
  for (size_t i = 0; i < gray.pixels.size(); ++i) {
    ASSERT_EQ(gray_as_rgb.pixels[3 * i + 0], gray.pixels[i]);
    ASSERT_EQ(gray_as_rgb.pixels[3 * i + 1], gray.pixels[i]);
  }
  // Colour and CMYK to gray: BT.601 luma of the colour decode, up to rounding.
  for (const std::string name : {"photo", "cmyk"}) {
    const Image colour = load_image(image_file(name + ".jpg"), 3);
    const Image luma = load_image(image_file(name + ".jpg"), 1);
    ASSERT_EQ(luma.pixels.size(), colour.pixels.size() / 3) << name;
    for (size_t i = 0; i < luma.pixels.size(); ++i) {
      const double expected = 0.299 * colour.pixels[3 * i] + 0.587 * colour.pixels[3 * i + 1] +
                              0.114 * colour.pixels[3 * i + 2];
      ASSERT_NEAR(luma.pixels[i], expected, 3.0) << name << " pixel " << i;
    }
  }
  EXPECT_EQ(read_image_header(image_file("cmyk.jpg")).channels, 3);
  EXPECT_EQ(read_image_header(image_file("gray.jpg")).channels, 1);
}

TEST(ImageIo, DecodesFromMemoryLikeFromFile) {
  const std::string path = image_file("rgba.png");
  std::vector<uint8_t> bytes(fs::file_size(path));
  FILE* file = std::fopen(path.c_str(), "rb");
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(std::fread(bytes.data(), 1, bytes.size(), file), bytes.size());
  std::fclose(file);
  const Image from_memory = decode_image(bytes.data(), bytes.size(), "in memory", 4);
  EXPECT_EQ(from_memory.pixels, load_image(path, 4).pixels);
}

TEST(ImageIo, HeaderIsReadWithoutThePixels) {
  const ImageHeader photo = read_image_header(image_file("photo.jpg"));
  EXPECT_EQ(photo.height, 24);
  EXPECT_EQ(photo.width, 32);
  EXPECT_EQ(photo.channels, 3);
  EXPECT_EQ(read_image_header(image_file("gray_alpha.png")).channels, 2);
  // A truncated file's header is intact: the header passes, the decode fails.
  EXPECT_EQ(read_image_header(image_file("truncated.png")).width, 12);
  expect_image_error([] { load_image(image_file("truncated.png")); }, {"truncated.png"});
}

TEST(ImageIo, PngRoundTripIsLossless) {
  ScratchFolder folder("png");
  std::mt19937 rng(14);
  for (int channels : {1, 3, 4}) {
    Image image;
    image.height = 7;
    image.width = 9;
    image.channels = channels;
    image.pixels.resize(7 * 9 * channels);
    for (auto& value : image.pixels) value = static_cast<uint8_t>(rng());
    // stb's encoder, synced; and the bulk path (libpng, fast, unsynced).
    PngWriteOptions bulk;
    bulk.fast = true;
    bulk.sync = false;
    for (const PngWriteOptions& options : {PngWriteOptions{}, bulk}) {
      const std::string path = folder.file("round_trip_" + std::to_string(channels) +
                                           (options.fast ? "_fast" : "") + ".png");
      save_png(image, path, options);
      const Image back = load_image(path, 0);
      EXPECT_EQ(back.channels, channels);
      EXPECT_EQ(back.pixels, image.pixels) << channels << " channels" << (options.fast ? ", fast" : "");
    }
  }
  // The atomic write leaves no temporary file behind.
  int files = 0;
  for (const auto& entry : fs::directory_iterator(folder.path)) {
    EXPECT_EQ(entry.path().extension(), ".png") << entry.path();
    ++files;
  }
  EXPECT_EQ(files, 6);
}

TEST(ImageIo, JpegRoundTripIsClose) {
  ScratchFolder folder("jpeg");
  Image image;
  image.height = 16;
  image.width = 24;
  image.channels = 3;
  for (int64_t y = 0; y < 16; ++y) {
    for (int64_t x = 0; x < 24; ++x) {
      for (int c = 0; c < 3; ++c) {
        image.pixels.push_back(static_cast<uint8_t>(40 + 5 * x + 3 * y + 20 * c));
      }
    }
  }
  save_jpeg(image, folder.file("smooth.jpg"), 95);
  const Image back = load_image(folder.file("smooth.jpg"));
  ASSERT_EQ(back.pixels.size(), image.pixels.size());
  for (size_t i = 0; i < image.pixels.size(); ++i) {
    ASSERT_NEAR(back.pixels[i], image.pixels[i], 8) << "byte " << i;
  }
}

TEST(ImageIo, BadFilesNameTheFileAndTheReason) {
  expect_image_error([] { load_image(image_file("missing.png")); },
                     {"missing.png", "No such file or directory"});
  expect_image_error([] { load_image(image_file("truncated.png")); },
                     {"truncated.png", "cannot read image", "corrupt PNG", "IDAT chunk", "truncated PNG"});
  expect_image_error([] { load_image(image_file("not_an_image.jpg")); },
                     {"not_an_image.jpg", "not of any known type"});
  expect_image_error([] { load_image(image_file("corrupt.jpg")); },
                     {"corrupt.jpg", "cannot read image", "corrupt JPEG", "Bogus marker length"});
  expect_image_error([] { load_image(image_file("empty.png")); }, {"empty.png", "empty"});
  expect_image_error([] { load_image(WISE_TEST_DATA_DIR); }, {"is a directory"});
  expect_image_error([] { read_image_header(image_file("corrupt.jpg")); },
                     {"corrupt.jpg", "cannot read image header", "corrupt JPEG", "Bogus marker length"});
  expect_image_error([] { read_image_header(image_file("missing.jpg")); },
                     {"missing.jpg", "No such file"});
  const uint8_t junk[] = {1, 2, 3};
  expect_image_error([&] { decode_image(junk, sizeof(junk), "junk bytes"); }, {"junk bytes"});
}

// A JPEG cut inside its scan: the header is whole, so the header read passes (VOC's
// reader checks only that); the decode refuses it rather than pad the image with gray,
// which is what a training loader relies on (data/jpeg_codec.h).
TEST(ImageIo, ATruncatedJpegPassesTheHeaderAndFailsTheDecode) {
  EXPECT_EQ(read_image_header(image_file("truncated.jpg")).width, 32);
  expect_image_error([] { load_image(image_file("truncated.jpg")); },
                     {"truncated.jpg", "cannot read image", "corrupt JPEG", "Premature end of JPEG file"});
}

// 16,384 x 12,288 passes stb's own header limits (under 2^30 bytes at 4 channels) but not
// kMaxImagePixels: refused from the header, before stb allocates for the pixels.
TEST(ImageIo, AHeaderClaimingTooManyPixelsIsRefusedBeforeDecoding) {
  const std::string png = testing::png_claiming(16384, 12288, 2);
  expect_image_error(
      [&] { decode_image(reinterpret_cast<const uint8_t*>(png.data()), png.size(), "huge.png"); },
      {"huge.png", "16384 x 12288 pixels", "more than wise decodes", std::to_string(kMaxImagePixels)});
}

// A JPEG whose DHT table declares 16 x 255 codes: Debian's stb wrote them past its
// 256-entry tables (tests/fuzz found it, when stb decoded JPEG); libjpeg refuses the table.
// Refused, naming the file, by the decoder and by the header read.
TEST(ImageIo, AJpegHuffmanTableOfMoreThan256CodesIsRefused) {
  std::string jpeg = "\xFF\xD8\xFF\xC4";
  const size_t codes = 16 * 255, length = 2 + 17 + codes;
  jpeg += static_cast<char>(length >> 8);
  jpeg += static_cast<char>(length & 0xFF);
  jpeg += '\x00';                                      // DC table 0
  jpeg += std::string(16, static_cast<char>(0xFF));  // 255 codes of every length
  jpeg += std::string(codes, '\x01');
  jpeg += "\xFF\xD9";
  expect_image_error(
      [&] { decode_image(reinterpret_cast<const uint8_t*>(jpeg.data()), jpeg.size(), "hostile.jpg"); },
      {"hostile.jpg", "corrupt JPEG", "Bogus Huffman table definition"});
  ScratchFolder folder("hostile_jpeg");
  {
    std::ofstream out(folder.file("hostile.jpg"), std::ios::binary);
    out << jpeg;
  }
  expect_image_error([&] { read_image_header(folder.file("hostile.jpg")); },
                     {"hostile.jpg", "cannot read image header", "Bogus Huffman table definition"});
}

// tests/fuzz's last stb finding (stb_image.h:2120 read h->values[-50] on a malformed
// Huffman table; the fuzzer input is in tests/fuzz/corpus/images): a named error now,
// for every channel count.
TEST(ImageIo, TheStbHuffmanFindingIsANamedError) {
  for (int channels : {0, 1, 3, 4}) {
    expect_image_error([&] { load_image(image_file("stb_huffman_index_finding.jpg"), channels); },
                       {"stb_huffman_index_finding.jpg", "cannot read image", "corrupt JPEG"});
  }
}

// A progressive JPEG of 24 x 32 pixels whose scan script refines every AC coefficient of
// every component on its own, two bits at a time: 3 x (1 + 63 x 3) = 570 valid scans,
// each a pass over the whole image. Written with libjpeg itself (the encoder validates
// the script); a hostile file of such scans is the decoder's CPU-time attack.
std::vector<uint8_t> jpeg_with_570_scans() {
  std::vector<jpeg_scan_info> scans;
  for (int component = 0; component < 3; ++component) {
    scans.push_back({1, {component, 0, 0, 0}, 0, 0, 0, 0});  // DC, full precision
    for (int k = 1; k < 64; ++k) {
      scans.push_back({1, {component, 0, 0, 0}, k, k, 0, 2});  // first pass, bits >= 2
      scans.push_back({1, {component, 0, 0, 0}, k, k, 2, 1});  // refine bit 1
      scans.push_back({1, {component, 0, 0, 0}, k, k, 1, 0});  // refine bit 0
    }
  }
  std::vector<uint8_t> pixels(24 * 32 * 3);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 7 % 251);
  jpeg_compress_struct cinfo;
  jpeg_error_mgr errors;
  cinfo.err = jpeg_std_error(&errors);  // the default handler exits on error: fine in a test
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = 32;
  cinfo.image_height = 24;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  cinfo.comp_info[0].h_samp_factor = cinfo.comp_info[0].v_samp_factor = 1;  // 4:4:4: one scan per component
  cinfo.scan_info = scans.data();
  cinfo.num_scans = static_cast<int>(scans.size());
  jpeg_start_compress(&cinfo, TRUE);
  for (int y = 0; y < 24; ++y) {
    JSAMPROW row = pixels.data() + y * 32 * 3;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::vector<uint8_t> bytes(buffer, buffer + size);
  std::free(buffer);
  return bytes;
}

TEST(ImageIo, AJpegOfMoreProgressiveScansThanTheLimitIsRefused) {
  const std::vector<uint8_t> jpeg = jpeg_with_570_scans();
  expect_image_error([&] { decode_image(jpeg.data(), jpeg.size(), "many_scans.jpg"); },
                     {"many_scans.jpg", "corrupt JPEG", "more than 500 progressive scans"});
  // The committed progressive photo (PIL's ten or so scans) decodes.
  EXPECT_EQ(load_image(image_file("progressive.jpg")).width, 32);
}

// A valid 4 x 3 header, then an IDAT chunk declaring 2^31 - 1 bytes that are not there: stb
// would allocate for the declared length before reading (data/stb_guard.h).
TEST(ImageIo, APngChunkLongerThanTheFileIsRefusedBeforeStbAllocates) {
  std::string png = testing::png_claiming(4, 3, 2);
  png.resize(png.find("IDAT") - 4);  // keep signature and IHDR
  png += testing::big_endian32(0x7FFFFFFFu) + "IDAT" + std::string(40, '\x01');
  expect_image_error(
      [&] { decode_image(reinterpret_cast<const uint8_t*>(png.data()), png.size(), "long_chunk.png"); },
      {"long_chunk.png", "corrupt PNG", "IDAT chunk at byte 33 declares 2147483647 bytes", "40 left"});
}

TEST(ImageIo, BadArgumentsAreRejected) {
  expect_image_error([] { load_image(image_file("rgb.png"), 2); },
                     {"rgb.png", "0 (keep the file's), 1, 3 or 4, got 2"});
  ScratchFolder folder("bad_arguments");
  Image image;
  image.height = 2;
  image.width = 3;
  image.channels = 3;
  image.pixels.resize(17);
  expect_image_error([&] { save_png(image, folder.file("short.png")); },
                     {"short.png", "17 pixel bytes", "= 18"});
  image.pixels.resize(18);
  expect_image_error([&] { save_jpeg(image, folder.file("q.jpg"), 0); }, {"quality", "got 0"});
  expect_image_error([&] { save_png(image, folder.file("no_such_folder/x.png")); },
                     {"no_such_folder/x.png", "No such file or directory"});
  Image empty;
  expect_image_error([&] { save_png(empty, folder.file("empty.png")); }, {"0 x 0"});
  image.channels = 5;
  expect_image_error([&] { save_png(image, folder.file("five.png")); }, {"5 channels"});
}

}  // namespace
}  // namespace wise::data
