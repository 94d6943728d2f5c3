// Indexing layers (see indexing.h): shape, dtype, device and range checks around
// kernels/gather.h.
#include "nn/indexing.h"

#include <string>
#include <vector>

#include "kernels/gather.h"
#include "nn/ensure.h"

namespace wise {

namespace {

// The shape with its first axis replaced by `first`, and, when drop_second, its second
// removed: (N, D...) -> (K, D...), (K, C, D...) -> (K, D...).
Shape reshaped(const Shape& shape, int64_t first, bool drop_second) {
  std::vector<int64_t> dims{first};
  for (int axis = drop_second ? 2 : 1; axis < shape.rank(); ++axis) dims.push_back(shape[axis]);
  return Shape(dims);
}

int64_t trailing_numel(const Shape& shape, int from_axis) {
  int64_t numel = 1;
  for (int axis = from_axis; axis < shape.rank(); ++axis) numel *= shape[axis];
  return numel;
}

void require_plain_float(const Tensor& tensor, const char* what, int min_rank) {
  WISE_CHECK(tensor.defined(), what, " is undefined");
  WISE_CHECK(tensor.dtype() == DType::float32 && tensor.format() == MemoryFormat::plain &&
                 tensor.rank() >= min_rank,
             what, " must be plain float32 of rank >= ", min_rank, ", got ", tensor.describe());
}

// index (K) int64 on `device`; on the CPU every value in [0, limit) (and distinct).
void require_index(const Tensor& index, Device device, int64_t limit, bool distinct,
                   const char* what) {
  WISE_CHECK(index.defined(), what, " is undefined");
  WISE_CHECK(index.dtype() == DType::int64 && index.rank() == 1 && index.device() == device, what,
             " must be int64 (K) on ", kernels::device_name(device), ", got ", index.describe());
  if (device != Device::cpu) return;
  const int64_t* values = index.data<int64_t>();
  std::vector<bool> seen(distinct ? static_cast<size_t>(limit) : 0, false);
  for (int64_t k = 0; k < index.size(0); ++k) {
    WISE_CHECK(values[k] >= 0 && values[k] < limit, what, "[", k, "] = ", values[k],
               " is outside [0, ", limit, ")");
    if (!distinct) continue;
    WISE_CHECK(!seen[static_cast<size_t>(values[k])], what, "[", k, "] = ", values[k],
               " repeats an earlier index (the backward needs distinct rows)");
    seen[static_cast<size_t>(values[k])] = true;
  }
}

}  // namespace

void index_select_rows(const Tensor& input, const Tensor& index, Tensor& output) {
  require_plain_float(input, "index_select_rows: input", 1);
  const int64_t N = input.size(0), K = index.defined() ? index.numel() : 0;
  require_index(index, input.device(), N, /*distinct=*/false, "index_select_rows: index");
  const int64_t D = trailing_numel(input.shape(), 1);
  ensure_tensor(output, reshaped(input.shape(), K, false), DType::float32, input.device());
  kernels::gather_rows(input.device(), input.data<float>(), N, D, index.data<int64_t>(), K,
                       output.data<float>());
}

void index_select_rows_backward(const Tensor& d_output, const Tensor& index, Tensor& d_input) {
  require_plain_float(d_input, "index_select_rows_backward: d_input", 1);
  require_plain_float(d_output, "index_select_rows_backward: d_output", 1);
  const int64_t N = d_input.size(0), K = d_output.size(0);
  require_index(index, d_input.device(), N, /*distinct=*/true, "index_select_rows_backward: index");
  WISE_CHECK(d_output.device() == d_input.device() &&
                 d_output.shape() == reshaped(d_input.shape(), index.size(0), false),
             "index_select_rows_backward: d_output must have shape ",
             reshaped(d_input.shape(), index.size(0), false), " on d_input's device, got ",
             d_output.describe());
  kernels::scatter_add_rows(d_input.device(), d_output.data<float>(), K,
                            trailing_numel(d_input.shape(), 1), index.data<int64_t>(), N,
                            d_input.data<float>());
}

void select_class(const Tensor& input, const Tensor& labels, Tensor& output) {
  require_plain_float(input, "select_class: input", 2);
  const int64_t K = input.size(0), C = input.size(1);
  require_index(labels, input.device(), C, /*distinct=*/false, "select_class: labels");
  WISE_CHECK(labels.size(0) == K, "select_class: labels must have one entry per row of input ",
             input.describe(), ", got ", labels.describe());
  const int64_t D = trailing_numel(input.shape(), 2);
  ensure_tensor(output, reshaped(input.shape(), K, true), DType::float32, input.device());
  kernels::select_class(input.device(), input.data<float>(), K, C, D, labels.data<int64_t>(),
                        output.data<float>());
}

void select_class_backward(const Tensor& d_output, const Tensor& labels, Tensor& d_input) {
  require_plain_float(d_input, "select_class_backward: d_input", 2);
  require_plain_float(d_output, "select_class_backward: d_output", 1);
  const int64_t K = d_input.size(0), C = d_input.size(1);
  require_index(labels, d_input.device(), C, /*distinct=*/false, "select_class_backward: labels");
  WISE_CHECK(labels.size(0) == K && d_output.device() == d_input.device() &&
                 d_output.shape() == reshaped(d_input.shape(), K, true),
             "select_class_backward: d_output must have shape ", reshaped(d_input.shape(), K, true),
             " and labels ", K, " entries, got ", d_output.describe(), " and ", labels.describe());
  kernels::select_class_backward(d_input.device(), d_output.data<float>(), K, C,
                                 trailing_numel(d_input.shape(), 2), labels.data<int64_t>(),
                                 d_input.data<float>());
}

}  // namespace wise
