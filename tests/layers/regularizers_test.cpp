// Regularizers: penalties and gradients (also by finite differences through
// a layer), Keras names and defaults, errors.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <cmath>

#include "support/gradcheck.hpp"

using namespace seqnet;

TEST(Regularizers, PenaltyAndGradientValues) {
  const Tensor w({4}, {1.0f, -2.0f, 0.0f, 0.5f});
  const Regularizer l1 = regularizers::l1(0.1f), l2 = regularizers::l2(0.2f), both = regularizers::l1_l2(0.1f, 0.2f);
  EXPECT_NEAR(l1.penalty(w), 0.1 * 3.5, 1e-7);
  EXPECT_NEAR(l2.penalty(w), 0.2 * 5.25, 1e-7);
  EXPECT_NEAR(both.penalty(w), 0.35 + 1.05, 1e-6);
  Tensor g({4}, {1, 1, 1, 1});  // gradients are added
  both.add_gradient(w, g);
  seqnet::testing::expect_near(g, Tensor({4}, {1 + 0.1f + 0.4f, 1 - 0.1f - 0.8f, 1.0f, 1 + 0.1f + 0.2f}), 1e-6,
                               "l1 sign(w) + 2 l2 w (sign(0) = 0)");
}

TEST(Regularizers, NamesAndDefaults) {
  const Regularizer a = "l1", b = "l2", c = "l1_l2", none = "none", empty = "";
  EXPECT_FLOAT_EQ(a.l1, 0.01f);
  EXPECT_EQ(a.l2, 0.0f);
  EXPECT_FLOAT_EQ(b.l2, 0.01f);
  EXPECT_EQ(b.l1, 0.0f);
  EXPECT_FLOAT_EQ(c.l1, 0.01f);
  EXPECT_FLOAT_EQ(c.l2, 0.01f);
  EXPECT_FALSE(none.active());
  EXPECT_FALSE(empty.active());
  EXPECT_FALSE(Regularizer().active());
  EXPECT_TRUE(a.active());
  EXPECT_EQ(regularizers::l2(), Regularizer::L2(0.01f));
  EXPECT_EQ(Regularizer::L1L2().l1, 0.01f);
}

TEST(Regularizers, Errors) {
  EXPECT_THROW_MSG(Regularizer("l3"), ValueError, "'l3'", "'l1'", "'l1_l2'");
  EXPECT_THROW_MSG(regularizers::l1(-0.1f).validate("GRU \"gru\": argument `kernel_regularizer`"), ValueError,
                   "GRU \"gru\": argument `kernel_regularizer`", "-0.1");
  EXPECT_THROW_MSG(regularizers::l2(INFINITY).validate("ctx"), ValueError, "ctx", "inf");
  EXPECT_THROW_MSG(regularizers::l2(std::nanf("")).validate("ctx"), ValueError, "ctx", "nan");
}

TEST(Regularizers, ThroughLayersByFiniteDifferences) {
  // Every layer with weights: the penalty equals the sum over its weights,
  // and add_regularization_gradients() is the penalty's gradient.
  const Regularizer r = regularizers::l1_l2(0.02f, 0.03f);
  layers::Dense dense(3, {.kernel_regularizer = r, .bias_regularizer = r});
  dense.compute_output_shapes({{None, 4}});
  layers::Embedding emb(6, 2, {.embeddings_regularizer = r});
  emb.compute_output_shapes({{None, 3}});
  layers::LSTM lstm(2, {.kernel_regularizer = r, .recurrent_regularizer = regularizers::l2(0.1f)});
  lstm.compute_output_shapes({{None, None, 3}});
  layers::GRU gru(2, {.bias_regularizer = regularizers::l1(0.1f)});
  gru.compute_output_shapes({{None, None, 3}});
  layers::Bidirectional bi(std::make_shared<layers::SimpleRNN>(2, SimpleRNNOptions{.kernel_regularizer = r}));
  bi.compute_output_shapes({{None, None, 3}});
  layers::TimeDistributed td(std::make_shared<layers::Dense>(2, DenseOptions{.kernel_regularizer = r}));
  td.compute_output_shapes({{None, None, 3}});
  Layer* all[] = {&dense, &emb, &lstm, &gru, &bi, &td};
  uint64_t seed = 1;
  for (Layer* l : all) {
    seqnet::testing::randomize_params(*l, seed++);
    const double p = seqnet::testing::expect_regularization_gradients_match(*l);
    EXPECT_GT(p, 0.0) << l->describe();
  }
  // Only regularized weights get a gradient.
  lstm.zero_grad();
  lstm.add_regularization_gradients();
  for (float v : lstm.bias()->grad) EXPECT_EQ(v, 0.0f);
  // Bidirectional: both directions carry the regularizer.
  double fw = 0, bw = 0;
  for (float v : bi.forward_layer().kernel().value) fw += 0.02 * std::abs(v) + 0.03 * v * v;
  for (float v : bi.backward_layer().kernel().value) bw += 0.02 * std::abs(v) + 0.03 * v * v;
  EXPECT_NEAR(bi.regularization_penalty(), fw + bw, 1e-6);
}
