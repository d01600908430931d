// Flatten and Reshape: gradients, values, shapes with None, errors.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_gradients_match;
using seqnet::testing::expect_near;
using seqnet::testing::random_tensor;

TEST(Flatten, GradientsAndValues) {
  layers::Flatten f;
  expect_gradients_match(f, {random_tensor({2, 3, 4}, 1)}, {});
  const Tensor x = random_tensor({2, 3, 4}, 2);
  const Tensor y = f.forward(x);
  ASSERT_EQ(y.shape(), (Shape{2, 12}));
  for (int64_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], x[i]);
  EXPECT_FALSE(y.shares_storage(x));
}

TEST(Flatten, Shapes) {
  clear_session();
  layers::Flatten f;
  EXPECT_EQ(f.name(), "flatten");
  EXPECT_EQ(f.compute_output_shapes({{None, 3, 4}}), (std::vector<Shape>{{None, 12}}));
  EXPECT_EQ(f.compute_output_shapes({{None, 2, 3, 4}}), (std::vector<Shape>{{None, 24}}));
  EXPECT_EQ(f.compute_output_shapes({{7, 5}}), (std::vector<Shape>{{7, 5}}));
  EXPECT_THROW_MSG(f.compute_output_shapes({{None, None, 4}}), ShapeError, "Flatten \"flatten\"",
                   "(None, None, 4)");
}

TEST(Reshape, GradientsAndValues) {
  layers::Reshape r({4, 3});
  expect_gradients_match(r, {random_tensor({2, 3, 4}, 3)}, {});
  layers::Reshape inferred({None, 2});
  expect_gradients_match(inferred, {random_tensor({2, 6}, 4)}, {});
  const Tensor x = random_tensor({2, 6}, 5);
  const Tensor y = inferred.forward(x);
  ASSERT_EQ(y.shape(), (Shape{2, 3, 2}));
  for (int64_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], x[i]);
}

TEST(Reshape, Shapes) {
  clear_session();
  layers::Reshape r({None, 4});
  EXPECT_EQ(r.name(), "reshape");
  EXPECT_EQ(r.compute_output_shapes({{None, 3, 8}}), (std::vector<Shape>{{None, 6, 4}}));
  EXPECT_EQ(r.compute_output_shapes({{None, None, 8}}), (std::vector<Shape>{{None, None, 4}}));
  layers::Reshape fixed({2, 3, 2});
  EXPECT_EQ(fixed.compute_output_shapes({{5, 12}}), (std::vector<Shape>{{5, 2, 3, 2}}));
  EXPECT_EQ(fixed.target_shape(), (Shape{2, 3, 2}));
}

TEST(Reshape, Errors) {
  clear_session();
  EXPECT_THROW_MSG(layers::Reshape({0, 3}), ValueError, "Reshape \"reshape\"", "target_shape", "(0, 3)");
  EXPECT_THROW_MSG(layers::Reshape({-2, 3}), ValueError, "Reshape \"reshape_1\"", "(-2, 3)");
  EXPECT_THROW_MSG(layers::Reshape({None, None}), ValueError, "Reshape \"reshape_2\"", "at most one");
  layers::Reshape r({5});
  EXPECT_THROW_MSG(r.forward(Tensor({2, 3, 2})), ShapeError, "Reshape \"reshape_3\"", "(2, 3, 2)", "(5,)");
  layers::Reshape inf({None, 4});
  EXPECT_THROW_MSG(inf.forward(Tensor({2, 6})), ShapeError, "Reshape \"reshape_4\"", "(2, 6)", "(None, 4)");
  layers::Reshape ok({6});
  ok.forward(Tensor({2, 2, 3}));
  EXPECT_THROW_MSG(ok.forward(Tensor({2, 7})), ShapeError, "Reshape \"reshape_5\"", "(2, 7)");
}
