// LSTM: finite-difference gradients for every option that changes the math,
// forward values against a double-precision reference, shapes, Keras names
// and parameter counts, masking / go_backwards / stateful / dropout
// semantics, and errors.

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
using seqnet::testing::param_at;
using seqnet::testing::random_tensor;
using seqnet::testing::ref_activation;
using seqnet::testing::run;

namespace {

// ---------------------------------------------------------------------------
// Reference: Keras LSTM in double precision, gate order i, f, c, o.
struct Ref {
  Tensor seq;  // (B, T, H) outputs in processing order
  Tensor h, c;
  double margin = std::numeric_limits<double>::infinity();  // distance to the nearest activation kink
};

Ref ref_lstm(layers::LSTM& l, const Tensor& x, const Tensor& mask = {}, const Tensor& h0 = {}, const Tensor& c0 = {}) {
  const auto& cfg = l.config();
  const int64_t B = x.dim(0), T = x.dim(1), I = x.dim(2), H = cfg.units;
  const Tensor& W = l.kernel().value;
  const Tensor& U = l.recurrent_kernel().value;
  const Param* bias = l.bias();
  Ref r;
  r.seq = Tensor({B, T, H});
  std::vector<double> h(B * H, 0.0), c(B * H, 0.0), prev(B * H, 0.0);
  if (!h0.empty())
    for (int64_t i = 0; i < B * H; ++i) h[i] = h0[i];
  if (!c0.empty())
    for (int64_t i = 0; i < B * H; ++i) c[i] = c0[i];
  auto act = [&](const std::string& name, double v) {
    r.margin = std::min(r.margin, kink_distance(name, v));
    return ref_activation(name, v);
  };
  for (int64_t s = 0; s < T; ++s) {
    const int64_t t = cfg.go_backwards ? T - 1 - s : s;
    std::vector<double> hn = h, cn = c;
    for (int64_t b = 0; b < B; ++b) {
      const bool real = mask.empty() || mask.at(b, t) != 0.0f;
      if (real) {
        std::vector<double> z(4 * H, 0.0);
        for (int64_t g = 0; g < 4 * H; ++g) {
          double v = bias != nullptr ? bias->value[g] : 0.0;
          for (int64_t i = 0; i < I; ++i) v += x.at(b, t, i) * W.at(i, g);
          for (int64_t k = 0; k < H; ++k) v += h[b * H + k] * U.at(k, g);
          z[g] = v;
        }
        for (int64_t j = 0; j < H; ++j) {
          const double ig = act(cfg.recurrent_activation, z[j]);
          const double fg = act(cfg.recurrent_activation, z[H + j]);
          const double gg = act(cfg.activation, z[2 * H + j]);
          const double og = act(cfg.recurrent_activation, z[3 * H + j]);
          cn[b * H + j] = fg * c[b * H + j] + ig * gg;
          hn[b * H + j] = og * act(cfg.activation, cn[b * H + j]);
        }
      }
      // Keras: a masked step outputs the previous output (zero before the
      // first real step), or zero with zero_output_for_mask.
      for (int64_t j = 0; j < H; ++j) {
        if (real) prev[b * H + j] = hn[b * H + j];
        const bool zero = !real && cfg.zero_output_for_mask;
        r.seq.at(b, s, j) = zero ? 0.0f : static_cast<float>(prev[b * H + j]);
      }
    }
    h = hn;
    c = cn;
  }
  r.h = Tensor({B, H});
  r.c = Tensor({B, H});
  for (int64_t i = 0; i < B * H; ++i) {
    r.h[i] = static_cast<float>(h[i]);
    r.c[i] = static_cast<float>(c[i]);
  }
  return r;
}

Tensor last_step(const Tensor& seq) {
  const int64_t B = seq.dim(0), T = seq.dim(1), H = seq.dim(2);
  Tensor y({B, H});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < H; ++j) y.at(b, j) = seq.at(b, T - 1, j);
  return y;
}

Tensor reverse_time(const Tensor& x) {
  const int64_t B = x.dim(0), T = x.dim(1), F = x.dim(2);
  Tensor y(x.shape());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t f = 0; f < F; ++f) y.at(b, T - 1 - t, f) = x.at(b, t, f);
  return y;
}

// A mask with a hole in row 0 and post-padding in row 1: (2, 4).
Tensor holey_mask() { return Tensor({2, 4}, {1, 0, 1, 1, 1, 1, 0, 0}); }

CallArgs with_mask(const Tensor& m) {
  CallArgs a;
  a.mask = m;
  return a;
}

std::shared_ptr<layers::LSTM> make(int64_t units, const LSTMOptions& o = {}) {
  return std::make_shared<layers::LSTM>(units, o);
}

}  // namespace

// ---------------------------------------------------------------------------
// Gradients

TEST(LSTM, GradientsReturnSequences) {
  auto l = make(4, {.return_sequences = true, .return_state = true});
  expect_gradients_match(*l, {random_tensor({2, 3, 3}, 1)}, {});
}

TEST(LSTM, GradientsLastOutputOnly) {
  auto l = make(4);
  expect_gradients_match(*l, {random_tensor({2, 4, 3}, 2)}, {});
}

TEST(LSTM, GradientsLastOutputAndStates) {
  auto l = make(3, {.return_state = true});
  expect_gradients_match(*l, {random_tensor({2, 4, 3}, 3)}, {});
}

TEST(LSTM, GradientsFlowIntoReturnedStatesOnly) {
  // Only h (output 1) and only c (output 2) receive a gradient; the others
  // are empty (= zero) in backward().
  auto l = make(3, {.return_sequences = true, .return_state = true});
  expect_gradients_match(*l, {random_tensor({2, 4, 2}, 4)}, {}, {.outputs = {1}});
  expect_gradients_match(*l, {random_tensor({2, 4, 2}, 4)}, {}, {.outputs = {2}});
}

TEST(LSTM, GradientsInitialStateGoBackwards) {
  auto l = make(4, {.return_sequences = true, .return_state = true, .go_backwards = true});
  expect_gradients_match(*l, {random_tensor({2, 3, 3}, 1), random_tensor({2, 4}, 2), random_tensor({2, 4}, 3)}, {});
}

TEST(LSTM, GradientsInitialStateLastOutput) {
  auto l = make(4);
  expect_gradients_match(*l, {random_tensor({2, 3, 3}, 5), random_tensor({2, 4}, 6), random_tensor({2, 4}, 7)}, {});
}

TEST(LSTM, GradientsGoBackwardsLastOutput) {
  auto l = make(4, {.go_backwards = true});
  expect_gradients_match(*l, {random_tensor({2, 4, 3}, 8)}, {});
}

TEST(LSTM, GradientsPostPaddedMask) {
  auto l = make(3, {.return_sequences = true, .return_state = true});
  expect_gradients_match(*l, {random_tensor({3, 4, 2}, 9)}, with_mask(seqnet::testing::post_padding_mask({4, 2, 1}, 4)));
}

TEST(LSTM, GradientsMaskWithHole) {
  auto l = make(3, {.return_sequences = true, .return_state = true});
  expect_gradients_match(*l, {random_tensor({2, 4, 2}, 10)}, with_mask(holey_mask()));
}

TEST(LSTM, GradientsMaskWithHoleGoBackwardsInitialState) {
  auto l = make(3, {.return_sequences = true, .return_state = true, .go_backwards = true});
  expect_gradients_match(*l, {random_tensor({2, 4, 2}, 11), random_tensor({2, 3}, 12), random_tensor({2, 3}, 13)},
                         with_mask(holey_mask()));
}

TEST(LSTM, GradientsMaskLastOutput) {
  auto l = make(3);
  expect_gradients_match(*l, {random_tensor({2, 4, 2}, 14)}, with_mask(holey_mask()));
}

TEST(LSTM, GradientsZeroOutputForMask) {
  auto l = make(3, {.return_sequences = true, .zero_output_for_mask = true});
  expect_gradients_match(*l, {random_tensor({2, 4, 2}, 15)}, with_mask(holey_mask()));
  auto last = make(3, {.zero_output_for_mask = true});
  expect_gradients_match(*last, {random_tensor({2, 4, 2}, 15)}, with_mask(holey_mask()));
}

TEST(LSTM, GradientsDropoutAndRecurrentDropout) {
  auto l = make(4, {.dropout = 0.3f, .recurrent_dropout = 0.4f, .return_sequences = true, .return_state = true});
  expect_gradients_match(*l, {random_tensor({2, 4, 3}, 16)}, {});
}

TEST(LSTM, GradientsRecurrentDropoutWithInitialStateAndMask) {
  auto l = make(4, {.recurrent_dropout = 0.5f, .return_sequences = true});
  expect_gradients_match(*l, {random_tensor({2, 4, 3}, 17), random_tensor({2, 4}, 18), random_tensor({2, 4}, 19)},
                         with_mask(holey_mask()));
}

TEST(LSTM, GradientsInputDropoutGoBackwards) {
  auto l = make(4, {.dropout = 0.5f, .go_backwards = true});
  expect_gradients_match(*l, {random_tensor({2, 4, 3}, 20)}, {});
}

TEST(LSTM, GradientsNoBias) {
  auto l = make(4, {.use_bias = false, .return_sequences = true});
  expect_gradients_match(*l, {random_tensor({2, 3, 3}, 21)}, {});
  EXPECT_EQ(l->bias(), nullptr);
}

TEST(LSTM, GradientsSoftsignAndHardSigmoid) {
  auto l = make(4, {.activation = "softsign", .recurrent_activation = "hard_sigmoid", .return_sequences = true,
                    .return_state = true});
  const Tensor x = random_tensor({2, 3, 3}, 22);
  l->compute_output_shapes({x.shape()});
  ASSERT_GT(ref_lstm(*l, x).margin, 0.05) << "inputs too close to a hard_sigmoid kink";
  expect_gradients_match(*l, {x}, {});
}

TEST(LSTM, GradientsReluAndElu) {
  auto l = make(3, {.activation = "relu", .recurrent_activation = "elu", .return_sequences = true,
                    .return_state = true});
  // Nonzero initial states: with c0 = 0 a unit whose candidate is relu'd to
  // 0 would sit exactly on the kink of relu(c). Weights chosen (seed 41) so
  // that no pre-activation is near 0.
  const Tensor x = random_tensor({2, 3, 3}, 23), h0 = random_tensor({2, 3}, 231), c0 = random_tensor({2, 3}, 232);
  l->compute_output_shapes({x.shape()});
  seqnet::testing::randomize_params(*l, 41, -0.7f, 0.7f);
  ASSERT_GT(ref_lstm(*l, x, {}, h0, c0).margin, 0.08) << "pick another seed: a pre-activation sits near the relu kink";
  expect_gradients_match(*l, {x, h0, c0}, {});
}

TEST(LSTM, GradientsSeluAndSigmoidTanhSoftplus) {
  auto l = make(3, {.activation = "softplus", .recurrent_activation = "tanh", .return_sequences = true});
  expect_gradients_match(*l, {random_tensor({2, 3, 2}, 25)}, {});
}

TEST(LSTM, GradientsWithRegularizersAndPenalty) {
  auto l = make(3, {.kernel_regularizer = regularizers::l1(0.01f),
                    .recurrent_regularizer = regularizers::l2(0.02f),
                    .bias_regularizer = regularizers::l1_l2(0.03f, 0.04f)});
  const Tensor x = random_tensor({2, 3, 2}, 26);
  expect_gradients_match(*l, {x}, {});  // the regularizers do not enter backward()
  seqnet::testing::randomize_params(*l, 27);
  double want = 0;
  for (float v : l->kernel().value) want += 0.01 * std::abs(v);
  for (float v : l->recurrent_kernel().value) want += 0.02 * v * v;
  for (float v : l->bias()->value) want += 0.03 * std::abs(v) + 0.04 * v * v;
  EXPECT_NEAR(l->regularization_penalty(), want, 1e-6);
  seqnet::testing::expect_regularization_gradients_match(*l);
}

TEST(LSTM, GradientsSingleStepSingleSample) {
  auto l = make(2, {.return_sequences = true, .return_state = true});
  expect_gradients_match(*l, {random_tensor({1, 1, 3}, 28)}, {});
}

// ---------------------------------------------------------------------------
// Forward values against the reference

TEST(LSTM, ForwardMatchesReference) {
  auto l = make(5, {.return_sequences = true, .return_state = true});
  const Tensor x = random_tensor({3, 4, 6}, 30);
  l->compute_output_shapes({x.shape()});
  seqnet::testing::randomize_params(*l, 31);
  const auto out = run(*l, {x});
  const Ref r = ref_lstm(*l, x);
  expect_near(out[0], r.seq, 1e-5, "sequence");
  expect_near(out[1], r.h, 1e-5, "h");
  expect_near(out[2], r.c, 1e-5, "c");
}

TEST(LSTM, ForwardMatchesReferenceWithOptions) {
  auto l = make(4, {.activation = "softsign", .recurrent_activation = "hard_sigmoid", .return_sequences = true,
                    .return_state = true, .go_backwards = true});
  const Tensor x = random_tensor({2, 4, 3}, 32);
  const Tensor h0 = random_tensor({2, 4}, 33), c0 = random_tensor({2, 4}, 34);
  CallArgs args = with_mask(holey_mask());
  const auto out = l->forward({x, h0, c0}, args);
  const Ref r = ref_lstm(*l, x, holey_mask(), h0, c0);
  expect_near(out[0], r.seq, 1e-5, "sequence");
  expect_near(out[1], r.h, 1e-5, "h");
  expect_near(out[2], r.c, 1e-5, "c");
}

TEST(LSTM, LastOutputIsLastStepOfSequence) {
  auto seq = make(4, {.return_sequences = true});
  auto last = make(4, {.return_state = true});
  const Tensor x = random_tensor({2, 5, 3}, 35);
  seq->compute_output_shapes({x.shape()});
  last->compute_output_shapes({x.shape()});
  copy_params(*seq, *last);
  const Tensor ys = seq->forward(x);
  const auto yl = run(*last, {x});
  expect_near(yl[0], last_step(ys), 0, "last output");
  expect_near(yl[1], yl[0], 0, "h equals the last output");
}

// ---------------------------------------------------------------------------
// Shapes, names, parameter counts

TEST(LSTM, ParamCount) {
  layers::LSTM l(16);
  l.compute_output_shapes({{None, 4, 10}});
  EXPECT_EQ(l.count_params(), 1728);
  layers::LSTM l2(16);
  l2.compute_output_shapes({{None, None, 16}});
  EXPECT_EQ(l2.count_params(), 2112);
  layers::LSTM l3(32);
  l3.compute_output_shapes({{None, None, 32}});
  EXPECT_EQ(l3.count_params(), 8320);
  layers::LSTM nb(16, {.use_bias = false});
  nb.compute_output_shapes({{None, 4, 10}});
  EXPECT_EQ(nb.count_params(), 1728 - 64);
}

TEST(LSTM, WeightNamesAndShapes) {
  layers::LSTM l(16);
  l.compute_output_shapes({{None, None, 10}});
  const auto ps = seqnet::testing::param_shapes(l);
  ASSERT_EQ(ps.size(), 3u);
  EXPECT_EQ(ps[0].first, "kernel");
  EXPECT_EQ(ps[0].second, (Shape{10, 64}));
  EXPECT_EQ(ps[1].first, "recurrent_kernel");
  EXPECT_EQ(ps[1].second, (Shape{16, 64}));
  EXPECT_EQ(ps[2].first, "bias");
  EXPECT_EQ(ps[2].second, (Shape{64}));
  EXPECT_EQ(&param_at(l, "kernel"), &l.kernel());
  EXPECT_EQ(l.params().size(), 3u);
}

TEST(LSTM, ShapeInferenceWithNone) {
  layers::LSTM seq(16, {.return_sequences = true, .return_state = true});
  const auto s = seq.compute_output_shapes({{None, None, 10}});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], (Shape{None, None, 16}));
  EXPECT_EQ(s[1], (Shape{None, 16}));
  EXPECT_EQ(s[2], (Shape{None, 16}));
  EXPECT_EQ(seq.num_outputs(), 3);
  layers::LSTM last(8);
  const auto s2 = last.compute_output_shapes({{32, None, 10}});
  ASSERT_EQ(s2.size(), 1u);
  EXPECT_EQ(s2[0], (Shape{32, 8}));
  EXPECT_EQ(last.num_outputs(), 1);
  // With initial states.
  layers::LSTM st(4, {.return_state = true});
  const auto s3 = st.compute_output_shapes({{None, 7, 3}, {None, 4}, {None, 4}});
  EXPECT_EQ(s3[0], (Shape{None, 4}));
  EXPECT_EQ(s3.size(), 3u);
  // Building again with a concrete batch is fine.
  EXPECT_EQ(st.compute_output_shapes({{2, 7, 3}})[0], (Shape{2, 4}));
}

TEST(LSTM, DefaultNames) {
  clear_session();
  layers::LSTM a(2), b(2), c(2, {.name = "encoder"});
  EXPECT_EQ(a.name(), "lstm");
  EXPECT_EQ(b.name(), "lstm_1");
  EXPECT_EQ(c.name(), "encoder");
  EXPECT_EQ(a.class_name(), "LSTM");
  EXPECT_EQ(b.describe(), "LSTM \"lstm_1\"");
  layers::LSTM d(2);
  EXPECT_EQ(d.name(), "lstm_2");
  clear_session();
  layers::LSTM e(2);
  EXPECT_EQ(e.name(), "lstm");
}

TEST(LSTM, DefaultInitializersAndUnitForgetBias) {
  const int64_t I = 5, H = 6;
  layers::LSTM l(H);
  l.compute_output_shapes({{None, None, I}});
  const double limit = std::sqrt(6.0 / (I + 4 * H));
  for (float v : l.kernel().value) EXPECT_LE(std::abs(v), limit);
  // Orthogonal recurrent kernel (H, 4H): its rows are orthonormal.
  const Tensor& U = l.recurrent_kernel().value;
  for (int64_t a = 0; a < H; ++a)
    for (int64_t b = 0; b < H; ++b) {
      double dot = 0;
      for (int64_t k = 0; k < 4 * H; ++k) dot += static_cast<double>(U.at(a, k)) * U.at(b, k);
      EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-5);
    }
  // bias = [0]*H + [1]*H + [0]*2H.
  const Tensor& bias = l.bias()->value;
  for (int64_t j = 0; j < 4 * H; ++j) EXPECT_EQ(bias[j], (j >= H && j < 2 * H) ? 1.0f : 0.0f) << j;

  layers::LSTM nf(H, {.unit_forget_bias = false});
  nf.compute_output_shapes({{None, None, I}});
  for (float v : nf.bias()->value) EXPECT_EQ(v, 0.0f);

  layers::LSTM ci(H, {.bias_initializer = Initializer::constant(0.5)});
  ci.compute_output_shapes({{None, None, I}});
  for (int64_t j = 0; j < 4 * H; ++j) EXPECT_EQ(ci.bias()->value[j], (j >= H && j < 2 * H) ? 1.0f : 0.5f) << j;
}

TEST(LSTM, SameSeedSameWeights) {
  set_seed(7);
  layers::LSTM a(3);
  a.compute_output_shapes({{None, None, 2}});
  set_seed(7);
  layers::LSTM b(3);
  b.compute_output_shapes({{None, None, 2}});
  expect_near(a.kernel().value, b.kernel().value, 0, "kernel");
  expect_near(a.recurrent_kernel().value, b.recurrent_kernel().value, 0, "recurrent_kernel");
}

// ---------------------------------------------------------------------------
// Semantics

TEST(LSTM, MaskedBatchMatchesUnpaddedSequences) {
  auto l = make(3, {.return_sequences = true, .return_state = true});
  seqnet::testing::expect_mask_matches_unpadded(*l, random_tensor({3, 5, 2}, 40), {5, 3, 1});
  auto last = make(3, {.return_state = true});
  seqnet::testing::expect_mask_matches_unpadded(*last, random_tensor({3, 5, 2}, 41), {2, 5, 4});
  auto back = make(3, {.return_sequences = true, .return_state = true, .go_backwards = true});
  seqnet::testing::expect_mask_matches_unpadded(*back, random_tensor({3, 5, 2}, 42), {5, 3, 1},
                                                {.aligned_at_end = true});
}

TEST(LSTM, MaskedStepsCarryStateAndRepeatOutput) {
  auto l = make(3, {.return_sequences = true, .return_state = true});
  const Tensor x = random_tensor({2, 4, 2}, 43);
  const auto out = l->forward({x}, with_mask(holey_mask()));
  const Tensor& y = out[0];
  for (int64_t j = 0; j < 3; ++j) {
    EXPECT_EQ(y.at(0, 1, j), y.at(0, 0, j));  // the hole repeats the previous output
    EXPECT_EQ(y.at(1, 2, j), y.at(1, 1, j));  // padding repeats the last real output
    EXPECT_EQ(y.at(1, 3, j), y.at(1, 1, j));
    EXPECT_EQ(out[1].at(1, j), y.at(1, 1, j));  // final h is the last real step's
  }
  // The hole really skips the step: changing x at the masked step changes nothing.
  Tensor x2 = x.clone();
  for (int64_t f = 0; f < 2; ++f) x2.at(0, 1, f) += 5.0f;
  const auto out2 = l->forward({x2}, with_mask(holey_mask()));
  expect_near(out2[0], y, 0, "masked step input ignored");
  expect_near(out2[2], out[2], 0, "cell state");
}

TEST(LSTM, ZeroOutputForMaskZeroesMaskedSteps) {
  auto l = make(3, {.return_sequences = true, .zero_output_for_mask = true});
  const auto y = l->forward({random_tensor({2, 4, 2}, 44)}, with_mask(holey_mask()))[0];
  for (int64_t j = 0; j < 3; ++j) {
    EXPECT_EQ(y.at(0, 1, j), 0.0f);
    EXPECT_EQ(y.at(1, 2, j), 0.0f);
    EXPECT_EQ(y.at(1, 3, j), 0.0f);
    EXPECT_NE(y.at(0, 2, j), 0.0f);
  }
}

TEST(LSTM, AllOnesMaskEqualsNoMask) {
  auto l = make(3, {.return_sequences = true, .return_state = true});
  const Tensor x = random_tensor({2, 4, 2}, 45);
  const auto a = run(*l, {x});
  const auto b = l->forward({x}, with_mask(Tensor::ones({2, 4})));
  for (size_t k = 0; k < a.size(); ++k) expect_near(a[k], b[k], 0, "output");
}

TEST(LSTM, GoBackwardsReturnsReversedOrderSequence) {
  // Keras: go_backwards processes the reversed input and returns the
  // sequence in processing order (not re-reversed).
  auto fw = make(3, {.return_sequences = true, .return_state = true});
  auto bw = make(3, {.return_sequences = true, .return_state = true, .go_backwards = true});
  const Tensor x = random_tensor({2, 5, 2}, 46);
  fw->compute_output_shapes({x.shape()});
  bw->compute_output_shapes({x.shape()});
  copy_params(*fw, *bw);
  const auto a = run(*bw, {x});
  const auto b = run(*fw, {reverse_time(x)});
  for (size_t k = 0; k < a.size(); ++k) expect_near(a[k], b[k], 0, "output");
}

TEST(LSTM, InitialStateIsUsed) {
  auto l = make(3, {.return_state = true});
  const Tensor x = random_tensor({2, 3, 2}, 47);
  const auto zero = run(*l, {x});
  const auto given0 = l->forward({x, Tensor({2, 3}), Tensor({2, 3})});
  for (size_t k = 0; k < zero.size(); ++k) expect_near(zero[k], given0[k], 0, "zero initial state");
  const auto given = l->forward({x, random_tensor({2, 3}, 48), random_tensor({2, 3}, 49)});
  EXPECT_GT(max_abs_diff(given[0], zero[0]), 1e-3);
}

TEST(LSTM, StatefulTwoHalvesEqualWhole) {
  auto whole = make(3, {.return_sequences = true, .return_state = true});
  auto st = make(3, {.return_sequences = true, .return_state = true, .stateful = true});
  const Tensor x = random_tensor({2, 6, 2}, 50);
  whole->compute_output_shapes({x.shape()});
  st->compute_output_shapes({x.shape()});
  copy_params(*whole, *st);
  const auto w = run(*whole, {x});
  Tensor x1({2, 3, 2}), x2({2, 3, 2});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t t = 0; t < 3; ++t)
      for (int64_t f = 0; f < 2; ++f) {
        x1.at(b, t, f) = x.at(b, t, f);
        x2.at(b, t, f) = x.at(b, t + 3, f);
      }
  EXPECT_TRUE(st->states().empty());
  const auto a = run(*st, {x1});
  ASSERT_EQ(st->states().size(), 2u);
  expect_near(st->states()[0], a[1], 0, "kept h");
  expect_near(st->states()[1], a[2], 0, "kept c");
  const auto b = run(*st, {x2});
  expect_near(b[1], w[1], 1e-6, "h after two halves");
  expect_near(b[2], w[2], 1e-6, "c after two halves");
  for (int64_t bb = 0; bb < 2; ++bb)
    for (int64_t j = 0; j < 3; ++j) EXPECT_NEAR(b[0].at(bb, 2, j), w[0].at(bb, 5, j), 1e-6);
  // Training calls keep state too.
  st->reset_states();
  auto cache = st->make_cache();
  CallArgs train;
  train.training = true;
  st->forward({x1}, train, cache.get());
  const auto bt = st->forward({x2}, train, cache.get());
  expect_near(bt[1], w[1], 1e-6, "h after two training halves");
  // reset_states(): the next call starts from zeros, like the first half.
  st->reset_states();
  EXPECT_TRUE(st->states().empty());
  const auto again = run(*st, {x1});
  expect_near(again[0], a[0], 0, "after reset_states()");
}

TEST(LSTM, StatefulResetStatesWithValues) {
  auto plain = make(3, {.return_state = true});
  auto st = make(3, {.return_state = true, .stateful = true});
  const Tensor x = random_tensor({2, 3, 2}, 51);
  plain->compute_output_shapes({x.shape()});
  st->compute_output_shapes({x.shape()});
  copy_params(*plain, *st);
  const Tensor h0 = random_tensor({2, 3}, 52), c0 = random_tensor({2, 3}, 53);
  st->reset_states({h0, c0});
  expect_near(st->states()[0], h0, 0, "h set");
  const auto a = run(*st, {x});
  const auto b = run(*plain, {x, h0, c0});
  for (size_t k = 0; k < a.size(); ++k) expect_near(a[k], b[k], 0, "output");
}

TEST(LSTM, StatefulBatchSizeChangeRaises) {
  clear_session();
  auto st = make(3, {.stateful = true});
  st->forward(random_tensor({2, 3, 2}, 54));
  EXPECT_THROW_MSG(st->forward(random_tensor({3, 3, 2}, 55)), ShapeError, "LSTM \"lstm\"", "batch size 2",
                   "batch of 3");
  st->reset_states();
  EXPECT_NO_THROW(st->forward(random_tensor({3, 3, 2}, 55)));
}

TEST(LSTM, ResetStatesErrors) {
  clear_session();
  auto plain = make(3);
  EXPECT_THROW_MSG(plain->reset_states({Tensor({2, 3}), Tensor({2, 3})}), ValueError, "LSTM \"lstm\"", "stateful");
  auto st = make(3, {.stateful = true});
  EXPECT_THROW_MSG(st->reset_states({Tensor({2, 3})}), ValueError, "LSTM \"lstm_1\"", "expected 2 state tensors",
                   "got 1");
  EXPECT_THROW_MSG(st->reset_states({Tensor({2, 3}), Tensor({2, 4})}), ShapeError, "LSTM \"lstm_1\"",
                   "(batch, 3)", "(2, 4)");
  EXPECT_THROW_MSG(st->reset_states({Tensor({2, 3}), Tensor({3, 3})}), ShapeError, "(3, 3)");
  EXPECT_THROW_MSG(st->reset_states({Tensor({3}), Tensor({3})}), ShapeError, "(3,)");
}

TEST(LSTM, DropoutOnlyInTraining) {
  auto drop = make(4, {.dropout = 0.5f, .recurrent_dropout = 0.5f, .return_sequences = true});
  auto plain = make(4, {.return_sequences = true});
  const Tensor x = random_tensor({3, 5, 3}, 56);
  drop->compute_output_shapes({x.shape()});
  plain->compute_output_shapes({x.shape()});
  copy_params(*drop, *plain);
  // Inference: deterministic and equal to the layer without dropout.
  const Tensor i1 = drop->forward(x, false);
  const Tensor i2 = drop->forward(x, false);
  expect_near(i1, i2, 0, "inference is deterministic");
  expect_near(i1, plain->forward(x, false), 0, "inference ignores dropout");
  // Training: different from inference, reproducible with the same seed.
  set_seed(1);
  const Tensor t1 = drop->forward(x, true);
  set_seed(1);
  const Tensor t2 = drop->forward(x, true);
  set_seed(2);
  const Tensor t3 = drop->forward(x, true);
  expect_near(t1, t2, 0, "same seed, same masks");
  EXPECT_GT(max_abs_diff(t1, i1), 1e-3);
  EXPECT_GT(max_abs_diff(t1, t3), 1e-3);
}

TEST(LSTM, DropoutMasksAreFixedOverTimeSteps) {
  // With one sample, a feature dropped by the input mask gets no gradient at
  // any step, and a dropped recurrent unit contributes to no recurrent-kernel
  // gradient: whole rows of the kernel gradients are zero. Masks redrawn per
  // step would leave almost no zero rows.
  const int64_t I = 24, H = 24, T = 6;
  auto l = make(H, {.dropout = 0.5f, .recurrent_dropout = 0.5f, .return_sequences = true});
  const Tensor x = random_tensor({1, T, I}, 57);
  set_seed(3);
  auto cache = l->make_cache();
  CallArgs train;
  train.training = true;
  const auto y = l->forward({x}, train, cache.get());
  l->zero_grad();
  const auto dx = l->backward({random_tensor(y[0].shape(), 58)}, *cache);
  int dropped_in = 0, dropped_rec = 0;
  for (int64_t i = 0; i < I; ++i) {
    bool row_zero = true, dx_zero = true;
    for (int64_t g = 0; g < 4 * H; ++g) row_zero = row_zero && l->kernel().grad.at(i, g) == 0.0f;
    for (int64_t t = 0; t < T; ++t) dx_zero = dx_zero && dx[0].at(0, t, i) == 0.0f;
    EXPECT_EQ(row_zero, dx_zero) << "feature " << i;
    dropped_in += row_zero;
  }
  for (int64_t k = 0; k < H; ++k) {
    bool row_zero = true;
    for (int64_t g = 0; g < 4 * H; ++g) row_zero = row_zero && l->recurrent_kernel().grad.at(k, g) == 0.0f;
    dropped_rec += row_zero;
  }
  EXPECT_GT(dropped_in, 4);
  EXPECT_LT(dropped_in, I - 4);
  EXPECT_GT(dropped_rec, 4);
  EXPECT_LT(dropped_rec, H - 4);
}

TEST(LSTM, CacheReuseAcrossShapes) {
  // One cache used for calls of different shapes, then backward: same as a
  // fresh cache.
  auto l = make(3, {.return_sequences = true, .return_state = true});
  const Tensor a = random_tensor({4, 6, 2}, 60), b = random_tensor({2, 3, 2}, 61);
  CallArgs train;
  train.training = true;
  auto reused = l->make_cache();
  l->forward({a}, train, reused.get());
  const auto yr = l->forward({b}, train, reused.get());
  auto fresh = l->make_cache();
  const auto yf = l->forward({b}, train, fresh.get());
  for (size_t k = 0; k < yr.size(); ++k) expect_near(yr[k], yf[k], 0, "forward");
  std::vector<Tensor> d;
  for (size_t k = 0; k < yr.size(); ++k) d.push_back(random_tensor(yr[k].shape(), 62 + k));
  l->zero_grad();
  const auto gr = l->backward(d, *reused);
  const Tensor kr = l->kernel().grad.clone();
  l->zero_grad();
  const auto gf = l->backward(d, *fresh);
  expect_near(gr[0], gf[0], 0, "input gradient");
  expect_near(kr, l->kernel().grad, 0, "kernel gradient");
  // Inference calls of varying shapes (internal workspace reuse).
  expect_near(run(*l, {a})[0], l->forward({a}, train, fresh.get())[0], 0, "inference after training");
}

TEST(LSTM, BackwardTwiceAccumulates) {
  auto l = make(3);
  const Tensor x = random_tensor({2, 3, 2}, 63);
  CallArgs train;
  train.training = true;
  auto cache = l->make_cache();
  const auto y = l->forward({x}, train, cache.get());
  const Tensor d = random_tensor(y[0].shape(), 64);
  l->zero_grad();
  const auto g1 = l->backward({d}, *cache);
  const Tensor k1 = l->kernel().grad.clone();
  const auto g2 = l->backward({d}, *cache);
  expect_near(g1[0], g2[0], 0, "input gradient is the same");
  for (int64_t i = 0; i < k1.size(); ++i) EXPECT_FLOAT_EQ(l->kernel().grad[i], 2 * k1[i]);
}

// ---------------------------------------------------------------------------
// Errors

TEST(LSTM, ErrorWrongRank) {
  clear_session();
  layers::LSTM l(4);
  EXPECT_THROW_MSG(l.forward(Tensor({2, 3})), ShapeError, "LSTM \"lstm\"", "(batch, time, features)", "(2, 3)");
  EXPECT_THROW_MSG(l.compute_output_shapes({{None, 3, 2, 1}}), ShapeError, "LSTM \"lstm\"", "(None, 3, 2, 1)");
  EXPECT_FALSE(l.built());
  EXPECT_THROW_MSG(l.compute_output_shapes({{None, 3, None}}), ShapeError, "LSTM \"lstm\"", "feature dimension");
}

TEST(LSTM, ErrorWrongFeatureCountAfterBuild) {
  clear_session();
  layers::LSTM a(4), b(4), l(4);
  l.forward(Tensor({32, 4, 10}));
  EXPECT_THROW_MSG(l.forward(Tensor({32, 4, 12})), ShapeError, "LSTM \"lstm_2\"", "(batch, time, 10)",
                   "(32, 4, 12)");
  EXPECT_THROW_MSG(l.compute_output_shapes({{None, None, 12}}), ShapeError, "LSTM \"lstm_2\"", "10",
                   "(None, None, 12)");
}

TEST(LSTM, ErrorInitialStates) {
  clear_session();
  layers::LSTM l(4);
  const Tensor x({2, 3, 5});
  EXPECT_THROW_MSG(l.forward({x, Tensor({2, 4})}), ValueError, "LSTM \"lstm\"", "2 initial states", "got 2 tensors");
  EXPECT_THROW_MSG(l.forward({x, Tensor({2, 4}), Tensor({2, 4}), Tensor({2, 4})}), ValueError, "got 4 tensors");
  EXPECT_THROW_MSG(l.forward({x, Tensor({2, 4}), Tensor({2, 5})}), ShapeError, "LSTM \"lstm\"", "initial state 1",
                   "(2, 4)", "(2, 5)");
  EXPECT_THROW_MSG(l.forward({x, Tensor({3, 4}), Tensor({3, 4})}), ShapeError, "initial state 0", "(2, 4)",
                   "(3, 4)");
  EXPECT_THROW_MSG(l.forward({x, Tensor({2, 4, 1}), Tensor({2, 4})}), ShapeError, "initial state 0", "(2, 4, 1)");
  EXPECT_THROW_MSG(l.forward({x, Tensor(), Tensor({2, 4})}), ValueError, "LSTM \"lstm\"", "input 1", "empty");
}

TEST(LSTM, ErrorMaskShape) {
  clear_session();
  layers::LSTM l(4);
  const Tensor x({2, 3, 5});
  EXPECT_THROW_MSG(l.forward({x}, with_mask(Tensor({2, 4}))), ShapeError, "LSTM \"lstm\"", "(2, 3)", "(2, 4)");
  EXPECT_THROW_MSG(l.forward({x}, with_mask(Tensor({3, 3}))), ShapeError, "mask", "(3, 3)");
  EXPECT_THROW_MSG(l.forward({x}, with_mask(Tensor({6}))), ShapeError, "mask", "(6,)");
  EXPECT_THROW_MSG(l.forward({x}, with_mask(Tensor({2, 3, 1}))), ShapeError, "mask", "(2, 3, 1)");
}

TEST(LSTM, ErrorInvalidArguments) {
  clear_session();
  EXPECT_THROW_MSG(layers::LSTM(0), ValueError, "LSTM \"lstm\"", "units", "got 0");
  EXPECT_THROW_MSG(layers::LSTM(-3), ValueError, "units", "got -3");
  EXPECT_THROW_MSG(layers::LSTM(4, LSTMOptions{.dropout = 1.0f}), ValueError, "LSTM \"lstm_2\"", "`dropout`",
                   "[0, 1)", "got 1");
  EXPECT_THROW_MSG(layers::LSTM(4, LSTMOptions{.dropout = -0.1f}), ValueError, "`dropout`", "-0.1");
  EXPECT_THROW_MSG(layers::LSTM(4, LSTMOptions{.dropout = std::nanf("")}), ValueError, "`dropout`", "nan");
  EXPECT_THROW_MSG(layers::LSTM(4, LSTMOptions{.recurrent_dropout = 1.5f}), ValueError, "`recurrent_dropout`",
                   "1.5");
  EXPECT_THROW_MSG(layers::LSTM(4, LSTMOptions{.activation = "tanhh"}), ValueError, "LSTM \"lstm_", "activation",
                   "'tanhh'", "'hard_sigmoid'");
  EXPECT_THROW_MSG(layers::LSTM(4, LSTMOptions{.recurrent_activation = "sigmod"}), ValueError,
                   "recurrent_activation", "'sigmod'");
  EXPECT_THROW_MSG(layers::LSTM(4, LSTMOptions{.activation = "softmax"}), ValueError, "LSTM \"lstm_", "softmax");
  EXPECT_THROW_MSG(layers::LSTM(4, LSTMOptions{.kernel_initializer = "glorot"}), ValueError, "LSTM \"lstm_",
                   "kernel_initializer", "'glorot'");
  EXPECT_THROW_MSG(layers::LSTM(4, LSTMOptions{.recurrent_initializer = "orthogonall"}), ValueError,
                   "recurrent_initializer", "'orthogonall'");
  EXPECT_THROW_MSG(layers::LSTM(4, LSTMOptions{.bias_initializer = "zero"}), ValueError, "bias_initializer",
                   "'zero'");
  EXPECT_THROW_MSG(layers::LSTM(4, LSTMOptions{.kernel_regularizer = regularizers::l2(-1.0f)}), ValueError,
                   "kernel_regularizer");
}

TEST(LSTM, ErrorBackwardWithoutTrainingForward) {
  clear_session();
  layers::LSTM l(3);
  const Tensor x = random_tensor({2, 3, 2}, 70);
  auto cache = l.make_cache();
  run(l, {x});  // builds
  EXPECT_THROW_MSG(l.backward({Tensor({2, 3})}, *cache), Error, "LSTM \"lstm\"", "training = true");
  l.forward({x}, {}, cache.get());  // inference with a cache
  EXPECT_THROW_MSG(l.backward({Tensor({2, 3})}, *cache), Error, "LSTM \"lstm\"", "training = true");
}

TEST(LSTM, ErrorBadOutputGradients) {
  clear_session();
  layers::LSTM l(3, {.return_state = true});
  auto cache = l.make_cache();
  CallArgs train;
  train.training = true;
  l.forward({random_tensor({2, 3, 2}, 71)}, train, cache.get());
  EXPECT_THROW_MSG(l.backward({Tensor({2, 3})}, *cache), ValueError, "LSTM \"lstm\"", "3 output gradients", "got 1");
  EXPECT_THROW_MSG(l.backward({Tensor({2, 4}), Tensor(), Tensor()}, *cache), ShapeError, "LSTM \"lstm\"", "(2, 3)",
                   "(2, 4)");
  EXPECT_THROW_MSG(l.backward({Tensor(), Tensor({2, 3}), Tensor({3, 3})}, *cache), ShapeError, "output 2", "(3, 3)");
  // All-empty gradients are fine: everything is zero.
  l.zero_grad();
  const auto g = l.backward({Tensor(), Tensor(), Tensor()}, *cache);
  for (float v : g[0]) EXPECT_EQ(v, 0.0f);
  for (float v : l.kernel().grad) EXPECT_EQ(v, 0.0f);
}
