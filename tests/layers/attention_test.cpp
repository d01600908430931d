// Attention and AdditiveAttention: finite-difference gradients for every
// configuration (with masks, keys, causal masks, scores output, dropout),
// forward values against a double-precision reference, masks through a
// model, weights and shapes, bad input.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <seqnet/seqnet.hpp>

#include <cmath>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_gradients_match;
using seqnet::testing::expect_near;
using seqnet::testing::random_tensor;

namespace {

CallArgs with_masks(std::vector<Tensor> masks) {
  CallArgs a;
  a.mask = masks.at(0);
  a.masks = std::move(masks);
  return a;
}

// Reference: the Keras formulas in double, for dot (scale s) or additive
// (per-feature scale) scores.
Tensor reference(const Tensor& q, const Tensor& v, const Tensor& k, const Tensor& qmask, const Tensor& vmask,
                 bool additive, const std::vector<float>& scale, bool causal, Tensor* weights) {
  const int64_t B = q.dim(0), Tq = q.dim(1), Tv = v.dim(1), D = q.dim(2), Dv = v.dim(2);
  Tensor out({B, Tq, Dv});
  if (weights) *weights = Tensor({B, Tq, Tv});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < Tq; ++i) {
      std::vector<double> s(Tv), a(Tv, 0.0);
      double m = -1e300;
      bool any = false;
      for (int64_t j = 0; j < Tv; ++j) {
        double e = 0;
        for (int64_t d = 0; d < D; ++d) {
          const double qd = q.at(b, i, d), kd = k.at(b, j, d);
          e += additive ? (scale.empty() ? 1.0 : scale[d]) * std::tanh(qd + kd) : qd * kd;
        }
        if (!additive && !scale.empty()) e *= scale[0];
        s[j] = e;
        const bool ok = (vmask.empty() || vmask.at(b, j) != 0) && (!causal || j <= i);
        if (ok) {
          m = std::max(m, e);
          any = true;
        } else {
          s[j] = -INFINITY;
        }
      }
      double sum = 0;
      for (int64_t j = 0; j < Tv; ++j) {
        a[j] = any && std::isfinite(s[j]) ? std::exp(s[j] - m) : 0.0;
        sum += a[j];
      }
      for (int64_t j = 0; j < Tv; ++j) {
        a[j] = sum > 0 ? a[j] / sum : 0.0;
        if (weights) weights->at(b, i, j) = static_cast<float>(a[j]);
      }
      const bool qon = qmask.empty() || qmask.at(b, i) != 0;
      for (int64_t d = 0; d < Dv; ++d) {
        double o = 0;
        for (int64_t j = 0; j < Tv; ++j) o += a[j] * v.at(b, j, d);
        out.at(b, i, d) = qon ? static_cast<float>(o) : 0.0f;
      }
    }
  return out;
}

}  // namespace

// ---------------------------------------------------------------- gradients
// Tolerances: the checker's defaults (eps 1e-2, rtol 2e-2, atol 2e-3).

TEST(Attention, GradientsDot) {
  layers::Attention l;
  expect_gradients_match(l, {random_tensor({2, 3, 4}, 1), random_tensor({2, 5, 4}, 2)}, {});
}

TEST(Attention, GradientsDotScaledWithKeyAndScores) {
  layers::Attention l({.use_scale = true, .return_attention_scores = true});
  expect_gradients_match(l, {random_tensor({2, 3, 4}, 3), random_tensor({2, 5, 6}, 4), random_tensor({2, 5, 4}, 5)},
                         {});
}

TEST(Attention, GradientsConcat) {
  layers::Attention l({.score_mode = "concat"});
  expect_gradients_match(l, {random_tensor({2, 3, 4}, 6), random_tensor({2, 4, 4}, 7)}, {});
}

TEST(Attention, GradientsConcatScaledWithKey) {
  layers::Attention l({.use_scale = true, .score_mode = "concat", .return_attention_scores = true});
  expect_gradients_match(l, {random_tensor({2, 3, 4}, 8), random_tensor({2, 4, 3}, 9), random_tensor({2, 4, 4}, 10)},
                         {});
}

TEST(Attention, GradientsWithMasks) {
  // Query mask zeroes output rows; value mask removes steps; one query row of
  // batch 1 sees no value step at all once causal (row 0 with value step 0 masked).
  for (bool causal : {false, true}) {
    layers::Attention l({.use_scale = true, .return_attention_scores = true, .use_causal_mask = causal});
    Tensor qmask({2, 4}, {1, 1, 1, 0, 1, 1, 0, 0});
    Tensor vmask({2, 5}, {1, 1, 1, 1, 0, 0, 1, 1, 0, 0});
    expect_gradients_match(l, {random_tensor({2, 4, 3}, 11), random_tensor({2, 5, 3}, 12)},
                           with_masks({qmask, vmask}));
  }
}

TEST(Attention, GradientsWithDropout) {
  layers::Attention l({.dropout = 0.3f, .return_attention_scores = true});
  expect_gradients_match(l, {random_tensor({2, 3, 4}, 13), random_tensor({2, 5, 4}, 14)}, {});
}

TEST(AdditiveAttention, Gradients) {
  layers::AdditiveAttention l;
  expect_gradients_match(l, {random_tensor({2, 3, 4}, 15), random_tensor({2, 5, 4}, 16)}, {});
}

TEST(AdditiveAttention, GradientsUnscaledWithKeyScoresAndMasks) {
  layers::AdditiveAttention l({.use_scale = false, .return_attention_scores = true});
  Tensor qmask({2, 3}, {1, 0, 1, 1, 1, 1});
  Tensor vmask({2, 4}, {1, 1, 0, 1, 1, 0, 0, 0});
  expect_gradients_match(l, {random_tensor({2, 3, 4}, 17), random_tensor({2, 4, 2}, 18), random_tensor({2, 4, 4}, 19)},
                         with_masks({qmask, vmask, Tensor()}));
}

TEST(AdditiveAttention, GradientsCausalWithDropout) {
  layers::AdditiveAttention l({.dropout = 0.25f, .use_causal_mask = true});
  expect_gradients_match(l, {random_tensor({2, 4, 3}, 20), random_tensor({2, 4, 3}, 21)}, {});
}

// ---------------------------------------------------------------- values

TEST(Attention, MatchesReference) {
  const Tensor q = random_tensor({2, 3, 4}, 30), v = random_tensor({2, 5, 6}, 31), k = random_tensor({2, 5, 4}, 32);
  Tensor qmask({2, 3}, {1, 1, 0, 1, 1, 1});
  Tensor vmask({2, 5}, {1, 0, 1, 1, 0, 0, 0, 1, 1, 1});
  for (bool causal : {false, true}) {
    layers::Attention l({.use_scale = true, .return_attention_scores = true, .use_causal_mask = causal});
    l.compute_output_shapes({q.shape(), v.shape(), k.shape()});
    l.params()[0]->value[0] = 0.7f;
    auto out = seqnet::testing::run(l, {q, v, k}, with_masks({qmask, vmask, Tensor()}));
    Tensor w;
    const Tensor want = reference(q, v, k, qmask, vmask, false, {0.7f}, causal, &w);
    expect_near(out[0], want, 1e-5, "output");
    expect_near(out[1], w, 1e-6, "weights");
    // Masked value steps get exactly zero weight.
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 5; ++j) {
          if (vmask.at(b, j) == 0) {
            EXPECT_EQ(out[1].at(b, i, j), 0.0f);
          }
        }
  }
}

TEST(AdditiveAttention, MatchesReference) {
  const Tensor q = random_tensor({2, 3, 4}, 33), v = random_tensor({2, 5, 4}, 34);
  Tensor vmask({2, 5}, {1, 1, 1, 0, 0, 1, 1, 1, 1, 1});
  layers::AdditiveAttention l({.return_attention_scores = true});
  l.compute_output_shapes({q.shape(), v.shape()});
  const Tensor scale = l.params()[0]->value;
  std::vector<float> sc(scale.begin(), scale.end());
  auto out = seqnet::testing::run(l, {q, v}, with_masks({Tensor(), vmask}));
  Tensor w;
  expect_near(out[0], reference(q, v, v, Tensor(), vmask, true, sc, false, &w), 1e-5, "output");
  expect_near(out[1], w, 1e-6, "weights");
}

TEST(Attention, InferenceIgnoresDropout) {
  const Tensor q = random_tensor({1, 2, 3}, 35), v = random_tensor({1, 4, 3}, 36);
  layers::Attention a({.dropout = 0.5f}), b;
  expect_near(seqnet::testing::run(a, {q, v})[0], seqnet::testing::run(b, {q, v})[0], 0, "inference output");
}

// ---------------------------------------------------------------- weights, shapes, config

TEST(Attention, WeightsShapesAndConfig) {
  layers::Attention plain;
  EXPECT_EQ(plain.compute_output_shapes({{None, 3, 8}, {None, None, 5}, {None, None, 8}}),
            (std::vector<Shape>{{None, 3, 5}}));
  EXPECT_EQ(plain.count_params(), 0);
  layers::Attention both({.use_scale = true, .score_mode = "concat", .return_attention_scores = true});
  EXPECT_EQ(both.compute_output_shapes({{4, 3, 8}, {4, 7, 8}}), (std::vector<Shape>{{4, 3, 8}, {4, 3, 7}}));
  EXPECT_EQ(seqnet::testing::param_shapes(both),
            (std::vector<std::pair<std::string, Shape>>{{"scale", {}}, {"concat_score_weight", {}}}));
  EXPECT_EQ(both.count_params(), 2);
  const auto cfg = both.get_config();
  EXPECT_EQ(cfg["use_scale"], true);
  EXPECT_EQ(cfg["score_mode"], "concat");
  EXPECT_EQ(cfg["name"], both.name());
  layers::AdditiveAttention add;
  add.compute_output_shapes({{None, 3, 8}, {None, 6, 8}});
  EXPECT_EQ(seqnet::testing::param_shapes(add), (std::vector<std::pair<std::string, Shape>>{{"scale", {8}}}));
  EXPECT_EQ(add.get_config()["use_scale"], true);
  layers::AdditiveAttention add0({.use_scale = false});
  add0.compute_output_shapes({{None, 3, 8}, {None, 6, 8}});
  EXPECT_EQ(add0.count_params(), 0);
}

TEST(Attention, QueryMaskIsTheOutputMask) {
  layers::Attention l;
  Tensor qm({1, 2}, {1, 0}), vm({1, 3}, {1, 1, 0});
  EXPECT_EQ(l.compute_mask({}, {qm, vm}).to_vector(), qm.to_vector());
  EXPECT_TRUE(l.compute_mask({}, {}).empty());
}

// ---------------------------------------------------------------- masks in a model

TEST(Attention, MasksFlowFromEmbeddingsInAModel) {
  // Embedding(mask_zero) on both sides: padded source steps get zero weight,
  // padded target steps a zero output, and the loss skips them.
  clear_session();
  auto src = Input({None});
  auto tgt = Input({None});
  auto emb_s = Embedding(10, 4, {.mask_zero = true})(src);
  auto emb_t = Embedding(10, 4, {.mask_zero = true})(tgt);
  auto att = Attention({.return_attention_scores = true})({emb_t, emb_s});
  Model m({src, tgt}, {att[0], att[1]});
  Tensor s({2, 4}, {3, 4, 0, 0, 1, 2, 3, 5});
  Tensor t({2, 3}, {2, 0, 0, 7, 8, 9});
  Tensors out = m.predict({s, t});
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(out[1].at(0, i, 2), 0.0f);
    EXPECT_EQ(out[1].at(0, i, 3), 0.0f);
  }
  for (int64_t d = 0; d < 4; ++d) {
    EXPECT_EQ(out[0].at(0, 1, d), 0.0f);
    EXPECT_EQ(out[0].at(0, 2, d), 0.0f);
  }
  EXPECT_NEAR(out[1].at(0, 0, 0) + out[1].at(0, 0, 1), 1.0f, 1e-6);
  EXPECT_NEAR(out[1].at(1, 0, 0) + out[1].at(1, 0, 1) + out[1].at(1, 0, 2) + out[1].at(1, 0, 3), 1.0f, 1e-6);
}

// ---------------------------------------------------------------- bad input

TEST(Attention, BadInput) {
  using seqnet::ShapeError;
  using seqnet::ValueError;
  EXPECT_THROW_MSG(layers::Attention({.score_mode = "general"}), ValueError, "score_mode", "\"general\"");
  EXPECT_THROW_MSG(layers::Attention({.dropout = 1.0f}), ValueError, "dropout", "[0, 1)");
  EXPECT_THROW_MSG(layers::AdditiveAttention({.dropout = -0.1f}), ValueError, "dropout");
  layers::Attention l;
  const Tensor q = random_tensor({2, 3, 4}, 1), v = random_tensor({2, 5, 4}, 2);
  EXPECT_THROW_MSG(seqnet::testing::run(l, {q}), ValueError, "Attention \"", "expected 2 or 3 input tensors", "got 1");
  EXPECT_THROW_MSG(seqnet::testing::run(l, {q, random_tensor({3, 5, 4}, 3)}), ShapeError, "same batch size",
                   "(2, 3, 4)", "(3, 5, 4)");
  EXPECT_THROW_MSG(seqnet::testing::run(l, {q, random_tensor({2, 5, 6}, 3)}), ShapeError, "same feature size",
                   "(2, 3, 4)", "(2, 5, 6)");
  EXPECT_THROW_MSG(seqnet::testing::run(l, {q, v, random_tensor({2, 4, 4}, 3)}), ShapeError, "key and the value",
                   "(2, 5, 4)", "(2, 4, 4)");
  EXPECT_THROW_MSG(seqnet::testing::run(l, {q, random_tensor({2, 5}, 3)}), ShapeError, "value (input 1)",
                   "(batch, time, features)", "(2, 5)");
  // Masks of the wrong shape.
  EXPECT_THROW_MSG(seqnet::testing::run(l, {q, v}, with_masks({Tensor(), Tensor({2, 4})})), ShapeError,
                   "mask of input 1", "(2, 5)", "(2, 4)");
  EXPECT_THROW_MSG(seqnet::testing::run(l, {q, v}, with_masks({Tensor({3, 3}), Tensor()})), ShapeError,
                   "mask of shape (batch, time) = (2, 3)", "(3, 3)");
  EXPECT_THROW_MSG(seqnet::testing::run(l, {q, v}, with_masks({Tensor()})), ValueError, "one mask per input",
                   "2 inputs", "1 masks");
  layers::AdditiveAttention a;
  seqnet::testing::run(a, {q, v});
  EXPECT_THROW_MSG(seqnet::testing::run(a, {random_tensor({2, 3, 6}, 4), random_tensor({2, 5, 6}, 5)}), ShapeError,
                   "built for query features 4", "got 6");
}
