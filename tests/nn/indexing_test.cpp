// nn/indexing.h: index_select_rows and select_class, forward against hand-computed
// values, backward by finite differences (with pre-filled gradients: the += rule), and
// the CPU's range and distinctness errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nn/indexing.h"
#include "tests/support/devices.h"
#include "tests/support/gradient_checker.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

class IndexingLayer : public ::testing::TestWithParam<Device> {
 protected:
  void SetUp() override { WISE_SKIP_IF_UNAVAILABLE(GetParam()); }
  Device device() const { return GetParam(); }
};

TEST_P(IndexingLayer, IndexSelectRowsPicksRowsInIndexOrder) {
  // input (4, 2) = rows (0, 1), (10, 11), (20, 21), (30, 31)
  const Tensor input = on_device(std::vector<float>{0, 1, 10, 11, 20, 21, 30, 31}, {4, 2}, device());
  Tensor output;
  index_select_rows(input, on_device(std::vector<int64_t>{3, 0, 3, 1}, {4}, device()), output);
  EXPECT_EQ(output.shape(), Shape({4, 2}));
  EXPECT_EQ(host_floats(output), (std::vector<float>{30, 31, 0, 1, 30, 31, 10, 11}));
  // a 1-d input: single elements; an empty index: an empty output
  index_select_rows(input.reshape({8}), on_device(std::vector<int64_t>{7, 2}, {2}, device()), output);
  EXPECT_EQ(host_floats(output), (std::vector<float>{31, 10}));
  index_select_rows(input, on_device(std::vector<int64_t>{}, {0}, device()), output);
  EXPECT_EQ(output.shape(), Shape({0, 2}));
}

TEST_P(IndexingLayer, IndexSelectRowsBackwardAddsIntoTheSelectedRows) {
  Tensor d_input = on_device(std::vector<float>{1, 1, 1, 1, 1, 1}, {3, 2}, device());
  index_select_rows_backward(on_device(std::vector<float>{5, 6, 7, 8}, {2, 2}, device()),
                             on_device(std::vector<int64_t>{2, 0}, {2}, device()), d_input);
  EXPECT_EQ(host_floats(d_input), (std::vector<float>{8, 9, 1, 1, 6, 7}));
}

TEST_P(IndexingLayer, SelectClassPicksEachRowsLabel) {
  // input (2, 3, 2): row 0 classes (0, 1), (2, 3), (4, 5); row 1 (6, 7), (8, 9), (10, 11)
  std::vector<float> values(12);
  for (int i = 0; i < 12; ++i) values[static_cast<size_t>(i)] = static_cast<float>(i);
  const Tensor input = on_device(values, {2, 3, 2}, device());
  const Tensor labels = on_device(std::vector<int64_t>{2, 0}, {2}, device());
  Tensor output;
  select_class(input, labels, output);
  EXPECT_EQ(output.shape(), Shape({2, 2}));
  EXPECT_EQ(host_floats(output), (std::vector<float>{4, 5, 6, 7}));
  Tensor d_input = Tensor::zeros({2, 3, 2}, DType::float32, device());
  d_input.fill(0.5f);
  select_class_backward(on_device(std::vector<float>{1, 2, 3, 4}, {2, 2}, device()), labels, d_input);
  EXPECT_EQ(host_floats(d_input),
            (std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 0.5f, 0.5f, 0.5f, 0.5f}));
}

TEST_P(IndexingLayer, GradientsMatchFiniteDifferences) {
  const std::vector<int64_t> rows{4, 1, 3};  // distinct, as the backward requires
  const std::vector<int64_t> labels{1, 0, 2, 1};
  {
    DifferentiableOp op;
    op.name = "index_select_rows";
    op.inputs = {on_device(random_floats(5 * 3, 11), {5, 3}, device())};
    const Tensor index = on_device(rows, {3}, device());
    op.forward = [index](const std::vector<Tensor>& in, uint64_t) {
      Tensor out;
      index_select_rows(in[0], index, out);
      return std::vector<Tensor>{out};
    };
    op.backward = [index](const std::vector<Tensor>&, const std::vector<Tensor>&,
                          const std::vector<Tensor>& d_out, std::vector<Tensor>& d_in, uint64_t) {
      index_select_rows_backward(d_out[0], index, d_in[0]);
    };
    GradientCheckOptions check;
    check.seed = seed_from_name("IndexingLayer.index_select_rows");
    EXPECT_TRUE(gradients_match(check_gradients(op, check)));
  }
  {
    DifferentiableOp op;
    op.name = "select_class";
    op.inputs = {on_device(random_floats(4 * 3 * 2 * 2, 12), {4, 3, 2, 2}, device())};
    const Tensor label_tensor = on_device(labels, {4}, device());
    op.forward = [label_tensor](const std::vector<Tensor>& in, uint64_t) {
      Tensor out;
      select_class(in[0], label_tensor, out);
      return std::vector<Tensor>{out};
    };
    op.backward = [label_tensor](const std::vector<Tensor>&, const std::vector<Tensor>&,
                                 const std::vector<Tensor>& d_out, std::vector<Tensor>& d_in, uint64_t) {
      select_class_backward(d_out[0], label_tensor, d_in[0]);
    };
    GradientCheckOptions check;
    check.seed = seed_from_name("IndexingLayer.select_class");
    EXPECT_TRUE(gradients_match(check_gradients(op, check)));
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, IndexingLayer, ::testing::ValuesIn(all_devices()), device_test_name);

TEST(IndexingErrors, NameTheBadIndex) {
  const Tensor input = Tensor::zeros({3, 2});
  Tensor output;
  try {
    index_select_rows(input, Tensor::from_vector<int64_t>({2}, {0, 3}), output);
    FAIL() << "no error for index 3 of 3 rows";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("index[1] = 3 is outside [0, 3)"), std::string::npos)
        << error.what();
  }
  Tensor d_input = Tensor::zeros({3, 2});
  try {
    index_select_rows_backward(Tensor::zeros({2, 2}), Tensor::from_vector<int64_t>({2}, {1, 1}), d_input);
    FAIL() << "no error for a repeated index";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("repeats an earlier index"), std::string::npos) << error.what();
  }
  try {
    select_class(Tensor::zeros({2, 3, 4}), Tensor::from_vector<int64_t>({2}, {0, -1}), output);
    FAIL() << "no error for label -1";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("labels[1] = -1 is outside [0, 3)"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace wise::testing
