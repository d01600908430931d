// RepeatVector: gradients, values, shapes with None, errors.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_gradients_match;
using seqnet::testing::expect_near;
using seqnet::testing::random_tensor;

TEST(RepeatVector, Gradients) {
  layers::RepeatVector r(3);
  expect_gradients_match(r, {random_tensor({2, 4}, 1)}, {});
  layers::RepeatVector one(1);
  expect_gradients_match(one, {random_tensor({3, 2}, 2)}, {});
}

TEST(RepeatVector, Values) {
  layers::RepeatVector r(3);
  const Tensor y = r.forward(Tensor({2, 2}, {1, 2, 3, 4}));
  expect_near(y, Tensor({2, 3, 2}, {1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4}), 0, "repeat");
  auto cache = r.make_cache();
  CallArgs train;
  train.training = true;
  r.forward({Tensor({1, 2})}, train, cache.get());
  const Tensor g = r.backward({Tensor({1, 3, 2}, {1, 2, 3, 4, 5, 6})}, *cache)[0];
  expect_near(g, Tensor({1, 2}, {9, 12}), 0, "sum over the repeats");
}

TEST(RepeatVector, ShapesNames) {
  clear_session();
  layers::RepeatVector r(5);
  EXPECT_EQ(r.name(), "repeat_vector");
  EXPECT_EQ(r.n(), 5);
  EXPECT_EQ(r.compute_output_shapes({{None, 8}}), (std::vector<Shape>{{None, 5, 8}}));
  EXPECT_EQ(r.compute_output_shapes({{4, 8}}), (std::vector<Shape>{{4, 5, 8}}));
  EXPECT_TRUE(r.params().empty());
}

TEST(RepeatVector, Errors) {
  clear_session();
  EXPECT_THROW_MSG(layers::RepeatVector(0), ValueError, "RepeatVector \"repeat_vector\"", "`n`", "got 0");
  EXPECT_THROW_MSG(layers::RepeatVector(-4), ValueError, "-4");
  layers::RepeatVector r(2);
  EXPECT_THROW_MSG(r.forward(Tensor({2, 3, 4})), ShapeError, "RepeatVector \"repeat_vector_2\"",
                   "(batch, features)", "(2, 3, 4)");
  r.forward(Tensor({2, 3}));
  EXPECT_THROW_MSG(r.forward(Tensor({2, 3, 4})), ShapeError, "RepeatVector", "(2, 3, 4)");
  EXPECT_THROW_MSG(r.forward(Tensor({6})), ShapeError, "RepeatVector", "(6,)");
}
