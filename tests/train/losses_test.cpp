// Losses (src/train/losses.cpp): values against hand-computed Keras
// formulas, gradients against central finite differences, reduction
// ("sum_over_batch_size" over the leading axes), masks and errors.

#include <gtest/gtest.h>
#include <seqnet/data/encoding.hpp>
#include <seqnet/seqnet.hpp>

#include <cmath>
#include <string>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::random_tensor;

namespace {

constexpr double kEps = 1e-7;

using seqnet::testing::expect_error;

double value(const Loss& loss, const Tensor& t, const Tensor& p, const Tensor& mask = Tensor()) {
  return loss.compute(t, p, mask, nullptr);
}

// Central differences of the loss in every element of y_pred; the step is
// the float-rounded one actually taken. Tolerance: atol + rtol |numeric|.
void expect_gradient_matches(const Loss& loss, const Tensor& t, const Tensor& p, const Tensor& mask = Tensor(),
                             double eps = 1e-4, double atol = 1e-4, double rtol = 1e-3) {
  Tensor grad;
  const double l0 = loss.compute(t, p, mask, &grad);
  ASSERT_EQ(grad.shape(), p.shape());
  EXPECT_TRUE(std::isfinite(l0));
  Tensor q = p.clone();
  for (int64_t i = 0; i < q.size(); ++i) {
    const float orig = q[i];
    const float hi = orig + static_cast<float>(eps), lo = orig - static_cast<float>(eps);
    q[i] = hi;
    const double lp = loss.compute(t, q, mask, nullptr);
    q[i] = lo;
    const double lm = loss.compute(t, q, mask, nullptr);
    q[i] = orig;
    const double numeric = (lp - lm) / (static_cast<double>(hi) - lo);
    EXPECT_NEAR(grad[i], numeric, atol + rtol * std::abs(numeric)) << loss.name() << " element " << i;
  }
}

// Probabilities: rows summing to 1, none below 0.2 / C.
Tensor random_probs(const Shape& s, uint64_t seed) {
  Tensor p = random_tensor(s, seed, 0.2f, 1.0f);
  const int64_t C = s.back();
  for (int64_t r = 0; r < p.size() / C; ++r) {
    double sum = 0;
    for (int64_t k = 0; k < C; ++k) sum += p[r * C + k];
    for (int64_t k = 0; k < C; ++k) p[r * C + k] = static_cast<float>(p[r * C + k] / sum);
  }
  return p;
}

}  // namespace

TEST(Losses, CategoricalCrossentropyValue) {
  auto cce = CategoricalCrossentropy();
  EXPECT_EQ(cce->name(), "categorical_crossentropy");
  // Two rows: -log(0.7) and -log(0.2); the loss is their mean.
  Tensor t({2, 3}, {1, 0, 0, 0, 0, 1});
  Tensor p({2, 3}, {0.7f, 0.2f, 0.1f, 0.3f, 0.5f, 0.2f});
  EXPECT_NEAR(value(*cce, t, p), (-std::log(0.7) - std::log(0.2)) / 2, 1e-6);
  // Soft labels: -sum t log p.
  Tensor soft({1, 3}, {0.5f, 0.25f, 0.25f});
  Tensor q({1, 3}, {0.5f, 0.25f, 0.25f});
  EXPECT_NEAR(value(*cce, soft, q), -(0.5 * std::log(0.5) + 0.5 * std::log(0.25)), 1e-6);
}

TEST(Losses, CategoricalCrossentropyNormalizesAndClips) {
  auto cce = CategoricalCrossentropy();
  // Predictions are divided by their sum first: [2, 6, 2] -> [0.2, 0.6, 0.2].
  Tensor t({1, 3}, {0, 1, 0});
  EXPECT_NEAR(value(*cce, t, Tensor({1, 3}, {2, 6, 2})), -std::log(0.6), 1e-6);
  // A zero probability is clipped to eps = 1e-7: -log(1e-7) = 16.118...
  Tensor t0({1, 2}, {1, 0});
  EXPECT_NEAR(value(*cce, t0, Tensor({1, 2}, {0, 1})), -std::log(kEps), 1e-4);
  // A probability of 1 is clipped to 1 - eps.
  EXPECT_NEAR(value(*cce, t0, Tensor({1, 2}, {1, 0})), -std::log1p(-kEps), 1e-9);
  // The clip has zero gradient outside [eps, 1 - eps] (as TensorFlow's clip_by_value).
  Tensor g;
  cce->compute(t0, Tensor({1, 2}, {0, 1}), Tensor(), &g);
  EXPECT_EQ(g[0], 0.0f);
  EXPECT_EQ(g[1], 0.0f);
}

TEST(Losses, CategoricalCrossentropyGradient) {
  auto cce = CategoricalCrossentropy();
  // One-hot targets and normalized predictions.
  Tensor p = random_probs({3, 4, 5}, 1);
  Tensor t = data::to_categorical(Tensor({3, 4}, {0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1}), 5);
  expect_gradient_matches(*cce, t, p);
  // Unnormalized predictions and soft targets.
  Tensor raw = random_tensor({2, 4}, 2, 0.2f, 2.0f);
  Tensor soft = random_probs({2, 4}, 3);
  expect_gradient_matches(*cce, soft, raw);
}

TEST(Losses, SparseCategoricalCrossentropyMatchesCategorical) {
  auto scce = SparseCategoricalCrossentropy();
  auto cce = CategoricalCrossentropy();
  EXPECT_TRUE(scce->sparse());
  Tensor p = random_probs({2, 3, 4}, 4);
  Tensor ids({2, 3}, {0, 3, 1, 2, 2, 0});
  Tensor onehot = data::to_categorical(ids, 4);
  Tensor gs, gc;
  const double ls = scce->compute(ids, p, Tensor(), &gs);
  const double lc = cce->compute(onehot, p, Tensor(), &gc);
  EXPECT_NEAR(ls, lc, 1e-9);
  EXPECT_LE(max_abs_diff(gs, gc), 1e-6f);
  // Ids with a trailing axis of 1 are accepted too.
  EXPECT_NEAR(value(*scce, ids.reshape({2, 3, 1}), p), lc, 1e-9);
  expect_gradient_matches(*scce, ids, p);
  // Hand value.
  EXPECT_NEAR(value(*scce, Tensor({1}, {2}), Tensor({1, 3}, {0.2f, 0.3f, 0.5f})), -std::log(0.5), 1e-6);
}

TEST(Losses, SparseCategoricalCrossentropyRejectsBadIds) {
  auto scce = SparseCategoricalCrossentropy();
  Tensor p = random_probs({2, 3}, 5);
  expect_error<ValueError>([&] { value(*scce, Tensor({2}, {0, 3}), p); }, {"sparse_categorical_crossentropy", "label 3", "[0, 3)"});
  expect_error<ValueError>([&] { value(*scce, Tensor({2}, {0, 1.5f}), p); }, {"label 1.5"});
  expect_error<ValueError>([&] { value(*scce, Tensor({2}, {-1, 0}), p); }, {"label -1"});
  expect_error<ShapeError>([&] { value(*scce, Tensor({2, 3}), p); }, {"(2,)", "(2, 3)", "class ids"});
}

TEST(Losses, BinaryCrossentropyValueAndGradient) {
  auto bce = BinaryCrossentropy();
  // Mean over the last axis of -(t log(p + eps) + (1 - t) log(1 - p + eps)).
  Tensor t({1, 2}, {1, 0});
  Tensor p({1, 2}, {0.8f, 0.3f});
  const double want = -(std::log(0.8 + kEps) + std::log(1 - 0.3 + kEps)) / 2;
  EXPECT_NEAR(value(*bce, t, p), want, 1e-6);
  // Rows are averaged: a second row [t=1, p=0.5] x2.
  Tensor t2({2, 2}, {1, 0, 1, 1});
  Tensor p2({2, 2}, {0.8f, 0.3f, 0.5f, 0.5f});
  EXPECT_NEAR(value(*bce, t2, p2), (want - std::log(0.5 + kEps)) / 2, 1e-6);
  // p = 0 with t = 1 is clipped to eps: -log(2 eps) / 1.
  EXPECT_NEAR(value(*bce, Tensor({1, 1}, {1}), Tensor({1, 1}, {0})), -std::log(2 * kEps), 1e-3);
  expect_gradient_matches(*bce, random_tensor({3, 2, 4}, 6, 0.0f, 1.0f).clone(), random_tensor({3, 2, 4}, 7, 0.05f, 0.95f));
}

TEST(Losses, MeanSquaredAndAbsoluteError) {
  auto mse = make_loss("mse");
  auto mae = make_loss("mean_absolute_error");
  EXPECT_EQ(mse->name(), "mean_squared_error");
  EXPECT_EQ(mae->name(), "mean_absolute_error");
  Tensor t({2, 2}, {1, 2, 3, 4});
  Tensor p({2, 2}, {1.5f, 2, 1, 4});
  // Rows: mean(0.25, 0) = 0.125 and mean(4, 0) = 2 -> 1.0625.
  EXPECT_NEAR(value(*mse, t, p), (0.125 + 2.0) / 2, 1e-7);
  // Rows: mean(0.5, 0) = 0.25 and mean(2, 0) = 1 -> 0.625.
  EXPECT_NEAR(value(*mae, t, p), (0.25 + 1.0) / 2, 1e-7);
  Tensor g;
  mse->compute(t, p, Tensor(), &g);
  // d/dp = 2 (p - t) / (cols * rows).
  EXPECT_FLOAT_EQ(g[0], 2 * 0.5f / 4);
  EXPECT_FLOAT_EQ(g[2], 2 * -2.0f / 4);
  mae->compute(t, p, Tensor(), &g);
  EXPECT_FLOAT_EQ(g[0], 1.0f / 4);
  EXPECT_FLOAT_EQ(g[1], 0.0f);
  EXPECT_FLOAT_EQ(g[2], -1.0f / 4);
  Tensor a = random_tensor({3, 4, 2}, 8), b = random_tensor({3, 4, 2}, 9);
  expect_gradient_matches(*mse, a, b);
  expect_gradient_matches(*mae, a, b);  // random values: no element sits at the kink
}

TEST(Losses, Huber) {
  auto h = make_loss("huber");
  EXPECT_EQ(h->name(), "huber_loss");
  // |x| = 0.5 <= 1: 0.5 x^2 = 0.125; |x| = 2 > 1: delta (|x| - delta / 2) = 1.5.
  Tensor t({1, 2}, {0, 0});
  EXPECT_NEAR(value(*h, t, Tensor({1, 2}, {0.5f, -2.0f})), (0.125 + 1.5) / 2, 1e-7);
  auto h2 = Huber(2.0f);
  // delta 2: |x| = 3 -> 2 (3 - 1) = 4; |x| = 1 -> 0.5.
  EXPECT_NEAR(value(*h2, t, Tensor({1, 2}, {3.0f, 1.0f})), (4.0 + 0.5) / 2, 1e-7);
  Tensor a = random_tensor({2, 5}, 10, -3, 3), b = random_tensor({2, 5}, 11, -3, 3);
  expect_gradient_matches(*h, a, b);
  expect_gradient_matches(*h2, a, b);
  expect_error<ValueError>([] { Huber(0.0f); }, {"Huber", "delta", "0"});
  expect_error<ValueError>([] { Huber(-1.0f); }, {"delta", "-1"});
}

TEST(Losses, MaskedStepsDoNotCount) {
  auto cce = CategoricalCrossentropy();
  Tensor p = random_probs({2, 3, 4}, 12);
  Tensor t = data::to_categorical(Tensor({2, 3}, {0, 1, 2, 3, 0, 1}), 4);
  Tensor mask({2, 3}, {1, 1, 0, 1, 0, 0});
  // Mean over the three real steps only.
  double want = 0;
  const int64_t real[] = {0, 1, 3};
  for (int64_t r : real) {
    Tensor tr = t.reshape({6, 4}).rows(r, r + 1), pr = p.reshape({6, 4}).rows(r, r + 1);
    want += value(*cce, tr, pr);
  }
  want /= 3;
  EXPECT_NEAR(value(*cce, t, p, mask), want, 1e-7);
  // Masked steps get zero gradient; the others 1/3 of the row gradient.
  Tensor g;
  cce->compute(t, p, mask, &g);
  for (int64_t k = 0; k < 4; ++k) {
    EXPECT_EQ(g[2 * 4 + k], 0.0f);
    EXPECT_EQ(g[4 * 4 + k], 0.0f);
    EXPECT_EQ(g[5 * 4 + k], 0.0f);
  }
  expect_gradient_matches(*cce, t, p, mask);
  expect_gradient_matches(*make_loss("mse"), random_tensor({2, 3, 4}, 13), random_tensor({2, 3, 4}, 14), mask);
  // Changing a masked step changes nothing.
  Tensor p2 = p.clone();
  p2[5 * 4] = 0.9f;
  EXPECT_EQ(value(*cce, t, p2, mask), value(*cce, t, p, mask));
  // Everything masked: zero loss.
  EXPECT_EQ(value(*cce, t, p, Tensor({2, 3})), 0.0);
}

TEST(Losses, ShapeErrorsNameBothShapes) {
  auto mse = make_loss("mse");
  expect_error<ShapeError>([&] { value(*mse, Tensor({2, 3}), Tensor({2, 4})); },
                           {"mean_squared_error", "(2, 4)", "(2, 3)"});
  expect_error<ShapeError>([&] { value(*mse, Tensor({2, 3, 4}), Tensor({2, 3, 4}), Tensor({2, 2})); },
                           {"mask", "(2, 2)", "(2, 3, 4)"});
}

TEST(Losses, NamesAndAliases) {
  EXPECT_EQ(make_loss("mean_squared_error")->name(), "mean_squared_error");
  EXPECT_EQ(make_loss("mae")->name(), "mean_absolute_error");
  EXPECT_EQ(make_loss("huber_loss")->name(), "huber_loss");
  EXPECT_EQ(make_loss("categorical_crossentropy")->name(), "categorical_crossentropy");
  EXPECT_EQ(make_loss("sparse_categorical_crossentropy")->name(), "sparse_categorical_crossentropy");
  EXPECT_EQ(make_loss("binary_crossentropy")->name(), "binary_crossentropy");
  expect_error<ValueError>([] { make_loss("categorical_crossentropyy"); },
                           {"unknown loss 'categorical_crossentropyy'", "'mse'", "'binary_crossentropy'"});
}
