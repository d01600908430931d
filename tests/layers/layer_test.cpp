// Layer base class: Keras default names, describe(), the calling protocol
// (caches, shared weights over several call sites, zero_grad, params).

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_near;
using seqnet::testing::random_tensor;

TEST(Layer, ToSnakeCase) {
  EXPECT_EQ(to_snake_case("LSTM"), "lstm");
  EXPECT_EQ(to_snake_case("GRU"), "gru");
  EXPECT_EQ(to_snake_case("SimpleRNN"), "simple_rnn");
  EXPECT_EQ(to_snake_case("TimeDistributed"), "time_distributed");
  EXPECT_EQ(to_snake_case("RepeatVector"), "repeat_vector");
  EXPECT_EQ(to_snake_case("Dense"), "dense");
  EXPECT_EQ(to_snake_case("Bidirectional"), "bidirectional");
  EXPECT_EQ(to_snake_case("GRUCell"), "gru_cell");
  EXPECT_EQ(to_snake_case("Conv2D"), "conv2d");
  EXPECT_EQ(to_snake_case("ReLU"), "re_lu");
  EXPECT_EQ(to_snake_case("PReLU"), "p_re_lu");
  EXPECT_EQ(to_snake_case("Conv1DTranspose"), "conv1d_transpose");
}

TEST(Layer, UniqueNamesAndClearSession) {
  clear_session();
  EXPECT_EQ(unique_name("lstm"), "lstm");
  EXPECT_EQ(unique_name("lstm"), "lstm_1");
  EXPECT_EQ(unique_name("dense"), "dense");
  EXPECT_EQ(unique_name("lstm"), "lstm_2");
  layers::LSTM l(2);
  EXPECT_EQ(l.name(), "lstm_3");
  layers::Dense d(2, {.name = "out"});
  EXPECT_EQ(d.name(), "out");
  EXPECT_EQ(d.describe(), "Dense \"out\"");
  layers::Dense d2(2);
  EXPECT_EQ(d2.name(), "dense_1");
  clear_session();
  EXPECT_EQ(unique_name("lstm"), "lstm");
  layers::TimeDistributed td(std::make_shared<layers::Dense>(2));
  EXPECT_EQ(td.name(), "time_distributed");
  layers::RepeatVector rv(2);
  EXPECT_EQ(rv.name(), "repeat_vector");
}

TEST(Layer, ParamsZeroGradCount) {
  layers::LSTM l(3);
  EXPECT_FALSE(l.built());
  EXPECT_EQ(l.count_params(), 0);
  EXPECT_TRUE(l.params().empty());
  l.compute_output_shapes({{None, None, 2}});
  EXPECT_TRUE(l.built());
  EXPECT_EQ(l.params().size(), 3u);
  EXPECT_EQ(l.count_params(), 4 * 3 * (2 + 3 + 1));
  for (Param* p : l.params()) {
    EXPECT_EQ(p->grad.shape(), p->value.shape());
    EXPECT_TRUE(p->trainable);
    p->grad.fill(1.0f);
  }
  l.zero_grad();
  for (Param* p : l.params())
    for (float v : p->grad) EXPECT_EQ(v, 0.0f);
  // Building is idempotent: a second compute_output_shapes keeps the weights.
  const Tensor k = l.kernel().value.clone();
  l.compute_output_shapes({{4, 5, 2}});
  expect_near(l.kernel().value, k, 0, "weights kept");
  EXPECT_EQ(l.params().size(), 3u);
}

TEST(Layer, SharedLayerTwoCallSitesAccumulate) {
  // One layer called at two places (two caches): backward of each adds into
  // the same gradients, and the sum equals the two gradients apart.
  layers::GRU g(3, {.return_sequences = true});
  const Tensor a = random_tensor({2, 4, 2}, 1), b = random_tensor({3, 2, 2}, 2);
  CallArgs train;
  train.training = true;
  auto ca = g.make_cache(), cb = g.make_cache();
  const Tensor ya = g.forward({a}, train, ca.get())[0];
  const Tensor yb = g.forward({b}, train, cb.get())[0];
  const Tensor da = random_tensor(ya.shape(), 3), db = random_tensor(yb.shape(), 4);
  g.zero_grad();
  const Tensor dxa = g.backward({da}, *ca)[0];
  const Tensor ga = g.kernel().grad.clone(), gua = g.recurrent_kernel().grad.clone();
  g.zero_grad();
  const Tensor dxb = g.backward({db}, *cb)[0];
  const Tensor gb = g.kernel().grad.clone();
  g.zero_grad();
  // Interleaved: both call sites, in reverse order.
  expect_near(g.backward({db}, *cb)[0], dxb, 0, "input gradient b");
  expect_near(g.backward({da}, *ca)[0], dxa, 0, "input gradient a");
  for (int64_t i = 0; i < ga.size(); ++i) EXPECT_NEAR(g.kernel().grad[i], ga[i] + gb[i], 1e-6);
  EXPECT_GT(max_abs_diff(gua, Tensor(gua.shape())), 0.0f);
}

TEST(Layer, ForwardConvenienceAndFreshOutputs) {
  layers::Dense d(2);
  const Tensor x = random_tensor({3, 4}, 5);
  const Tensor y1 = d.forward(x);
  const Tensor y2 = d.forward(x);
  EXPECT_FALSE(y1.shares_storage(y2)) << "forward() returns fresh outputs";
  expect_near(y1, y2, 0, "deterministic");
  layers::LSTM l(2);
  const Tensor s = random_tensor({2, 3, 4}, 6);
  const Tensor o1 = l.forward(s);
  const Tensor o2 = l.forward(s);
  EXPECT_FALSE(o1.shares_storage(o2));
  expect_near(o1, o2, 0, "deterministic");
}

TEST(Layer, EmptyInputIsAnError) {
  clear_session();
  layers::Dense d(2);
  EXPECT_THROW_MSG(d.forward(Tensor()), ValueError, "Dense \"dense\"", "input 0", "empty");
  EXPECT_THROW_MSG(seqnet::testing::run(d, {}), ValueError, "Dense \"dense\"", "1 input tensor", "got 0");
  layers::LSTM l(2);
  EXPECT_THROW_MSG(seqnet::testing::run(l, {}), ValueError, "LSTM \"lstm\"", "got 0 tensors");
  l.forward(Tensor({1, 2, 3}));
  EXPECT_THROW_MSG(seqnet::testing::run(l, {}), ValueError, "LSTM \"lstm\"", "got 0 tensors");
  CallArgs masked;
  masked.mask = Tensor({1, 2});
  EXPECT_THROW_MSG(l.forward({}, masked), ValueError, "LSTM \"lstm\"", "got 0 tensors");
}
