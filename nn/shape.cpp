#include "nn/shape.h"

#include "kernels/check.h"

namespace wise {

Shape::Shape(std::initializer_list<int64_t> sizes) : Shape(std::vector<int64_t>(sizes)) {}

Shape::Shape(const std::vector<int64_t>& sizes) {
  WISE_CHECK(sizes.size() <= kMaxRank, "a shape has at most ", kMaxRank, " dimensions, got ",
             sizes.size());
  for (int64_t size : sizes) {
    WISE_CHECK(size >= 0, "shape sizes must be >= 0, got ", size);
    sizes_[rank_++] = size;
  }
}

int64_t Shape::numel() const {
  int64_t count = 1;
  for (int i = 0; i < rank_; ++i) count *= sizes_[i];
  return count;
}

std::string Shape::to_string() const {
  std::string text = "[";
  for (int i = 0; i < rank_; ++i) text += (i ? ", " : "") + std::to_string(sizes_[i]);
  return text + "]";
}

bool Shape::operator==(const Shape& other) const {
  if (rank_ != other.rank_) return false;
  for (int i = 0; i < rank_; ++i) {
    if (sizes_[i] != other.sizes_[i]) return false;
  }
  return true;
}

int Shape::normalize_axis(int axis) const {
  const int normalized = axis < 0 ? axis + rank_ : axis;
  WISE_CHECK(normalized >= 0 && normalized < rank_, "axis ", axis, " is out of range for shape ",
             to_string());
  return normalized;
}

}  // namespace wise
