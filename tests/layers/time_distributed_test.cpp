// TimeDistributed: gradients of TimeDistributed(Dense) and of other wrapped
// layers (Activation, Dropout, LSTM on 4-D input), per-step equivalence,
// shapes with None, names, counts, mask pass-through, errors.

#include <gtest/gtest.h>
#include <seqnet/detail/ops/gemm.hpp>
#include <seqnet/seqnet.hpp>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_gradients_match;
using seqnet::testing::expect_near;
using seqnet::testing::random_tensor;
using seqnet::testing::run;

TEST(TimeDistributed, GradientsDense) {
  auto td = std::make_shared<layers::TimeDistributed>(std::make_shared<layers::Dense>(3, DenseOptions{.activation = "tanh"}));
  expect_gradients_match(*td, {random_tensor({2, 4, 5}, 1)}, {});
}

TEST(TimeDistributed, GradientsDenseSoftmax) {
  auto td = std::make_shared<layers::TimeDistributed>(
      std::make_shared<layers::Dense>(4, DenseOptions{.activation = "softmax"}));
  expect_gradients_match(*td, {random_tensor({3, 2, 3}, 2)}, {});
}

TEST(TimeDistributed, GradientsActivationAndDropout) {
  layers::TimeDistributed a(std::make_shared<layers::Activation>("sigmoid"));
  expect_gradients_match(a, {random_tensor({2, 3, 4}, 3)}, {});
  layers::TimeDistributed d(std::make_shared<layers::Dropout>(0.4f));
  expect_gradients_match(d, {random_tensor({2, 3, 4}, 4)}, {});
}

TEST(TimeDistributed, GradientsLSTMOn4DInput) {
  // (B, T, T2, F): the LSTM runs over the inner time axis of each step.
  layers::TimeDistributed td(std::make_shared<layers::LSTM>(3));
  expect_gradients_match(td, {random_tensor({2, 3, 4, 2}, 5)}, {});
}

TEST(TimeDistributed, GradientsDenseOn4DInput) {
  layers::TimeDistributed td(std::make_shared<layers::Dense>(2, DenseOptions{.activation = "elu"}));
  expect_gradients_match(td, {random_tensor({2, 2, 3, 3}, 6)}, {});
}

TEST(TimeDistributed, EqualsTheLayerOnEachStep) {
  auto dense = std::make_shared<layers::Dense>(4, DenseOptions{.activation = "sigmoid"});
  layers::TimeDistributed td(dense);
  const Tensor x = random_tensor({2, 3, 5}, 7);
  const Tensor y = td.forward(x);
  ASSERT_EQ(y.shape(), (Shape{2, 3, 4}));
  for (int64_t t = 0; t < 3; ++t) {
    Tensor xt({2, 5});
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t f = 0; f < 5; ++f) xt.at(b, f) = x.at(b, t, f);
    const Tensor yt = dense->forward(xt);
    // Equal up to float rounding: the wrapper multiplies 6 rows at once and
    // the per-step call 2, which ops::gemm may route to different kernels
    // (small products go to Eigen), summing in a different order.
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t j = 0; j < 4; ++j) EXPECT_NEAR(y.at(b, t, j), yt.at(b, j), 2e-7f);
  }
  // The wrapped layer is shared: its weights are the wrapper's.
  EXPECT_EQ(&seqnet::testing::param_at(td, "kernel"), &seqnet::testing::param_at(*dense, "kernel"));
}

TEST(TimeDistributed, ShapesNamesCountsMask) {
  clear_session();
  layers::TimeDistributed td(std::make_shared<layers::Dense>(10));
  EXPECT_EQ(td.name(), "time_distributed");
  EXPECT_EQ(td.class_name(), "TimeDistributed");
  EXPECT_EQ(td.compute_output_shapes({{None, None, 16}}), (std::vector<Shape>{{None, None, 10}}));
  EXPECT_EQ(td.compute_output_shapes({{8, None, 16}}), (std::vector<Shape>{{8, None, 10}}));
  EXPECT_EQ(td.compute_output_shapes({{8, 5, 16}}), (std::vector<Shape>{{8, 5, 10}}));
  EXPECT_EQ(td.count_params(), 170);
  EXPECT_EQ(seqnet::testing::param_shapes(td),
            (std::vector<std::pair<std::string, Shape>>{{"kernel", {16, 10}}, {"bias", {10}}}));
  const Tensor m({2, 3}, {1, 1, 0, 1, 0, 0});
  expect_near(td.compute_mask({}, {m}), m, 0, "mask passes through");
  layers::TimeDistributed tl(std::make_shared<layers::LSTM>(4, LSTMOptions{.return_sequences = true}));
  EXPECT_EQ(tl.compute_output_shapes({{None, 6, None, 3}}), (std::vector<Shape>{{None, 6, None, 4}}));
  EXPECT_EQ(tl.name(), "time_distributed_1");
}

TEST(TimeDistributed, Errors) {
  clear_session();
  EXPECT_THROW_MSG(layers::TimeDistributed(nullptr), ValueError, "TimeDistributed \"time_distributed\"", "null");
  EXPECT_THROW_MSG(layers::TimeDistributed(std::make_shared<layers::LSTM>(2, LSTMOptions{.return_state = true})),
                   ValueError, "TimeDistributed", "single output", "3");
  clear_session();
  layers::TimeDistributed td(std::make_shared<layers::Dense>(3));
  EXPECT_THROW_MSG(td.forward(Tensor({2, 4})), ShapeError, "TimeDistributed \"time_distributed\"", "rank >= 3",
                   "(2, 4)");
  td.forward(Tensor({2, 3, 4}));
  EXPECT_THROW_MSG(td.forward(Tensor({2, 3, 5})), ShapeError, "Dense \"dense\"", "4 features");
  EXPECT_THROW_MSG(td.forward(Tensor({2, 3})), ShapeError, "TimeDistributed", "(2, 3)");
  auto cache = td.make_cache();
  EXPECT_THROW_MSG(td.backward({Tensor({2, 3, 3})}, *cache), Error, "TimeDistributed", "training = true");
  CallArgs train;
  train.training = true;
  td.forward({Tensor({2, 3, 4})}, train, cache.get());
  EXPECT_THROW_MSG(td.backward({Tensor({2, 3, 4})}, *cache), ShapeError, "TimeDistributed", "(2, 3, 3)",
                   "(2, 3, 4)");
}
