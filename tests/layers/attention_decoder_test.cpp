#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_gradients_match;
using seqnet::testing::random_tensor;

TEST(AttentionDecoder, Gradients) {
  layers::AttentionDecoder l(4, 3);
  expect_gradients_match(l, {random_tensor({2, 4, 3}, 1)}, {});
}

TEST(AttentionDecoder, GradientsProbabilities) {
  layers::AttentionDecoder l(4, 3, {.return_probabilities = true});
  expect_gradients_match(l, {random_tensor({2, 4, 3}, 2)}, {});
}

TEST(AttentionDecoder, GradientsMasked) {
  layers::AttentionDecoder l(3, 2);
  Tensor mask({2, 4}, {1, 1, 1, 0, 1, 1, 0, 0});
  CallArgs args;
  args.mask = mask;
  expect_gradients_match(l, {random_tensor({2, 4, 3}, 3)}, args);
}

TEST(AttentionDecoder, ParamCountAndShapes) {
  layers::AttentionDecoder l(150, 50);
  auto out = l.compute_output_shapes({{None, 5, 150}});
  EXPECT_EQ(out[0], (Shape{None, 5, 50}));
  const int64_t U = 150, I = 150, O = 50;
  EXPECT_EQ(l.count_params(), U + U * U + I * U + U + 3 * (I * U + U * U + O * U + U) + I * O + U * O + O * O + O + I * U);
}
