// The shape of a tensor: up to kMaxRank sizes, stored inline (no heap).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

namespace wise {

class Shape {
 public:
  static constexpr int kMaxRank = 6;

  Shape() = default;
  Shape(std::initializer_list<int64_t> sizes);
  explicit Shape(const std::vector<int64_t>& sizes);

  int rank() const { return rank_; }
  // Size of dimension `axis`; negative axes count from the end (-1 = last).
  int64_t operator[](int axis) const { return sizes_[normalize_axis(axis)]; }
  int64_t numel() const;
  std::vector<int64_t> to_vector() const { return {sizes_, sizes_ + rank_}; }
  std::string to_string() const;  // "[2, 3, 4]"

  bool operator==(const Shape& other) const;
  bool operator!=(const Shape& other) const { return !(*this == other); }

 private:
  int normalize_axis(int axis) const;

  int64_t sizes_[kMaxRank] = {};
  int rank_ = 0;
};

inline std::ostream& operator<<(std::ostream& out, const Shape& shape) {
  return out << shape.to_string();
}

}  // namespace wise
