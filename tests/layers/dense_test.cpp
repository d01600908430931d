// Dense: gradients for 2-D and 3-D inputs, every activation (softmax
// included) and use_bias = false; values against a reference; regularizers;
// shapes, names, parameter counts; errors.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <cmath>
#include <limits>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_gradients_match;
using seqnet::testing::expect_near;
using seqnet::testing::random_tensor;
using seqnet::testing::run;

namespace {

const char* const kActivations[] = {"linear", "tanh",     "sigmoid",  "hard_sigmoid", "relu",
                                    "elu",    "selu",     "softplus", "softsign",     "softmax"};

// y = act(x W + b) in double; also the smallest distance of a pre-activation
// to a kink of the activation.
Tensor reference(layers::Dense& d, const Tensor& x, double* margin = nullptr) {
  const Tensor& W = seqnet::testing::param_at(d, "kernel").value;
  const Param* b = d.options().use_bias ? &seqnet::testing::param_at(d, "bias") : nullptr;
  const int64_t I = W.dim(0), U = W.dim(1), N = x.size() / I;
  const std::string act = ops::activation_name(d.activation());
  Shape s = x.shape();
  s.back() = U;
  Tensor y(s);
  double m = std::numeric_limits<double>::infinity();
  for (int64_t n = 0; n < N; ++n) {
    std::vector<double> z(U);
    for (int64_t u = 0; u < U; ++u) {
      double v = b ? b->value[u] : 0.0;
      for (int64_t i = 0; i < I; ++i) v += static_cast<double>(x[n * I + i]) * W.at(i, u);
      z[u] = v;
      m = std::min(m, seqnet::testing::kink_distance(act, v));
    }
    if (act == "softmax") {
      double mx = -1e300, sum = 0;
      for (double v : z) mx = std::max(mx, v);
      for (double& v : z) sum += (v = std::exp(v - mx));
      for (int64_t u = 0; u < U; ++u) y[n * U + u] = static_cast<float>(z[u] / sum);
    } else {
      for (int64_t u = 0; u < U; ++u) y[n * U + u] = static_cast<float>(seqnet::testing::ref_activation(act, z[u]));
    }
  }
  if (margin) *margin = m;
  return y;
}

// A Dense layer with weights such that no pre-activation of `x` is within
// 0.05 of a kink (relu / selu at 0, hard_sigmoid at +-2.5).
void pick_kink_free_weights(layers::Dense& d, const Tensor& x) {
  d.compute_output_shapes({x.shape()});
  for (uint64_t s = 1; s < 1000; ++s) {
    seqnet::testing::randomize_params(d, s, -0.8f, 0.8f);
    double m = 0;
    reference(d, x, &m);
    if (m > 0.05) return;
  }
  FAIL() << "no kink-free weights found";
}

}  // namespace

class DenseActivations : public ::testing::TestWithParam<const char*> {};
INSTANTIATE_TEST_SUITE_P(Dense, DenseActivations, ::testing::ValuesIn(kActivations),
                         [](const ::testing::TestParamInfo<const char*>& i) { return std::string(i.param); });

TEST_P(DenseActivations, Gradients2D) {
  layers::Dense d(4, {.activation = GetParam()});
  const Tensor x = random_tensor({3, 5}, 1);
  pick_kink_free_weights(d, x);
  expect_gradients_match(d, {x}, {});
}

TEST_P(DenseActivations, Gradients3D) {
  layers::Dense d(3, {.activation = GetParam()});
  const Tensor x = random_tensor({2, 3, 4}, 2);
  pick_kink_free_weights(d, x);
  expect_gradients_match(d, {x}, {});
}

TEST_P(DenseActivations, ForwardMatchesReference) {
  layers::Dense d(6, {.activation = GetParam(), .bias_initializer = Initializer::random_uniform(-1, 1)});
  const Tensor x = random_tensor({2, 3, 5}, 3, -3.0f, 3.0f);
  const Tensor y = d.forward(x);
  expect_near(y, reference(d, x), 2e-6, GetParam());
}

TEST(Dense, GradientsNoBias) {
  layers::Dense d(4, {.activation = "tanh", .use_bias = false});
  expect_gradients_match(d, {random_tensor({3, 5}, 4)}, {});
  EXPECT_EQ(d.params().size(), 1u);
  layers::Dense s(3, {.activation = "softmax", .use_bias = false});
  expect_gradients_match(s, {random_tensor({2, 2, 4}, 5)}, {});
}

TEST(Dense, GradientsRank4Input) {
  layers::Dense d(2, {.activation = "sigmoid"});
  expect_gradients_match(d, {random_tensor({2, 2, 3, 3}, 6)}, {});
}

TEST(Dense, SoftmaxRowsSumToOne) {
  layers::Dense d(7, {.activation = "softmax"});
  const Tensor y = d.forward(random_tensor({3, 4, 5}, 7, -10.0f, 10.0f));
  for (int64_t r = 0; r < 12; ++r) {
    double s = 0;
    for (int64_t j = 0; j < 7; ++j) s += y[r * 7 + j];
    EXPECT_NEAR(s, 1.0, 1e-6);
  }
}

TEST(Dense, Regularizers) {
  layers::Dense d(3, {.kernel_regularizer = regularizers::l1_l2(0.01f, 0.02f), .bias_regularizer = "l2"});
  d.compute_output_shapes({{None, 4}});
  seqnet::testing::randomize_params(d, 8);
  double want = 0;
  for (float v : seqnet::testing::param_at(d, "kernel").value) want += 0.01 * std::abs(v) + 0.02 * v * v;
  for (float v : seqnet::testing::param_at(d, "bias").value) want += 0.01 * v * v;
  EXPECT_NEAR(d.regularization_penalty(), want, 1e-6);
  seqnet::testing::expect_regularization_gradients_match(d);
  // No regularizer: zero penalty, no gradient.
  layers::Dense plain(3);
  plain.compute_output_shapes({{None, 4}});
  EXPECT_EQ(plain.regularization_penalty(), 0.0);
  plain.add_regularization_gradients();
  for (Param* p : plain.params())
    for (float v : p->grad) EXPECT_EQ(v, 0.0f);
}

TEST(Dense, ShapesNamesCounts) {
  clear_session();
  layers::Dense d(10);
  EXPECT_EQ(d.name(), "dense");
  EXPECT_EQ(d.compute_output_shapes({{None, 16}}), (std::vector<Shape>{{None, 10}}));
  EXPECT_EQ(d.count_params(), 170);
  EXPECT_EQ(seqnet::testing::param_shapes(d),
            (std::vector<std::pair<std::string, Shape>>{{"kernel", {16, 10}}, {"bias", {10}}}));
  EXPECT_EQ(d.compute_output_shapes({{None, None, 16}}), (std::vector<Shape>{{None, None, 10}}));
  EXPECT_EQ(d.compute_output_shapes({{4, 7, 16}}), (std::vector<Shape>{{4, 7, 10}}));
  layers::Dense one(1), one64(1);
  EXPECT_EQ(one.name(), "dense_1");
  one.compute_output_shapes({{None, 32}});
  one64.compute_output_shapes({{None, 64}});
  EXPECT_EQ(one.count_params(), 33);
  EXPECT_EQ(one64.count_params(), 65);
  // Keras defaults: glorot_uniform kernel, zero bias.
  const double limit = std::sqrt(6.0 / (16 + 10));
  for (float v : seqnet::testing::param_at(d, "kernel").value) EXPECT_LE(std::abs(v), limit);
  for (float v : seqnet::testing::param_at(d, "bias").value) EXPECT_EQ(v, 0.0f);
  EXPECT_EQ(d.activation(), ops::Act::Linear);
  // The input mask passes through.
  const Tensor m({2, 3}, {1, 1, 0, 1, 0, 0});
  expect_near(d.compute_mask({}, {m}), m, 0, "mask");
}

TEST(Dense, Errors) {
  clear_session();
  EXPECT_THROW_MSG(layers::Dense(0), ValueError, "Dense \"dense\"", "units", "got 0");
  EXPECT_THROW_MSG(layers::Dense(-2), ValueError, "Dense \"dense_1\"", "-2");
  EXPECT_THROW_MSG(layers::Dense(2, DenseOptions{.activation = "sofmax"}), ValueError, "Dense \"dense_2\"",
                   "activation", "'sofmax'", "'softmax'");
  EXPECT_THROW_MSG(layers::Dense(2, DenseOptions{.kernel_initializer = "xavier"}), ValueError, "kernel_initializer",
                   "'xavier'");
  EXPECT_THROW_MSG(layers::Dense(2, DenseOptions{.bias_initializer = Initializer::random_uniform(1, -1)}),
                   ValueError, "bias_initializer", "minval");
  EXPECT_THROW_MSG(layers::Dense(2, DenseOptions{.bias_regularizer = regularizers::l1(-0.5f)}), ValueError,
                   "bias_regularizer", "-0.5");
  clear_session();
  layers::Dense d(3);
  EXPECT_THROW_MSG(d.forward(Tensor({5})), ShapeError, "Dense \"dense\"", "rank >= 2", "(5,)");
  EXPECT_THROW_MSG(d.compute_output_shapes({{None, None}}), ShapeError, "Dense \"dense\"", "(None, None)");
  d.forward(Tensor({2, 16}));
  EXPECT_THROW_MSG(d.forward(Tensor({2, 12})), ShapeError, "Dense \"dense\"", "16 features", "(2, 12)");
  EXPECT_THROW_MSG(d.forward(Tensor({2, 4, 12})), ShapeError, "16", "(2, 4, 12)");
  EXPECT_THROW_MSG(run(d, {Tensor({2, 16}), Tensor({2, 16})}), ValueError, "Dense \"dense\"", "1 input tensor",
                   "got 2");
  auto cache = d.make_cache();
  EXPECT_THROW_MSG(d.backward({Tensor({2, 3})}, *cache), Error, "Dense \"dense\"", "training = true");
  CallArgs train;
  train.training = true;
  d.forward({Tensor({2, 16})}, train, cache.get());
  EXPECT_THROW_MSG(d.backward({Tensor({2, 4})}, *cache), ShapeError, "Dense \"dense\"", "(2, 3)", "(2, 4)");
  EXPECT_THROW_MSG(d.backward({Tensor({2, 3}), Tensor({2, 3})}, *cache), ValueError, "1 output gradient", "got 2");
  const auto g = d.backward({Tensor()}, *cache);  // no gradient: zeros
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].shape(), (Shape{2, 16}));
  for (float v : g[0]) EXPECT_EQ(v, 0.0f);
}
