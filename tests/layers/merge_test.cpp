// Merge layers (Add, Subtract, Multiply, Average, Maximum) and Concatenate
// on several axes: gradients, values, shapes with None, masks, errors.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <algorithm>
#include <cmath>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_gradients_match;
using seqnet::testing::expect_near;
using seqnet::testing::random_tensor;
using seqnet::testing::run;

namespace {
std::vector<Tensor> three(const Shape& s, uint64_t seed) {
  return {random_tensor(s, seed), random_tensor(s, seed + 1), random_tensor(s, seed + 2)};
}
}  // namespace

TEST(Merge, GradientsAdd) {
  layers::Add a;
  expect_gradients_match(a, three({2, 3, 4}, 1), {});
  expect_gradients_match(a, {random_tensor({2, 5}, 4), random_tensor({2, 5}, 5)}, {});
}

TEST(Merge, GradientsSubtract) {
  layers::Subtract s;
  expect_gradients_match(s, {random_tensor({2, 3, 4}, 6), random_tensor({2, 3, 4}, 7)}, {});
}

TEST(Merge, GradientsMultiply) {
  layers::Multiply m;
  expect_gradients_match(m, three({2, 3, 2}, 8), {});
  expect_gradients_match(m, {random_tensor({3, 4}, 11), random_tensor({3, 4}, 12)}, {});
}

TEST(Merge, GradientsAverage) {
  layers::Average a;
  expect_gradients_match(a, three({2, 2, 3}, 13), {});
}

TEST(Merge, GradientsMaximum) {
  // Inputs on separate value grids so no two are within eps of each other
  // (the maximum has a kink where they tie).
  layers::Maximum m;
  std::vector<Tensor> in = three({2, 3, 2}, 16);
  for (size_t k = 0; k < in.size(); ++k)
    for (float& v : in[k]) v = std::round(v * 10.0f) / 10.0f + 0.03f * static_cast<float>(k);
  expect_gradients_match(m, in, {});
}

TEST(Merge, Values) {
  const Tensor a({2, 2}, {1, -2, 3, 4}), b({2, 2}, {5, 6, -7, 8}), c({2, 2}, {0, 1, 2, -3});
  layers::Add add;
  layers::Subtract sub;
  layers::Multiply mul;
  layers::Average ave;
  layers::Maximum mx;
  expect_near(run(add, {a, b, c})[0], Tensor({2, 2}, {6, 5, -2, 9}), 0, "add");
  expect_near(run(sub, {a, b})[0], Tensor({2, 2}, {-4, -8, 10, -4}), 0, "subtract");
  expect_near(run(mul, {a, b, c})[0], Tensor({2, 2}, {0, -12, -42, -96}), 0, "multiply");
  expect_near(run(ave, {a, b, c})[0], Tensor({2, 2}, {2, 5.0f / 3, -2.0f / 3, 3}), 1e-6, "average");
  expect_near(run(mx, {a, b, c})[0], Tensor({2, 2}, {5, 6, 3, 8}), 0, "maximum");
}

TEST(Merge, MaximumGradientGoesToTheLargestInput) {
  layers::Maximum mx;
  const Tensor a({1, 3}, {1, 5, 2}), b({1, 3}, {3, 4, 2});
  auto cache = mx.make_cache();
  CallArgs train;
  train.training = true;
  mx.forward({a, b}, train, cache.get());
  const auto g = mx.backward({Tensor({1, 3}, {10, 20, 30})}, *cache);
  expect_near(g[0], Tensor({1, 3}, {0, 20, 30}), 0, "a (ties go to the first input)");
  expect_near(g[1], Tensor({1, 3}, {10, 0, 0}), 0, "b");
}

TEST(Merge, ShapesAndMasks) {
  clear_session();
  layers::Add add;
  EXPECT_EQ(add.name(), "add");
  EXPECT_EQ(add.compute_output_shapes({{None, None, 4}, {None, 7, 4}}), (std::vector<Shape>{{None, 7, 4}}));
  layers::Multiply mul;
  EXPECT_EQ(mul.name(), "multiply");
  EXPECT_EQ(mul.compute_output_shapes({{3, 4}, {None, 4}, {3, None}}), (std::vector<Shape>{{3, 4}}));
  const Tensor m1({1, 3}, {1, 1, 0}), m2({1, 3}, {0, 1, 1});
  expect_near(add.compute_mask({}, {m1, m2}), Tensor({1, 3}, {0, 1, 0}), 0, "AND of masks");
  expect_near(add.compute_mask({}, {m1, Tensor()}), m1, 0, "one mask");
  EXPECT_TRUE(add.compute_mask({}, {Tensor(), Tensor()}).empty());
  EXPECT_THROW_MSG(add.compute_mask({}, {m1, Tensor({1, 4})}), ShapeError, "Add \"add\"", "(1, 3)", "(1, 4)");
  layers::Concatenate cat;
  expect_near(cat.compute_mask({}, {m1, m2}), Tensor({1, 3}, {0, 1, 0}), 0, "concatenate mask");
  EXPECT_EQ(layers::Subtract().name(), "subtract");
  EXPECT_EQ(layers::Average().name(), "average");
  EXPECT_EQ(layers::Maximum().name(), "maximum");
  EXPECT_EQ(cat.name(), "concatenate");
}

TEST(Merge, Errors) {
  clear_session();
  layers::Add add;
  EXPECT_THROW_MSG(run(add, {Tensor({2, 3}), Tensor({2, 4})}), ShapeError, "Add \"add\"", "(2, 3)", "(2, 4)");
  EXPECT_THROW_MSG(run(add, {Tensor({2, 3})}), ValueError, "Add \"add\"", "at least 2", "got 1");
  EXPECT_THROW_MSG(add.compute_output_shapes({{None, 3}, {None, 3, 1}}), ShapeError, "Add \"add\"", "(None, 3, 1)");
  run(add, {Tensor({2, 3}), Tensor({2, 3})});  // built
  EXPECT_THROW_MSG(run(add, {Tensor({2, 3}), Tensor({3, 3})}), ShapeError, "Add \"add\"", "(3, 3)");
  layers::Subtract sub;
  EXPECT_THROW_MSG(run(sub, {Tensor({2, 3}), Tensor({2, 3}), Tensor({2, 3})}), ValueError, "Subtract \"subtract\"",
                   "2 input tensors", "got 3");
  layers::Multiply mul;
  EXPECT_THROW_MSG(run(mul, {Tensor({2, 3, 4}), Tensor({2, 3, 5})}), ShapeError, "Multiply \"multiply\"",
                   "(2, 3, 4)", "(2, 3, 5)");
  auto cache = mul.make_cache();
  EXPECT_THROW_MSG(mul.backward({Tensor({2, 3})}, *cache), Error, "Multiply", "training = true");
}

// ---------------------------------------------------------------------------
// Concatenate

TEST(Concatenate, GradientsSeveralAxes) {
  layers::Concatenate last;  // axis -1
  expect_gradients_match(last, {random_tensor({2, 3, 2}, 20), random_tensor({2, 3, 4}, 21)}, {});
  layers::Concatenate time(1);
  expect_gradients_match(time, {random_tensor({2, 1, 3}, 22), random_tensor({2, 4, 3}, 23), random_tensor({2, 2, 3}, 24)},
                         {});
  layers::Concatenate feat(2);
  expect_gradients_match(feat, {random_tensor({2, 2, 3}, 25), random_tensor({2, 2, 1}, 26)}, {});
  layers::Concatenate mat(1);
  expect_gradients_match(mat, {random_tensor({3, 2}, 27), random_tensor({3, 5}, 28)}, {});
  layers::Concatenate neg(-2);
  expect_gradients_match(neg, {random_tensor({2, 2, 3}, 29), random_tensor({2, 3, 3}, 30)}, {});
}

TEST(Concatenate, Values) {
  const Tensor a({2, 1, 2}, {1, 2, 3, 4}), b({2, 2, 2}, {5, 6, 7, 8, 9, 10, 11, 12});
  layers::Concatenate time(1);
  expect_near(run(time, {a, b})[0], Tensor({2, 3, 2}, {1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12}), 0, "axis 1");
  const Tensor c({2, 1, 1}, {-1, -2});
  layers::Concatenate last;
  expect_near(run(last, {a, c})[0], Tensor({2, 1, 3}, {1, 2, -1, 3, 4, -2}), 0, "axis -1");
  EXPECT_EQ(last.axis(), -1);
}

TEST(Concatenate, Shapes) {
  layers::Concatenate last;
  EXPECT_EQ(last.compute_output_shapes({{None, None, 3}, {None, None, 5}}), (std::vector<Shape>{{None, None, 8}}));
  layers::Concatenate time(1);
  EXPECT_EQ(time.compute_output_shapes({{None, 4, 3}, {None, 2, 3}}), (std::vector<Shape>{{None, 6, 3}}));
  EXPECT_EQ(time.compute_output_shapes({{None, None, 3}, {None, 2, 3}}), (std::vector<Shape>{{None, None, 3}}));
}

TEST(Concatenate, Errors) {
  clear_session();
  layers::Concatenate last;
  EXPECT_THROW_MSG(run(last, {Tensor({2, 3, 4}), Tensor({2, 5, 4})}), ShapeError, "Concatenate \"concatenate\"",
                   "(2, 3, 4)", "(2, 5, 4)");
  EXPECT_THROW_MSG(run(last, {Tensor({2, 3, 4}), Tensor({2, 3})}), ShapeError, "Concatenate", "(2, 3)");
  EXPECT_THROW_MSG(run(last, {Tensor({2, 3, 4})}), ValueError, "Concatenate", "at least 2");
  layers::Concatenate batch(0);
  EXPECT_THROW_MSG(run(batch, {Tensor({2, 3}), Tensor({2, 3})}), ValueError, "Concatenate \"concatenate_1\"",
                   "axis", "0");
  layers::Concatenate far(3);
  EXPECT_THROW_MSG(run(far, {Tensor({2, 3}), Tensor({2, 3})}), ValueError, "Concatenate", "axis", "3", "rank 2");
  layers::Concatenate neg(-3);
  EXPECT_THROW_MSG(run(neg, {Tensor({2, 3}), Tensor({2, 3})}), ValueError, "Concatenate", "-3");
}
