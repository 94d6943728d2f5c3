// Parsing `--shard i/n` (see shard.h).
#include "proposals/shard.h"

#include <cstdlib>
#include <set>
#include <stdexcept>

namespace wise::proposals {

Shard parse_shard(const std::string& text) {
  const size_t slash = text.find('/');
  auto fail = [&](const std::string& why) -> Shard {
    throw std::invalid_argument("shard \"" + text + "\": " + why + ", expected i/n with 0 <= i < n (e.g. 0/4)");
  };
  if (slash == std::string::npos) return fail("no '/'");
  auto parse = [&](const std::string& part) -> int64_t {
    if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::strtoll(part.c_str(), nullptr, 10);
  };
  const int64_t index = parse(text.substr(0, slash)), count = parse(text.substr(slash + 1));
  if (index < 0 || count < 0) return fail("not two non-negative integers");
  if (count == 0) return fail("n is 0");
  if (index >= count) return fail("i is not below n");
  return Shard{index, count};
}

data::Dataset images_of_shard(const data::Dataset& dataset, const Shard& shard) {
  data::Dataset part;
  part.categories = dataset.categories;
  std::set<int64_t> kept;
  for (size_t p = 0; p < dataset.images.size(); ++p) {
    if (!shard.contains(static_cast<int64_t>(p))) continue;
    part.images.push_back(dataset.images[p]);
    kept.insert(dataset.images[p].id);
  }
  for (const data::Annotation& annotation : dataset.annotations) {
    if (kept.count(annotation.image_id) != 0) part.annotations.push_back(annotation);
  }
  return part;
}

}  // namespace wise::proposals
