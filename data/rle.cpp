// RLE encode/decode and pycocotools' compressed string form (see rle.h).
#include "data/rle.h"

#include <algorithm>
#include <stdexcept>

namespace wise::data {

Rle rle_encode(const uint8_t* mask, int64_t height, int64_t width) {
  Rle rle{height, width, {}};
  // Walk the pixels in column-major order, counting runs; the first run counts zeros.
  uint8_t current = 0;
  uint32_t run = 0;
  for (int64_t x = 0; x < width; ++x) {
    for (int64_t y = 0; y < height; ++y) {
      const uint8_t value = mask[y * width + x] != 0 ? 1 : 0;
      if (value != current) {
        rle.counts.push_back(run);
        run = 0;
        current = value;
      }
      ++run;
    }
  }
  rle.counts.push_back(run);
  return rle;
}

Rle rle_encode(const std::vector<uint8_t>& mask, int64_t height, int64_t width) {
  if (static_cast<int64_t>(mask.size()) != height * width) {
    throw std::invalid_argument("rle_encode: mask has " + std::to_string(mask.size()) +
                                " pixels, expected height * width = " +
                                std::to_string(height * width));
  }
  return rle_encode(mask.data(), height, width);
}

Rle rle_empty(int64_t height, int64_t width) {
  return Rle{height, width, {static_cast<uint32_t>(height * width)}};
}

void rle_check(const Rle& rle, const std::string& what) {
  if (rle.height < 0 || rle.width < 0) {
    throw std::invalid_argument(what + ": negative size " + std::to_string(rle.height) + " x " +
                                std::to_string(rle.width));
  }
  uint64_t total = 0;
  for (uint32_t count : rle.counts) total += count;
  const uint64_t expected = static_cast<uint64_t>(rle.height) * static_cast<uint64_t>(rle.width);
  if (total != expected) {
    throw std::invalid_argument(what + ": runs sum to " + std::to_string(total) +
                                " pixels, expected height * width = " +
                                std::to_string(rle.height) + " * " + std::to_string(rle.width) +
                                " = " + std::to_string(expected));
  }
}

void rle_decode(const Rle& rle, uint8_t* mask) {
  rle_check(rle, "rle_decode");
  const int64_t height = rle.height;
  const int64_t width = rle.width;
  int64_t position = 0;  // column-major pixel index
  uint8_t value = 0;
  for (uint32_t count : rle.counts) {
    for (uint32_t i = 0; i < count; ++i, ++position) {
      const int64_t x = position / height;
      const int64_t y = position - x * height;
      mask[y * width + x] = value;
    }
    value ^= 1;
  }
}

std::vector<uint8_t> rle_decode(const Rle& rle) {
  std::vector<uint8_t> mask(static_cast<std::size_t>(rle.height * rle.width));
  rle_decode(rle, mask.data());
  return mask;
}

uint64_t rle_to_bits(const Rle& rle, uint64_t* words) {
  rle_check(rle, "rle_to_bits");
  const int64_t word_count = (rle.height * rle.width + 63) / 64;
  std::fill(words, words + word_count, uint64_t{0});
  uint64_t area = 0;
  int64_t position = 0;
  for (std::size_t i = 0; i < rle.counts.size(); ++i) {
    int64_t begin = position;
    const int64_t end = position + rle.counts[i];
    if (i % 2 == 1) {  // odd runs are ones: set bits [begin, end), whole words where it can
      area += rle.counts[i];
      while (begin < end) {
        const int64_t bit = begin & 63;
        const int64_t take = std::min<int64_t>(64 - bit, end - begin);
        const uint64_t ones = take == 64 ? ~uint64_t{0} : ((uint64_t{1} << take) - 1);
        words[begin >> 6] |= ones << bit;
        begin += take;
      }
    }
    position = end;
  }
  return area;
}

uint64_t rle_area(const Rle& rle) {
  uint64_t area = 0;
  for (std::size_t i = 1; i < rle.counts.size(); i += 2) area += rle.counts[i];
  return area;
}

std::array<double, 4> rle_to_bbox(const Rle& rle) {
  // As pycocotools' rleToBbox: track the column-major extent of the foreground runs.
  const int64_t height = rle.height;
  if (rle.counts.size() < 2 || height == 0) return {0, 0, 0, 0};
  int64_t x_min = rle.width, y_min = height, x_max = -1, y_max = -1;
  int64_t position = 0;
  for (std::size_t i = 0; i < rle.counts.size(); ++i) {
    const int64_t count = rle.counts[i];
    if (i % 2 == 1 && count > 0) {
      const int64_t first = position, last = position + count - 1;
      const int64_t x_first = first / height, x_last = last / height;
      x_min = std::min(x_min, x_first);
      x_max = std::max(x_max, x_last);
      if (x_first != x_last) {  // the run wraps a column: it covers every row
        y_min = 0;
        y_max = height - 1;
      } else {
        y_min = std::min(y_min, first - x_first * height);
        y_max = std::max(y_max, last - x_last * height);
      }
    }
    position += count;
  }
  if (x_max < 0) return {0, 0, 0, 0};
  return {static_cast<double>(x_min), static_cast<double>(y_min),
          static_cast<double>(x_max - x_min + 1), static_cast<double>(y_max - y_min + 1)};
}

std::string rle_to_string(const Rle& rle) {
  std::string out;
  for (std::size_t i = 0; i < rle.counts.size(); ++i) {
    int64_t x = rle.counts[i];
    if (i > 2) x -= static_cast<int64_t>(rle.counts[i - 2]);  // delta against the same-parity run
    bool more = true;
    while (more) {
      char group = static_cast<char>(x & 0x1f);
      x >>= 5;  // arithmetic shift: negative deltas stay negative
      // Stop once the remaining bits are pure sign extension of this group's bit 4.
      more = (group & 0x10) ? x != -1 : x != 0;
      if (more) group |= 0x20;
      out.push_back(static_cast<char>(group + 48));
    }
  }
  return out;
}

Rle rle_from_string(const std::string& counts, int64_t height, int64_t width,
                    const std::string& what) {
  Rle rle{height, width, {}};
  std::size_t p = 0;
  while (p < counts.size()) {
    // The bits are gathered unsigned: a signed left shift into the sign bit is undefined
    // (the fuzzer found 18 << 60). At most 12 groups (60 bits) make a run.
    uint64_t bits = 0;
    int shift = 0;
    bool more = true;
    while (more) {
      if (p >= counts.size()) {
        throw std::invalid_argument(what + ": compressed RLE string ends inside a run");
      }
      const int c = static_cast<unsigned char>(counts[p]) - 48;
      if (c < 0 || c > 63) {
        throw std::invalid_argument(what + ": compressed RLE string has an invalid character '" +
                                    std::string(1, counts[p]) + "' at " + std::to_string(p));
      }
      if (shift > 55) throw std::invalid_argument(what + ": compressed RLE run is too long");
      ++p;
      bits |= static_cast<uint64_t>(c & 0x1f) << shift;
      more = (c & 0x20) != 0;
      shift += 5;
      if (!more && (c & 0x10)) bits |= ~uint64_t{0} << shift;  // sign-extend
    }
    int64_t x = static_cast<int64_t>(bits);  // two's complement
    const std::size_t i = rle.counts.size();
    if (i > 2) x += static_cast<int64_t>(rle.counts[i - 2]);
    if (x < 0 || x > int64_t{0xffffffff}) {
      throw std::invalid_argument(what + ": compressed RLE decodes to an invalid run length " +
                                  std::to_string(x) + " (run " + std::to_string(i) + ")");
    }
    rle.counts.push_back(static_cast<uint32_t>(x));
  }
  rle_check(rle, what);
  return rle;
}

}  // namespace wise::data
