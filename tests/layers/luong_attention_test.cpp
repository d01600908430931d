// LuongAttention: finite-difference gradients for each score (with and
// without masks), forward values against a double reference, masked encoder
// steps, weights, shapes, config, bad input.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <seqnet/io/config.hpp>
#include <seqnet/io/model_io.hpp>
#include <seqnet/seqnet.hpp>

#include <cmath>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_gradients_match;
using seqnet::testing::expect_near;
using seqnet::testing::param_at;
using seqnet::testing::random_tensor;

namespace {

CallArgs with_masks(const Tensor& hmask, const Tensor& smask) {
  CallArgs a;
  a.mask = hmask;
  a.masks = {hmask, smask};
  return a;
}

const char* const kScores[] = {"dot", "general", "concat", "location"};

// Luong's equations in double. Weights from the layer.
std::vector<Tensor> reference(layers::LuongAttention& l, const Tensor& h, const Tensor& s, const Tensor& hmask,
                              const Tensor& smask) {
  const int64_t B = h.dim(0), Tq = h.dim(1), Ts = s.dim(1), Dq = h.dim(2), Ds = s.dim(2), U = l.units();
  Tensor ht({B, Tq, U}), ctx({B, Tq, Ds}), a({B, Tq, Ts});
  const std::string score = l.options().score;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < Tq; ++i) {
      std::vector<double> e(Ts);
      for (int64_t j = 0; j < Ts; ++j) {
        double v = 0;
        if (score == "dot") {
          for (int64_t d = 0; d < Dq; ++d) v += h.at(b, i, d) * s.at(b, j, d);
        } else if (score == "general") {
          const Tensor& W = param_at(l, "W_a").value;
          for (int64_t d = 0; d < Dq; ++d)
            for (int64_t k = 0; k < Ds; ++k) v += h.at(b, i, d) * W.at(d, k) * s.at(b, j, k);
        } else if (score == "concat") {
          const Tensor& W = param_at(l, "W_a").value;
          const Tensor& V = param_at(l, "V_a").value;
          for (int64_t u = 0; u < U; ++u) {
            double pre = 0;
            for (int64_t d = 0; d < Dq; ++d) pre += h.at(b, i, d) * W.at(d, u);
            for (int64_t k = 0; k < Ds; ++k) pre += s.at(b, j, k) * W.at(Dq + k, u);
            v += V[u] * std::tanh(pre);
          }
        } else {
          const Tensor& W = param_at(l, "W_a").value;
          for (int64_t d = 0; d < Dq; ++d) v += h.at(b, i, d) * W.at(d, j);
        }
        e[j] = v;
      }
      double m = -1e300, sum = 0;
      for (int64_t j = 0; j < Ts; ++j)
        if (smask.empty() || smask.at(b, j) != 0) m = std::max(m, e[j]);
      std::vector<double> w(Ts, 0.0);
      for (int64_t j = 0; j < Ts; ++j) {
        if (smask.empty() || smask.at(b, j) != 0) w[j] = std::exp(e[j] - m);
        sum += w[j];
      }
      const bool on = hmask.empty() || hmask.at(b, i) != 0;
      std::vector<double> c(Ds, 0.0);
      for (int64_t j = 0; j < Ts; ++j) {
        w[j] /= sum;
        a.at(b, i, j) = static_cast<float>(w[j]);
        for (int64_t k = 0; k < Ds; ++k) c[k] += w[j] * s.at(b, j, k);
      }
      const Tensor& Wc = param_at(l, "W_c").value;
      for (int64_t u = 0; u < U; ++u) {
        double pre = 0;
        for (int64_t k = 0; k < Ds; ++k) pre += c[k] * Wc.at(k, u);
        for (int64_t d = 0; d < Dq; ++d) pre += h.at(b, i, d) * Wc.at(Ds + d, u);
        ht.at(b, i, u) = on ? static_cast<float>(std::tanh(pre)) : 0.0f;
      }
      for (int64_t k = 0; k < Ds; ++k) ctx.at(b, i, k) = on ? static_cast<float>(c[k]) : 0.0f;
    }
  return {ht, ctx, a};
}

}  // namespace

// Tolerances: the checker's defaults (eps 1e-2, rtol 2e-2, atol 2e-3).
TEST(LuongAttention, GradientsEachScore) {
  for (const char* score : kScores) {
    SCOPED_TRACE(score);
    layers::LuongAttention l(5, {.score = score});
    const int64_t Ds = std::string(score) == "dot" ? 4 : 3;
    expect_gradients_match(l, {random_tensor({2, 3, 4}, 1), random_tensor({2, 4, Ds}, 2)}, {});
  }
}

TEST(LuongAttention, GradientsEachScoreWithMasks) {
  // Decoder step 2 of batch 0 and steps 1-2 of batch 1 are padding; encoder
  // steps 3 (batch 0) and 2-3 (batch 1) too.
  Tensor hmask({2, 3}, {1, 1, 0, 1, 0, 0});
  Tensor smask({2, 4}, {1, 1, 1, 0, 1, 1, 0, 0});
  for (const char* score : kScores) {
    SCOPED_TRACE(score);
    layers::LuongAttention l(3, {.score = score});
    expect_gradients_match(l, {random_tensor({2, 3, 4}, 3), random_tensor({2, 4, 4}, 4)}, with_masks(hmask, smask));
  }
}

TEST(LuongAttention, GradientsThroughOneOutputAtATime) {
  for (int k = 0; k < 3; ++k) {
    layers::LuongAttention l(3, {.score = "concat"});
    expect_gradients_match(l, {random_tensor({2, 3, 4}, 5), random_tensor({2, 4, 2}, 6)}, {}, {.outputs = {k}});
  }
}

TEST(LuongAttention, MatchesReferenceEachScore) {
  const Tensor h = random_tensor({2, 3, 4}, 7), s = random_tensor({2, 5, 4}, 8);
  Tensor hmask({2, 3}, {1, 1, 0, 1, 1, 1});
  Tensor smask({2, 5}, {1, 1, 0, 1, 0, 1, 1, 1, 1, 1});
  for (const char* score : kScores) {
    SCOPED_TRACE(score);
    layers::LuongAttention l(6, {.score = score});
    auto out = seqnet::testing::run(l, {h, s}, with_masks(hmask, smask));
    auto want = reference(l, h, s, hmask, smask);
    expect_near(out[0], want[0], 2e-6, "attentional states");
    expect_near(out[1], want[1], 2e-6, "context");
    expect_near(out[2], want[2], 2e-6, "weights");
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 5; ++j) {
          if (smask.at(b, j) == 0) {
            EXPECT_EQ(out[2].at(b, i, j), 0.0f);
          }
        }
  }
}

TEST(LuongAttention, WeightsShapesAndConfig) {
  using P = std::vector<std::pair<std::string, Shape>>;
  layers::LuongAttention dot(8, {.score = "dot"});
  EXPECT_EQ(dot.compute_output_shapes({{None, None, 6}, {None, None, 6}}),
            (std::vector<Shape>{{None, None, 8}, {None, None, 6}, {None, None, None}}));
  EXPECT_EQ(seqnet::testing::param_shapes(dot), (P{{"W_c", {12, 8}}}));
  layers::LuongAttention general(8);
  general.compute_output_shapes({{None, 3, 6}, {None, 5, 4}});
  EXPECT_EQ(seqnet::testing::param_shapes(general), (P{{"W_a", {6, 4}}, {"W_c", {10, 8}}}));
  EXPECT_EQ(general.count_params(), 6 * 4 + 10 * 8);
  layers::LuongAttention concat(8, {.score = "concat"});
  concat.compute_output_shapes({{None, 3, 6}, {None, 5, 4}});
  EXPECT_EQ(seqnet::testing::param_shapes(concat), (P{{"W_a", {10, 8}}, {"V_a", {8}}, {"W_c", {10, 8}}}));
  layers::LuongAttention location(8, {.score = "location"});
  location.compute_output_shapes({{None, 3, 6}, {None, 5, 4}});
  EXPECT_EQ(seqnet::testing::param_shapes(location), (P{{"W_a", {6, 5}}, {"W_c", {10, 8}}}));
  const auto cfg = concat.get_config();
  EXPECT_EQ(cfg["units"], 8);
  EXPECT_EQ(cfg["score"], "concat");
  EXPECT_EQ(cfg["name"], concat.name());
}

TEST(LuongAttention, InAModelWithSummary) {
  clear_session();
  auto src = Input({5, 7});
  auto tgt = Input({None, 7});
  auto enc = LSTM(6, {.return_sequences = true, .return_state = true})(src);
  auto dec = LSTM(6, {.return_sequences = true})(tgt, {.initial_state = {enc[1], enc[2]}});
  auto att = LuongAttention(6, {.score = "general"})({dec, enc[0]});
  auto out = TimeDistributed(Dense(7, {.activation = "softmax"}))(att[0]);
  Model m({src, tgt}, {out});
  const std::string s = m.summary_string();
  EXPECT_NE(s.find("luong_attention (LuongAttention"), std::string::npos) << s;
  EXPECT_NE(s.find(std::to_string(6 * 6 + 12 * 6)), std::string::npos) << s;
  m.compile({.optimizer = "adam", .loss = "categorical_crossentropy"});
  Tensor x1 = random_tensor({4, 5, 7}, 1), x2 = random_tensor({4, 3, 7}, 2), y = random_tensor({4, 3, 7}, 3, 0, 1);
  const double l0 = m.train_on_batch({x1, x2}, y).at("loss");
  for (int i = 0; i < 30; ++i) m.train_on_batch({x1, x2}, y);
  EXPECT_LT(m.test_on_batch({x1, x2}, y).at("loss"), l0);
}

TEST(LuongAttention, BadInput) {
  EXPECT_THROW_MSG(layers::LuongAttention(0), ValueError, "units", "got 0");
  EXPECT_THROW_MSG(layers::LuongAttention(4, {.score = "bilinear"}), ValueError, "score", "\"bilinear\"");
  layers::LuongAttention dot(4, {.score = "dot"});
  EXPECT_THROW_MSG(seqnet::testing::run(dot, {random_tensor({2, 3, 4}, 1), random_tensor({2, 5, 3}, 2)}), ShapeError,
                   "\"dot\"", "(2, 3, 4)", "(2, 5, 3)");
  layers::LuongAttention l(4);
  EXPECT_THROW_MSG(seqnet::testing::run(l, {random_tensor({2, 3, 4}, 1), random_tensor({3, 5, 4}, 2)}), ShapeError,
                   "same batch size", "(2, 3, 4)", "(3, 5, 4)");
  EXPECT_THROW_MSG(seqnet::testing::run(l, {random_tensor({2, 3, 4}, 1)}), ValueError, "expected 2 input tensors");
  seqnet::testing::run(l, {random_tensor({2, 3, 4}, 1), random_tensor({2, 5, 4}, 2)});
  EXPECT_THROW_MSG(seqnet::testing::run(l, {random_tensor({2, 3, 4}, 1), random_tensor({2, 5, 6}, 2)}), ShapeError,
                   "built for h_t (batch, time, 4) and h_s (batch, time, 4)", "(2, 5, 6)");
  EXPECT_THROW_MSG(seqnet::testing::run(l, {random_tensor({2, 3, 4}, 1), random_tensor({2, 5, 4}, 2)},
                                        with_masks(Tensor(), Tensor({2, 3}))),
                   ShapeError, "mask of input 1", "(2, 5)", "(2, 3)");
  layers::LuongAttention loc(4, {.score = "location"});
  EXPECT_THROW_MSG(loc.compute_output_shapes({{None, 3, 4}, {None, None, 4}}), ShapeError, "fixed number of encoder",
                   "(None, None, 4)");
  seqnet::testing::run(loc, {random_tensor({2, 3, 4}, 1), random_tensor({2, 5, 4}, 2)});
  EXPECT_THROW_MSG(seqnet::testing::run(loc, {random_tensor({2, 3, 4}, 1), random_tensor({2, 6, 4}, 2)}), ShapeError,
                   "built for 5 encoder steps", "(2, 6, 4)");
}

// ---------------------------------------------------------------- model files

TEST(AttentionLayers, ConfigAndModelFileRoundTrip) {
  // get_config -> layer_from_config, and a whole model with the three
  // attention layers saved and loaded: the same predictions.
  for (const auto& layer : {LuongAttention(5, {.score = "concat"}), Attention({.use_scale = true,
                                                                              .score_mode = "concat",
                                                                              .dropout = 0.25f}),
                            AdditiveAttention({.use_scale = false})}) {
    const auto cfg = layer_to_config(*layer);
    auto back = layer_from_config(cfg);
    EXPECT_EQ(back->class_name(), layer->class_name());
    EXPECT_EQ(layer_to_config(*back), cfg) << cfg.dump();
  }
  clear_session();
  set_seed(3);
  auto src = Input({None});
  auto tgt = Input({None});
  auto enc = LSTM(6, {.return_sequences = true, .return_state = true})(Embedding(9, 4, {.mask_zero = true})(src));
  auto dec = LSTM(6, {.return_sequences = true})(Embedding(9, 4, {.mask_zero = true})(tgt),
                                                 {.initial_state = {enc[1], enc[2]}});
  auto a = Attention({.use_scale = true})({dec, enc[0]});
  auto b = AdditiveAttention()({dec, enc[0]});
  auto l = LuongAttention(6, {.score = "general"})({dec, enc[0]});
  auto out = Dense(9, {.activation = "softmax"})(Concatenate()({a, b, l[0]}));
  Model m({src, tgt}, {out});
  for (Param* p : m.params())
    for (float& v : p->value) v += 0.01f;  // not the initial values
  Tensor s({2, 4}, {1, 2, 3, 0, 4, 5, 0, 0}), t({2, 3}, {6, 7, 0, 8, 0, 0});
  const Tensor want = m.predict({s, t});
  auto loaded = load_model_from_bytes(save_model_to_bytes(m));
  expect_near(loaded->predict({s, t}), want, 0, "predictions after a save/load round trip");
}
