// Activation layer: gradients for every activation (inputs kept away from
// kinks), values against the ops, shapes, names, errors.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <cmath>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_gradients_match;
using seqnet::testing::expect_near;
using seqnet::testing::random_tensor;

namespace {
const char* const kActivations[] = {"linear",   "tanh",     "sigmoid", "hard_sigmoid", "keras3_hard_sigmoid",
                                    "relu",     "elu",      "selu",    "softplus",     "softsign",
                                    "softmax"};
}  // namespace

class ActivationLayer : public ::testing::TestWithParam<const char*> {};
INSTANTIATE_TEST_SUITE_P(Activation, ActivationLayer, ::testing::ValuesIn(kActivations),
                         [](const ::testing::TestParamInfo<const char*>& i) { return std::string(i.param); });

TEST_P(ActivationLayer, Gradients) {
  // |x| in [0.1, 2.2]: away from 0 (relu, selu) and from +-2.5 (hard_sigmoid),
  // and covering both linear pieces of hard_sigmoid's middle part... and a
  // saturated part checked separately below.
  layers::Activation a(GetParam());
  expect_gradients_match(a, {seqnet::testing::random_away_from_zero({2, 3, 4}, 1, 0.1f, 2.2f)}, {});
}

TEST_P(ActivationLayer, Gradients2D) {
  layers::Activation a(GetParam());
  expect_gradients_match(a, {seqnet::testing::random_away_from_zero({3, 5}, 2, 0.1f, 2.2f)}, {});
}

TEST_P(ActivationLayer, ForwardMatchesReference) {
  layers::Activation a(GetParam());
  const Tensor x = random_tensor({2, 3, 4}, 3, -4.0f, 4.0f);
  const Tensor y = a.forward(x);
  const std::string name = GetParam();
  Tensor want(x.shape());
  if (name == "softmax") {
    for (int64_t r = 0; r < 6; ++r) {
      double s = 0;
      for (int64_t j = 0; j < 4; ++j) s += std::exp(static_cast<double>(x[r * 4 + j]));
      for (int64_t j = 0; j < 4; ++j) want[r * 4 + j] = static_cast<float>(std::exp(x[r * 4 + j]) / s);
    }
  } else {
    for (int64_t i = 0; i < x.size(); ++i) want[i] = static_cast<float>(seqnet::testing::ref_activation(name, x[i]));
  }
  expect_near(y, want, 2e-6, name);
  EXPECT_EQ(ops::activation_name(a.activation()), name);
}

TEST(Activation, HardSigmoidSaturatedGradientIsZero) {
  layers::Activation a("hard_sigmoid");
  const Tensor x({1, 4}, {-4.0f, -3.0f, 3.0f, 5.0f});
  expect_gradients_match(a, {x}, {});
  auto cache = a.make_cache();
  CallArgs train;
  train.training = true;
  a.forward({x}, train, cache.get());
  const auto g = a.backward({Tensor::ones({1, 4})}, *cache);
  for (float v : g[0]) EXPECT_EQ(v, 0.0f);
}

TEST(Activation, NamesShapesAndMask) {
  clear_session();
  layers::Activation a("relu"), b("");
  EXPECT_EQ(a.name(), "activation");
  EXPECT_EQ(b.name(), "activation_1");
  EXPECT_EQ(b.activation(), ops::Act::Linear);
  EXPECT_EQ(a.compute_output_shapes({{None, None, 3}}), (std::vector<Shape>{{None, None, 3}}));
  EXPECT_TRUE(a.params().empty());
  const Tensor m({1, 2}, {1, 0});
  expect_near(a.compute_mask({}, {m}), m, 0, "mask passes through");
}

TEST(Activation, Errors) {
  clear_session();
  EXPECT_THROW_MSG(layers::Activation("swish2"), ValueError, "Activation \"activation\"", "'swish2'", "'tanh'");
  layers::Activation a("tanh");
  auto cache = a.make_cache();
  EXPECT_THROW_MSG(a.backward({Tensor({1, 2})}, *cache), Error, "Activation \"activation_1\"", "training = true");
  EXPECT_THROW_MSG(a.compute_output_shapes({{}}), ShapeError, "Activation \"activation_1\"", "scalar");
  CallArgs train;
  train.training = true;
  a.forward({Tensor({1, 2})}, train, cache.get());
  EXPECT_THROW_MSG(a.backward({Tensor({2, 1})}, *cache), ShapeError, "(1, 2)", "(2, 1)");
  // A built layer still validates every call.
  EXPECT_THROW_MSG(seqnet::testing::run(a, {Tensor({1, 2}), Tensor({1, 2})}), ValueError,
                   "Activation \"activation_1\"", "1 input tensor", "got 2");
}
