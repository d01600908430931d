// SimpleRNN (tanh and relu): finite-difference gradients for every option
// that changes the math, forward values against a double-precision
// reference, shapes, names, parameter counts, semantics and errors.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <cmath>
#include <limits>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::copy_params;
using seqnet::testing::expect_gradients_match;
using seqnet::testing::expect_near;
using seqnet::testing::kink_distance;
using seqnet::testing::random_tensor;
using seqnet::testing::ref_activation;
using seqnet::testing::run;

namespace {

struct Ref {
  Tensor seq;
  Tensor h;
  double margin = std::numeric_limits<double>::infinity();
};

Ref ref_rnn(layers::SimpleRNN& l, const Tensor& x, const Tensor& mask = {}, const Tensor& h0 = {}) {
  const auto& cfg = l.config();
  const int64_t B = x.dim(0), T = x.dim(1), I = x.dim(2), H = cfg.units;
  const Tensor& W = l.kernel().value;
  const Tensor& U = l.recurrent_kernel().value;
  const Param* bias = l.bias();
  Ref r;
  r.seq = Tensor({B, T, H});
  std::vector<double> h(B * H, 0.0), prev(B * H, 0.0);
  if (!h0.empty())
    for (int64_t i = 0; i < B * H; ++i) h[i] = h0[i];
  for (int64_t s = 0; s < T; ++s) {
    const int64_t t = cfg.go_backwards ? T - 1 - s : s;
    std::vector<double> hn = h;
    for (int64_t b = 0; b < B; ++b) {
      const bool real = mask.empty() || mask.at(b, t) != 0.0f;
      for (int64_t j = 0; j < H && real; ++j) {
        double z = bias != nullptr ? bias->value[j] : 0.0;
        for (int64_t i = 0; i < I; ++i) z += x.at(b, t, i) * W.at(i, j);
        for (int64_t k = 0; k < H; ++k) z += h[b * H + k] * U.at(k, j);
        r.margin = std::min(r.margin, kink_distance(cfg.activation, z));
        hn[b * H + j] = ref_activation(cfg.activation, z);
      }
      for (int64_t j = 0; j < H; ++j) {
        if (real) prev[b * H + j] = hn[b * H + j];
        r.seq.at(b, s, j) = (!real && cfg.zero_output_for_mask) ? 0.0f : static_cast<float>(prev[b * H + j]);
      }
    }
    h = hn;
  }
  r.h = Tensor({B, H});
  for (int64_t i = 0; i < B * H; ++i) r.h[i] = static_cast<float>(h[i]);
  return r;
}

Tensor holey_mask() { return Tensor({2, 4}, {1, 0, 1, 1, 1, 1, 0, 0}); }

CallArgs with_mask(const Tensor& m) {
  CallArgs a;
  a.mask = m;
  return a;
}

// Runs for activation tanh and relu. For relu the weights are re-drawn
// until no pre-activation of the checked call lies near the kink at 0.
class SimpleRNNTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::shared_ptr<layers::SimpleRNN> make(int64_t units, SimpleRNNOptions o = {}) {
    o.activation = GetParam();
    return std::make_shared<layers::SimpleRNN>(units, o);
  }
  void check(layers::SimpleRNN& l, const std::vector<Tensor>& in, const CallArgs& args = {},
             const seqnet::testing::GradCheckOptions& opts = {}) {
    l.compute_output_shapes({in[0].shape()});
    if (GetParam() == "relu") {
      const Tensor h0 = in.size() > 1 ? in[1] : Tensor();
      bool ok = false;
      for (uint64_t s = 1; s < 1000 && !ok; ++s) {
        seqnet::testing::randomize_params(l, s, -0.7f, 0.7f);
        ok = ref_rnn(l, in[0], args.mask, h0).margin > 0.06;
      }
      ASSERT_TRUE(ok) << "no kink-free weights found";
    }
    expect_gradients_match(l, in, args, opts);
  }
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Activation, SimpleRNNTest, ::testing::Values("tanh", "relu"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

TEST_P(SimpleRNNTest, GradientsReturnSequencesAndState) {
  auto l = make(4, {.return_sequences = true, .return_state = true});
  check(*l, {random_tensor({2, 3, 3}, 1)});
}

TEST_P(SimpleRNNTest, GradientsLastOutput) {
  auto l = make(4);
  check(*l, {random_tensor({2, 4, 3}, 2)});
}

TEST_P(SimpleRNNTest, GradientsStateOnly) {
  auto l = make(3, {.return_sequences = true, .return_state = true});
  check(*l, {random_tensor({2, 4, 2}, 3)}, {}, {.outputs = {1}});
}

TEST_P(SimpleRNNTest, GradientsGoBackwardsInitialState) {
  auto l = make(4, {.return_sequences = true, .return_state = true, .go_backwards = true});
  check(*l, {random_tensor({2, 3, 3}, 4), random_tensor({2, 4}, 5)});
}

TEST_P(SimpleRNNTest, GradientsMasks) {
  auto l = make(3, {.return_sequences = true, .return_state = true});
  check(*l, {random_tensor({3, 4, 2}, 6)}, with_mask(seqnet::testing::post_padding_mask({4, 2, 1}, 4)));
  auto h = make(3, {.return_sequences = true, .return_state = true, .go_backwards = true});
  check(*h, {random_tensor({2, 4, 2}, 7), random_tensor({2, 3}, 8)}, with_mask(holey_mask()));
  auto z = make(3, {.return_sequences = true, .zero_output_for_mask = true});
  check(*z, {random_tensor({2, 4, 2}, 9)}, with_mask(holey_mask()));
}

TEST_P(SimpleRNNTest, GradientsDropoutAndRecurrentDropout) {
  auto l = make(4, {.dropout = 0.3f, .recurrent_dropout = 0.4f, .return_sequences = true, .return_state = true});
  if (GetParam() == "relu") {
    // The reference does not know the dropout masks: keep every relu
    // pre-activation > 0.1 with positive inputs, weights and bias instead.
    const Tensor x = random_tensor({2, 4, 3}, 10, 0.1f, 1.0f);
    l->compute_output_shapes({x.shape()});
    seqnet::testing::randomize_params(*l, 18, 0.1f, 0.6f);
    expect_gradients_match(*l, {x}, {});
    return;
  }
  expect_gradients_match(*l, {random_tensor({2, 4, 3}, 10)}, {});
}

TEST_P(SimpleRNNTest, GradientsNoBias) {
  auto l = make(4, {.use_bias = false, .return_sequences = true});
  check(*l, {random_tensor({2, 3, 3}, 11)});
  EXPECT_EQ(l->bias(), nullptr);
}

TEST_P(SimpleRNNTest, ForwardMatchesReference) {
  auto l = make(5, {.return_sequences = true, .return_state = true, .go_backwards = true});
  const Tensor x = random_tensor({2, 4, 3}, 12), h0 = random_tensor({2, 5}, 13);
  l->compute_output_shapes({x.shape()});
  seqnet::testing::randomize_params(*l, 14);
  const auto out = l->forward({x, h0}, with_mask(holey_mask()));
  const Ref r = ref_rnn(*l, x, holey_mask(), h0);
  expect_near(out[0], r.seq, 1e-5, "sequence");
  expect_near(out[1], r.h, 1e-5, "h");
}

TEST_P(SimpleRNNTest, MaskedBatchMatchesUnpaddedSequences) {
  auto l = make(3, {.return_sequences = true, .return_state = true});
  seqnet::testing::expect_mask_matches_unpadded(*l, random_tensor({3, 5, 2}, 15), {5, 3, 1});
  auto back = make(3, {.return_state = true, .go_backwards = true});
  seqnet::testing::expect_mask_matches_unpadded(*back, random_tensor({3, 5, 2}, 16), {2, 5, 4});
}

TEST(SimpleRNN, GradientsRegularizers) {
  auto l = std::make_shared<layers::SimpleRNN>(3, SimpleRNNOptions{.kernel_regularizer = regularizers::l1_l2(),
                                                                   .recurrent_regularizer = "l2",
                                                                   .bias_regularizer = "l1"});
  expect_gradients_match(*l, {random_tensor({2, 3, 2}, 19)}, {});
  seqnet::testing::randomize_params(*l, 20);
  const double p = seqnet::testing::expect_regularization_gradients_match(*l);
  double want = 0;
  for (float v : l->kernel().value) want += 0.01 * std::abs(v) + 0.01 * v * v;
  for (float v : l->recurrent_kernel().value) want += 0.01 * v * v;
  for (float v : l->bias()->value) want += 0.01 * std::abs(v);
  EXPECT_NEAR(p, want, 1e-6);
}

TEST(SimpleRNN, RecurrentDropoutMaskIsFixedOverTime) {
  // h_t = x_t W + (h_{t-1} * m) U with W = U = I, linear activation, no bias,
  // x_0 = 1 and x_t = 0 after: h_t = m^t elementwise when the mask m is the
  // same at every step (m in {0, 1/(1-rate)}).
  const int64_t H = 32, T = 4;
  layers::SimpleRNN l(H, {.activation = "linear", .use_bias = false, .kernel_initializer = "identity",
                          .recurrent_initializer = "identity", .recurrent_dropout = 0.5f,
                          .return_sequences = true});
  Tensor x({1, T, H});
  for (int64_t j = 0; j < H; ++j) x.at(0, 0, j) = 1.0f;
  set_seed(5);
  const Tensor y = l.forward(x, true);
  int dropped = 0;
  for (int64_t j = 0; j < H; ++j) {
    const float m = y.at(0, 1, j);
    EXPECT_TRUE(m == 0.0f || m == 2.0f) << m;
    dropped += m == 0.0f;
    for (int64_t t = 2; t < T; ++t) EXPECT_FLOAT_EQ(y.at(0, t, j), std::pow(m, static_cast<float>(t))) << j;
  }
  EXPECT_GT(dropped, 4);
  EXPECT_LT(dropped, H - 4);
  // Inference: no dropout, h_t = 1 for all t.
  const Tensor yi = l.forward(x, false);
  for (float v : yi) EXPECT_EQ(v, 1.0f);
}

TEST(SimpleRNN, InputDropoutMaskIsFixedOverTimeAndScaled) {
  // W = I, U = 0, linear: h_t = x_t * m, with x_t = 1: every step equals m.
  const int64_t H = 32, T = 5;
  layers::SimpleRNN l(H, {.activation = "linear", .use_bias = false, .kernel_initializer = "identity",
                          .recurrent_initializer = "zeros", .dropout = 0.25f, .return_sequences = true});
  const Tensor x = Tensor::ones({2, T, H});
  set_seed(6);
  const Tensor y = l.forward(x, true);
  int dropped = 0;
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t j = 0; j < H; ++j) {
      const float m = y.at(b, 0, j);
      EXPECT_TRUE(m == 0.0f || std::abs(m - 1.0f / 0.75f) < 1e-6f) << m;
      dropped += m == 0.0f;
      for (int64_t t = 1; t < T; ++t) EXPECT_EQ(y.at(b, t, j), m);
    }
  EXPECT_GT(dropped, 4);
  EXPECT_LT(dropped, 2 * H / 2);
}

TEST(SimpleRNN, ParamCountsNamesShapes) {
  clear_session();
  layers::SimpleRNN l(32);
  l.compute_output_shapes({{None, None, 32}});
  EXPECT_EQ(l.count_params(), 2080);
  EXPECT_EQ(l.name(), "simple_rnn");
  EXPECT_EQ(l.class_name(), "SimpleRNN");
  layers::SimpleRNN l1(2);
  EXPECT_EQ(l1.name(), "simple_rnn_1");
  const auto ps = seqnet::testing::param_shapes(l);
  ASSERT_EQ(ps.size(), 3u);
  EXPECT_EQ(ps[0], (std::pair<std::string, Shape>{"kernel", {32, 32}}));
  EXPECT_EQ(ps[1], (std::pair<std::string, Shape>{"recurrent_kernel", {32, 32}}));
  EXPECT_EQ(ps[2], (std::pair<std::string, Shape>{"bias", {32}}));
  layers::SimpleRNN s(7, {.return_sequences = true, .return_state = true});
  const auto shapes = s.compute_output_shapes({{None, None, 3}});
  EXPECT_EQ(shapes, (std::vector<Shape>{{None, None, 7}, {None, 7}}));
  // Orthogonal square recurrent kernel: U^T U = I.
  const Tensor& U = l.recurrent_kernel().value;
  for (int64_t a = 0; a < 32; a += 5)
    for (int64_t b = 0; b < 32; b += 3) {
      double dot = 0;
      for (int64_t k = 0; k < 32; ++k) dot += static_cast<double>(U.at(k, a)) * U.at(k, b);
      EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-5);
    }
}

TEST(SimpleRNN, StatefulTwoHalvesEqualWhole) {
  layers::SimpleRNN whole(3, {.return_sequences = true});
  layers::SimpleRNN st(3, {.return_sequences = true, .stateful = true});
  const Tensor x = random_tensor({2, 4, 2}, 21);
  whole.compute_output_shapes({x.shape()});
  st.compute_output_shapes({x.shape()});
  copy_params(whole, st);
  const Tensor w = whole.forward(x);
  Tensor x1({2, 2, 2}), x2({2, 2, 2});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t t = 0; t < 2; ++t)
      for (int64_t f = 0; f < 2; ++f) {
        x1.at(b, t, f) = x.at(b, t, f);
        x2.at(b, t, f) = x.at(b, t + 2, f);
      }
  st.forward(x1);
  const Tensor y2 = st.forward(x2);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t t = 0; t < 2; ++t)
      for (int64_t j = 0; j < 3; ++j) EXPECT_NEAR(y2.at(b, t, j), w.at(b, t + 2, j), 1e-6);
}

TEST(SimpleRNN, Errors) {
  clear_session();
  EXPECT_THROW_MSG(layers::SimpleRNN(-1), ValueError, "SimpleRNN \"simple_rnn\"", "units", "-1");
  EXPECT_THROW_MSG(layers::SimpleRNN(2, SimpleRNNOptions{.activation = "rleu"}), ValueError, "SimpleRNN",
                   "'rleu'");
  EXPECT_THROW_MSG(layers::SimpleRNN(2, SimpleRNNOptions{.dropout = 2.0f}), ValueError, "`dropout`", "got 2");
  EXPECT_THROW_MSG(layers::SimpleRNN(2, SimpleRNNOptions{.bias_initializer = "bogus"}), ValueError,
                   "bias_initializer", "'bogus'");
  clear_session();
  layers::SimpleRNN l(3);
  EXPECT_THROW_MSG(l.forward(Tensor({4})), ShapeError, "SimpleRNN \"simple_rnn\"", "(4,)");
  l.forward(Tensor({1, 2, 3}));
  EXPECT_THROW_MSG(l.forward(Tensor({1, 2, 4})), ShapeError, "SimpleRNN \"simple_rnn\"", "(batch, time, 3)",
                   "(1, 2, 4)");
  EXPECT_THROW_MSG(l.forward({Tensor({1, 2, 3}), Tensor({1, 3}), Tensor({1, 3})}), ValueError, "1 initial state");
}
