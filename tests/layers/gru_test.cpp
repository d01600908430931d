// GRU, with reset_after = true (Keras 2 default) and false: finite-difference
// gradients for every option that changes the math, forward values against a
// double-precision reference, shapes, Keras names and parameter counts,
// masking / go_backwards / stateful / dropout semantics, and errors.

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

// Reference: Keras GRU in double precision, gate order z, r, h.
struct Ref {
  Tensor seq;  // (B, T, H) processing order
  Tensor h;
  double margin = std::numeric_limits<double>::infinity();
};

Ref ref_gru(layers::GRU& l, const Tensor& x, const Tensor& mask = {}, const Tensor& h0 = {}) {
  const auto& cfg = l.config();
  const int64_t B = x.dim(0), T = x.dim(1), I = x.dim(2), H = cfg.units;
  const Tensor& W = l.kernel().value;
  const Tensor& U = l.recurrent_kernel().value;
  const Param* bias = l.bias();
  // Input bias and recurrent bias (reset_after), or the one bias.
  auto b_in = [&](int64_t g) { return bias == nullptr ? 0.0 : static_cast<double>(bias->value[g]); };
  auto b_rec = [&](int64_t g) {
    return (bias == nullptr || !l.reset_after()) ? 0.0 : static_cast<double>(bias->value[3 * H + g]);
  };
  Ref r;
  r.seq = Tensor({B, T, H});
  std::vector<double> h(B * H, 0.0), prev(B * H, 0.0);
  if (!h0.empty())
    for (int64_t i = 0; i < B * H; ++i) h[i] = h0[i];
  auto act = [&](const std::string& name, double v) {
    r.margin = std::min(r.margin, kink_distance(name, v));
    return ref_activation(name, v);
  };
  for (int64_t s = 0; s < T; ++s) {
    const int64_t t = cfg.go_backwards ? T - 1 - s : s;
    std::vector<double> hn = h;
    for (int64_t b = 0; b < B; ++b) {
      const bool real = mask.empty() || mask.at(b, t) != 0.0f;
      if (real) {
        std::vector<double> xp(3 * H), hp(3 * H);
        for (int64_t g = 0; g < 3 * H; ++g) {
          double v = b_in(g);
          for (int64_t i = 0; i < I; ++i) v += x.at(b, t, i) * W.at(i, g);
          xp[g] = v;
          double u = b_rec(g);
          for (int64_t k = 0; k < H; ++k) u += h[b * H + k] * U.at(k, g);
          hp[g] = u;  // (for reset_after = false only the z, r parts are used)
        }
        for (int64_t j = 0; j < H; ++j) {
          const double z = act(cfg.recurrent_activation, xp[j] + hp[j]);
          const double rr = act(cfg.recurrent_activation, xp[H + j] + hp[H + j]);
          double pre;
          if (l.reset_after()) {
            pre = xp[2 * H + j] + rr * hp[2 * H + j];
          } else {
            pre = xp[2 * H + j];
            for (int64_t k = 0; k < H; ++k) {
              const double rk = act(cfg.recurrent_activation, xp[H + k] + hp[H + k]);
              pre += rk * h[b * H + k] * U.at(k, 2 * H + j);
            }
          }
          const double hh = act(cfg.activation, pre);
          hn[b * H + j] = z * h[b * H + j] + (1.0 - z) * hh;
        }
      }
      for (int64_t j = 0; j < H; ++j) {
        if (real) prev[b * H + j] = hn[b * H + j];
        const bool zero = !real && cfg.zero_output_for_mask;
        r.seq.at(b, s, j) = zero ? 0.0f : static_cast<float>(prev[b * H + j]);
      }
    }
    h = hn;
  }
  r.h = Tensor({B, H});
  for (int64_t i = 0; i < B * H; ++i) r.h[i] = static_cast<float>(h[i]);
  return r;
}

Tensor reverse_time(const Tensor& x) {
  const int64_t B = x.dim(0), T = x.dim(1), F = x.dim(2);
  Tensor y(x.shape());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t f = 0; f < F; ++f) y.at(b, T - 1 - t, f) = x.at(b, t, f);
  return y;
}

Tensor holey_mask() { return Tensor({2, 4}, {1, 0, 1, 1, 1, 1, 0, 0}); }

CallArgs with_mask(const Tensor& m) {
  CallArgs a;
  a.mask = m;
  return a;
}

// Gradient and semantics tests run for reset_after = true and false.
class GRUTest : public ::testing::TestWithParam<bool> {
 protected:
  std::shared_ptr<layers::GRU> make(int64_t units, GRUOptions o = {}) {
    o.reset_after = GetParam();
    return std::make_shared<layers::GRU>(units, o);
  }
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(ResetAfter, GRUTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) { return i.param ? "True" : "False"; });

// ---------------------------------------------------------------------------
// Gradients

TEST_P(GRUTest, GradientsReturnSequencesAndState) {
  auto l = make(4, {.return_sequences = true, .return_state = true});
  expect_gradients_match(*l, {random_tensor({2, 3, 3}, 1)}, {});
}

TEST_P(GRUTest, GradientsLastOutputOnly) {
  auto l = make(4);
  expect_gradients_match(*l, {random_tensor({2, 4, 3}, 2)}, {});
}

TEST_P(GRUTest, GradientsIntoReturnedStateOnly) {
  auto l = make(3, {.return_sequences = true, .return_state = true});
  expect_gradients_match(*l, {random_tensor({2, 4, 2}, 3)}, {}, {.outputs = {1}});
}

TEST_P(GRUTest, GradientsGoBackwardsInitialState) {
  auto l = make(4, {.return_sequences = true, .return_state = true, .go_backwards = true});
  expect_gradients_match(*l, {random_tensor({2, 3, 3}, 4), random_tensor({2, 4}, 5)}, {});
  auto last = make(4, {.go_backwards = true});
  expect_gradients_match(*last, {random_tensor({2, 3, 3}, 6), random_tensor({2, 4}, 7)}, {});
}

TEST_P(GRUTest, GradientsPostPaddedMask) {
  auto l = make(3, {.return_sequences = true, .return_state = true});
  expect_gradients_match(*l, {random_tensor({3, 4, 2}, 8)},
                         with_mask(seqnet::testing::post_padding_mask({4, 2, 1}, 4)));
}

TEST_P(GRUTest, GradientsMaskWithHoleGoBackwardsInitialState) {
  auto l = make(3, {.return_sequences = true, .return_state = true, .go_backwards = true});
  expect_gradients_match(*l, {random_tensor({2, 4, 2}, 9), random_tensor({2, 3}, 10)}, with_mask(holey_mask()));
  auto last = make(3);
  expect_gradients_match(*last, {random_tensor({2, 4, 2}, 11)}, with_mask(holey_mask()));
}

TEST_P(GRUTest, GradientsZeroOutputForMask) {
  auto l = make(3, {.return_sequences = true, .zero_output_for_mask = true});
  expect_gradients_match(*l, {random_tensor({2, 4, 2}, 12)}, with_mask(holey_mask()));
}

TEST_P(GRUTest, GradientsDropoutAndRecurrentDropout) {
  auto l = make(4, {.dropout = 0.3f, .recurrent_dropout = 0.4f, .return_sequences = true, .return_state = true});
  expect_gradients_match(*l, {random_tensor({2, 4, 3}, 13)}, {});
}

TEST_P(GRUTest, GradientsRecurrentDropoutMaskInitialState) {
  auto l = make(4, {.recurrent_dropout = 0.5f, .return_sequences = true, .go_backwards = true});
  expect_gradients_match(*l, {random_tensor({2, 4, 3}, 14), random_tensor({2, 4}, 15)}, with_mask(holey_mask()));
}

TEST_P(GRUTest, GradientsNoBias) {
  auto l = make(4, {.use_bias = false, .return_sequences = true, .return_state = true});
  expect_gradients_match(*l, {random_tensor({2, 3, 3}, 16)}, {});
  EXPECT_EQ(l->bias(), nullptr);
}

TEST_P(GRUTest, GradientsNonzeroBias) {
  // The recurrent bias row (reset_after) only matters with nonzero values.
  auto l = make(3, {.bias_initializer = Initializer::random_uniform(-0.5, 0.5), .return_sequences = true});
  expect_gradients_match(*l, {random_tensor({2, 3, 2}, 17)}, {});
}

TEST_P(GRUTest, GradientsSoftsignAndHardSigmoid) {
  auto l = make(4, {.activation = "softsign", .recurrent_activation = "hard_sigmoid", .return_sequences = true});
  const Tensor x = random_tensor({2, 3, 3}, 18);
  l->compute_output_shapes({x.shape()});
  ASSERT_GT(ref_gru(*l, x).margin, 0.05);
  expect_gradients_match(*l, {x}, {});
}

TEST_P(GRUTest, GradientsEluAndSoftplus) {
  auto l = make(3, {.activation = "elu", .recurrent_activation = "softplus", .return_sequences = true});
  expect_gradients_match(*l, {random_tensor({2, 3, 2}, 19)}, {});
}

TEST_P(GRUTest, GradientsRelu) {
  auto l = make(3, {.activation = "relu", .return_sequences = true, .return_state = true});
  const Tensor x = random_tensor({2, 3, 3}, 20);
  l->compute_output_shapes({x.shape()});
  // Weights picked so that no relu pre-activation is near 0.
  uint64_t seed = 0;
  for (uint64_t s = 1; s < 500 && seed == 0; ++s) {
    seqnet::testing::randomize_params(*l, s, -0.7f, 0.7f);
    if (ref_gru(*l, x).margin > 0.08) seed = s;
  }
  ASSERT_NE(seed, 0u) << "no kink-free weights found";
  expect_gradients_match(*l, {x}, {});
}

TEST_P(GRUTest, GradientsWithRegularizersAndPenalty) {
  auto l = make(3, {.kernel_regularizer = regularizers::l2(0.01f),
                    .recurrent_regularizer = regularizers::l1(0.02f),
                    .bias_regularizer = regularizers::l1_l2(0.03f, 0.04f)});
  const Tensor x = random_tensor({2, 3, 2}, 21);
  expect_gradients_match(*l, {x}, {});
  seqnet::testing::randomize_params(*l, 22);
  seqnet::testing::expect_regularization_gradients_match(*l);
  EXPECT_GT(l->regularization_penalty(), 0.0);
}

// ---------------------------------------------------------------------------
// Forward values against the reference

TEST_P(GRUTest, ForwardMatchesReference) {
  auto l = make(5, {.return_sequences = true, .return_state = true});
  const Tensor x = random_tensor({3, 4, 6}, 30);
  l->compute_output_shapes({x.shape()});
  seqnet::testing::randomize_params(*l, 31);
  const auto out = run(*l, {x});
  const Ref r = ref_gru(*l, x);
  expect_near(out[0], r.seq, 1e-5, "sequence");
  expect_near(out[1], r.h, 1e-5, "h");
}

TEST_P(GRUTest, ForwardMatchesReferenceWithOptions) {
  auto l = make(4, {.activation = "softsign", .recurrent_activation = "hard_sigmoid", .return_sequences = true,
                    .return_state = true, .go_backwards = true});
  const Tensor x = random_tensor({2, 4, 3}, 32), h0 = random_tensor({2, 4}, 33);
  l->compute_output_shapes({x.shape()});
  seqnet::testing::randomize_params(*l, 34);
  const auto out = l->forward({x, h0}, with_mask(holey_mask()));
  const Ref r = ref_gru(*l, x, holey_mask(), h0);
  expect_near(out[0], r.seq, 1e-5, "sequence");
  expect_near(out[1], r.h, 1e-5, "h");
}

// ---------------------------------------------------------------------------
// Semantics

TEST_P(GRUTest, MaskedBatchMatchesUnpaddedSequences) {
  auto l = make(3, {.return_sequences = true, .return_state = true});
  seqnet::testing::expect_mask_matches_unpadded(*l, random_tensor({3, 5, 2}, 40), {5, 3, 1});
  auto last = make(3);
  seqnet::testing::expect_mask_matches_unpadded(*last, random_tensor({3, 5, 2}, 41), {2, 5, 4});
  auto back = make(3, {.return_sequences = true, .return_state = true, .go_backwards = true});
  seqnet::testing::expect_mask_matches_unpadded(*back, random_tensor({3, 5, 2}, 42), {5, 3, 1},
                                                {.aligned_at_end = true});
}

TEST_P(GRUTest, MaskedStepsCarryState) {
  auto l = make(3, {.return_sequences = true, .return_state = true});
  const Tensor x = random_tensor({2, 4, 2}, 43);
  const auto out = l->forward({x}, with_mask(holey_mask()));
  for (int64_t j = 0; j < 3; ++j) {
    EXPECT_EQ(out[0].at(0, 1, j), out[0].at(0, 0, j));
    EXPECT_EQ(out[0].at(1, 3, j), out[0].at(1, 1, j));
    EXPECT_EQ(out[1].at(1, j), out[0].at(1, 1, j));
  }
}

TEST_P(GRUTest, GoBackwardsReturnsReversedOrderSequence) {
  auto fw = make(3, {.return_sequences = true, .return_state = true});
  auto bw = make(3, {.return_sequences = true, .return_state = true, .go_backwards = true});
  const Tensor x = random_tensor({2, 5, 2}, 44);
  fw->compute_output_shapes({x.shape()});
  bw->compute_output_shapes({x.shape()});
  copy_params(*fw, *bw);
  const auto a = run(*bw, {x});
  const auto b = run(*fw, {reverse_time(x)});
  for (size_t k = 0; k < a.size(); ++k) expect_near(a[k], b[k], 0, "output");
}

TEST_P(GRUTest, StatefulTwoHalvesEqualWhole) {
  auto whole = make(3, {.return_state = true});
  auto st = make(3, {.return_state = true, .stateful = true});
  const Tensor x = random_tensor({2, 6, 2}, 45);
  whole->compute_output_shapes({x.shape()});
  st->compute_output_shapes({x.shape()});
  copy_params(*whole, *st);
  Tensor x1({2, 3, 2}), x2({2, 3, 2});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t t = 0; t < 3; ++t)
      for (int64_t f = 0; f < 2; ++f) {
        x1.at(b, t, f) = x.at(b, t, f);
        x2.at(b, t, f) = x.at(b, t + 3, f);
      }
  const auto w = run(*whole, {x});
  const auto a = run(*st, {x1});
  const auto b = run(*st, {x2});
  expect_near(b[0], w[0], 1e-6, "output after two halves");
  ASSERT_EQ(st->states().size(), 1u);
  st->reset_states();
  expect_near(run(*st, {x1})[0], a[0], 0, "after reset_states()");
  const Tensor h0 = random_tensor({2, 3}, 46);
  st->reset_states({h0});
  expect_near(run(*st, {x})[0], run(*whole, {x, h0})[0], 0, "reset_states(values)");
  EXPECT_THROW_MSG(run(*st, {random_tensor({4, 3, 2}, 47)}), ShapeError, st->describe(), "batch size 2");
}

TEST_P(GRUTest, DropoutOnlyInTraining) {
  auto drop = make(4, {.dropout = 0.5f, .recurrent_dropout = 0.5f, .return_sequences = true});
  auto plain = make(4, {.return_sequences = true});
  const Tensor x = random_tensor({3, 5, 3}, 48);
  drop->compute_output_shapes({x.shape()});
  plain->compute_output_shapes({x.shape()});
  copy_params(*drop, *plain);
  const Tensor i1 = drop->forward(x, false);
  expect_near(i1, drop->forward(x, false), 0, "inference is deterministic");
  expect_near(i1, plain->forward(x, false), 0, "inference ignores dropout");
  set_seed(1);
  const Tensor t1 = drop->forward(x, true);
  set_seed(1);
  expect_near(t1, drop->forward(x, true), 0, "same seed, same masks");
  EXPECT_GT(max_abs_diff(t1, i1), 1e-3);
}

TEST_P(GRUTest, DropoutMasksAreFixedOverTimeSteps) {
  const int64_t I = 24, H = 24, T = 6;
  auto l = make(H, {.dropout = 0.5f, .recurrent_dropout = 0.5f, .return_sequences = true});
  const Tensor x = random_tensor({1, T, I}, 49);
  set_seed(3);
  auto cache = l->make_cache();
  CallArgs train;
  train.training = true;
  const auto y = l->forward({x}, train, cache.get());
  l->zero_grad();
  const auto dx = l->backward({random_tensor(y[0].shape(), 50)}, *cache);
  int dropped_in = 0, dropped_rec = 0;
  for (int64_t i = 0; i < I; ++i) {
    bool row_zero = true, dx_zero = true;
    for (int64_t g = 0; g < 3 * H; ++g) row_zero = row_zero && l->kernel().grad.at(i, g) == 0.0f;
    for (int64_t t = 0; t < T; ++t) dx_zero = dx_zero && dx[0].at(0, t, i) == 0.0f;
    EXPECT_EQ(row_zero, dx_zero) << "feature " << i;
    dropped_in += row_zero;
  }
  for (int64_t k = 0; k < H; ++k) {
    bool row_zero = true;
    for (int64_t g = 0; g < 3 * H; ++g) row_zero = row_zero && l->recurrent_kernel().grad.at(k, g) == 0.0f;
    dropped_rec += row_zero;
  }
  EXPECT_GT(dropped_in, 4);
  EXPECT_LT(dropped_in, I - 4);
  EXPECT_GT(dropped_rec, 4);
  EXPECT_LT(dropped_rec, H - 4);
}

TEST_P(GRUTest, ShapeInferenceWithNone) {
  auto l = make(8, {.return_sequences = true, .return_state = true});
  const auto s = l->compute_output_shapes({{None, None, 3}});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], (Shape{None, None, 8}));
  EXPECT_EQ(s[1], (Shape{None, 8}));
  auto last = make(8);
  EXPECT_EQ(last->compute_output_shapes({{4, None, 3}, {4, 8}}), (std::vector<Shape>{{4, 8}}));
}

TEST_P(GRUTest, WeightNamesShapesAndCounts) {
  const bool ra = GetParam();
  auto l = make(32);
  l->compute_output_shapes({{None, None, 32}});
  const auto ps = seqnet::testing::param_shapes(*l);
  ASSERT_EQ(ps.size(), 3u);
  EXPECT_EQ(ps[0], (std::pair<std::string, Shape>{"kernel", {32, 96}}));
  EXPECT_EQ(ps[1], (std::pair<std::string, Shape>{"recurrent_kernel", {32, 96}}));
  EXPECT_EQ(ps[2], (std::pair<std::string, Shape>{"bias", ra ? Shape{2, 96} : Shape{96}}));
  // 3H(I + H + 2) with reset_after, 3H(I + H + 1) without.
  EXPECT_EQ(l->count_params(), ra ? 6336 : 6240);
  auto small = make(16);
  small->compute_output_shapes({{None, 4, 10}});
  EXPECT_EQ(small->count_params(), ra ? 1344 : 1296);
  auto nb = make(16, {.use_bias = false});
  nb->compute_output_shapes({{None, 4, 10}});
  EXPECT_EQ(nb->count_params(), 1248);
  EXPECT_EQ(l->reset_after(), ra);
  // Default bias is all zeros (no unit_forget_bias for GRU).
  for (float v : l->bias()->value) EXPECT_EQ(v, 0.0f);
}

// ---------------------------------------------------------------------------
// Plain tests

TEST(GRU, DefaultIsResetAfterAndNames) {
  clear_session();
  layers::GRU a(3), b(3, {.reset_after = false});
  EXPECT_TRUE(a.reset_after());
  EXPECT_FALSE(b.reset_after());
  EXPECT_EQ(a.name(), "gru");
  EXPECT_EQ(b.name(), "gru_1");
  EXPECT_EQ(a.class_name(), "GRU");
  EXPECT_EQ(a.num_states(), 1);
  EXPECT_EQ(a.gates(), 3);
}

TEST(GRU, Errors) {
  clear_session();
  EXPECT_THROW_MSG(layers::GRU(0), ValueError, "GRU \"gru\"", "units", "got 0");
  EXPECT_THROW_MSG(layers::GRU(2, GRUOptions{.dropout = 1.0f}), ValueError, "GRU \"gru_1\"", "`dropout`", "got 1");
  EXPECT_THROW_MSG(layers::GRU(2, GRUOptions{.recurrent_dropout = -0.5f}), ValueError, "`recurrent_dropout`",
                   "-0.5");
  EXPECT_THROW_MSG(layers::GRU(2, GRUOptions{.activation = "nope"}), ValueError, "GRU \"gru_", "'nope'");
  EXPECT_THROW_MSG(layers::GRU(2, GRUOptions{.recurrent_activation = "nope2"}), ValueError, "recurrent_activation",
                   "'nope2'");
  EXPECT_THROW_MSG(layers::GRU(2, GRUOptions{.kernel_initializer = "he"}), ValueError, "kernel_initializer", "'he'");

  clear_session();
  layers::GRU l(4, {.reset_after = false});
  EXPECT_THROW_MSG(l.forward(Tensor({2, 3})), ShapeError, "GRU \"gru\"", "(2, 3)");
  l.forward(Tensor({2, 3, 5}));
  EXPECT_THROW_MSG(l.forward(Tensor({2, 3, 6})), ShapeError, "GRU \"gru\"", "(batch, time, 5)", "(2, 3, 6)");
  const Tensor x({2, 3, 5});
  EXPECT_THROW_MSG(l.forward({x, Tensor({2, 4}), Tensor({2, 4})}), ValueError, "GRU \"gru\"", "1 initial state",
                   "got 3 tensors");
  EXPECT_THROW_MSG(l.forward({x, Tensor({2, 3})}), ShapeError, "GRU \"gru\"", "initial state 0", "(2, 4)", "(2, 3)");
  CallArgs bad_mask;
  bad_mask.mask = Tensor({2, 5});
  EXPECT_THROW_MSG(l.forward({x}, bad_mask), ShapeError, "GRU \"gru\"", "mask", "(2, 5)");
  auto cache = l.make_cache();
  EXPECT_THROW_MSG(l.backward({Tensor({2, 4})}, *cache), Error, "GRU \"gru\"", "training = true");
}
