// Packed column-major masks (see packed_mask.h).
#include "proposals/packed_mask.h"

#include <cstring>

#include "nn/ensure.h"

namespace wise::proposals {

int64_t packed_words(int64_t height, int64_t width) { return (height * width + 63) / 64; }

PackedMask packed_empty(int64_t height, int64_t width) {
  return PackedMask{height, width, std::vector<uint64_t>(static_cast<size_t>(packed_words(height, width)), 0)};
}

void packed_or(PackedMask& target, const PackedMask& source) {
  WISE_CHECK(target.height == source.height && target.width == source.width, "packed_or: masks of ",
             target.height, " x ", target.width, " and ", source.height, " x ", source.width);
  for (size_t w = 0; w < target.words.size(); ++w) target.words[w] |= source.words[w];
}

int64_t packed_area(const PackedMask& mask) {
  int64_t area = 0;
  for (uint64_t word : mask.words) area += __builtin_popcountll(word);
  return area;
}

PackedMask packed_from_rle(const data::Rle& rle) {
  data::rle_check(rle, "packed_from_rle");
  PackedMask mask = packed_empty(rle.height, rle.width);
  data::rle_to_bits(rle, mask.words.data());
  return mask;
}

data::Rle packed_to_rle(const PackedMask& mask) {
  // Walk the run boundaries: in each word, the next bit that differs from the current
  // value is found with one count-trailing-zeros, so the cost is words + runs, not pixels.
  data::Rle rle{mask.height, mask.width, {}};
  const int64_t pixels = mask.height * mask.width;
  uint64_t current = 0;  // runs start with zeros
  int64_t run_start = 0;
  for (int64_t w = 0; w * 64 < pixels; ++w) {
    const int64_t valid = std::min<int64_t>(64, pixels - w * 64);
    uint64_t word = mask.words[static_cast<size_t>(w)];
    int64_t bit = 0;
    while (bit < valid) {
      // Bits equal to `current` read as 0 after the XOR; the first 1 is the next boundary.
      uint64_t differs = (current ? ~word : word) >> bit;
      if (valid - bit < 64) differs &= (uint64_t{1} << (valid - bit)) - 1;
      if (differs == 0) break;
      bit += __builtin_ctzll(differs);
      const int64_t position = w * 64 + bit;
      rle.counts.push_back(static_cast<uint32_t>(position - run_start));
      run_start = position;
      current ^= 1;
    }
  }
  rle.counts.push_back(static_cast<uint32_t>(pixels - run_start));
  return rle;
}

void masks_to_packed_tensor(const std::vector<PackedMask>& masks, Tensor& packed, Tensor& areas) {
  const int64_t n = static_cast<int64_t>(masks.size());
  const int64_t words = n == 0 ? 1 : packed_words(masks[0].height, masks[0].width);
  ensure_tensor(packed, {n, words}, DType::int64, Device::cpu);
  ensure_tensor(areas, {n}, DType::int64, Device::cpu);
  for (int64_t i = 0; i < n; ++i) {
    const PackedMask& mask = masks[static_cast<size_t>(i)];
    WISE_CHECK(mask.height == masks[0].height && mask.width == masks[0].width, "masks_to_packed_tensor: mask ", i,
               " is ", mask.height, " x ", mask.width, ", expected ", masks[0].height, " x ", masks[0].width);
    std::memcpy(packed.data<int64_t>() + i * words, mask.words.data(), static_cast<size_t>(words) * 8);
    areas.data<int64_t>()[i] = packed_area(mask);
  }
}

}  // namespace wise::proposals
