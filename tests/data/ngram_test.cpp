// data::NgramModel (src/data/ngram.cpp): interpolated Kneser-Ney values
// worked out by hand on tiny corpora, normalization over the vocabulary in
// seen and unseen contexts, scoring, and errors.

#include <gtest/gtest.h>
#include <seqnet/data/ngram.hpp>
#include <seqnet/error.hpp>

#include <cmath>
#include <random>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_error;

TEST(Ngram, UnigramByHand) {
  // "aab", V = 3 (a, b, c): counts a 2, b 1; n1 = 1, n2 = 1 -> D = 1/3;
  // p(w) = max(c - D, 0) / 3 + D * 2 / 3 * 1/3.
  const auto lm = data::NgramModel::fit({{0, 0, 1}}, 3, {.order = 1});
  EXPECT_NEAR(lm.discounts()[0], 1.0 / 3, 1e-15);
  EXPECT_NEAR(lm.probability({}, 0), 17.0 / 27, 1e-15);
  EXPECT_NEAR(lm.probability({}, 1), 8.0 / 27, 1e-15);
  EXPECT_NEAR(lm.probability({}, 2), 2.0 / 27, 1e-15);
  EXPECT_NEAR(lm.bits({0, 2}), -std::log2(17.0 / 27) - std::log2(2.0 / 27), 1e-12);
}

TEST(Ngram, BigramContinuationCountsByHand) {
  // "ab" and "cb": bigrams (<s> a) (a b) (<s> c) (c b), all once -> D2 = 0.5
  // (no count of 2); unigram continuation counts a 1, b 2, c 1 -> n1 = 2,
  // n2 = 1, D1 = 0.5; p1(b) = 1.5/4 + 0.5 * 3/4 * 1/3 = 0.5, p1(a) = 0.25.
  const auto lm = data::NgramModel::fit({{0, 1}, {2, 1}}, 3, {.order = 2});
  EXPECT_NEAR(lm.discounts()[0], 0.5, 1e-15);
  EXPECT_NEAR(lm.discounts()[1], 0.5, 1e-15);
  // "b" never precedes anything: its context is unseen, the unigram answers.
  EXPECT_NEAR(lm.probability({1}, 1), 0.5, 1e-15);
  EXPECT_NEAR(lm.probability({1}, 0), 0.25, 1e-15);
  // p(b | a) = (1 - 0.5) / 1 + 0.5 * 1 / 1 * p1(b) = 0.75.
  EXPECT_NEAR(lm.probability({0}, 1), 0.75, 1e-15);
  // p(a | <s>) = 0.5 / 2 + 0.5 * 2 / 2 * p1(a) = 0.375.
  EXPECT_NEAR(lm.probability({}, 0), 0.375, 1e-15);
  EXPECT_NEAR(lm.bits({0, 1}), -std::log2(0.375) - std::log2(0.75), 1e-12);
}

TEST(Ngram, NormalizedInEveryContext) {
  std::mt19937 rng(3);
  const int64_t v = 7;
  std::vector<std::vector<int64_t>> seqs(20);
  for (auto& s : seqs) {
    s.resize(5 + rng() % 40);
    for (auto& x : s) x = static_cast<int64_t>(rng() % 3 == 0 ? rng() % v : rng() % 3);  // skewed, some ids rare
  }
  for (int order = 1; order <= 5; ++order) {
    const auto lm = data::NgramModel::fit(seqs, v, {.order = order});
    for (int trial = 0; trial < 60; ++trial) {
      std::vector<int64_t> ctx(rng() % 6);
      for (auto& x : ctx) x = static_cast<int64_t>(rng() % v);
      if (trial < 20 && !seqs[trial].empty()) ctx.assign(seqs[trial].begin(), seqs[trial].begin() + std::min<size_t>(4, seqs[trial].size()));
      double sum = 0;
      for (int64_t w = 0; w < v; ++w) {
        const double p = lm.probability(ctx, w);
        EXPECT_GT(p, 0) << "order " << order;
        sum += p;
      }
      ASSERT_NEAR(sum, 1.0, 1e-12) << "order " << order << " trial " << trial;
    }
  }
}

TEST(Ngram, HigherOrdersFitRepetitiveTextBetter) {
  std::vector<int64_t> text;
  for (int r = 0; r < 200; ++r)
    for (int64_t x : {0, 1, 2, 3, 1, 2, 0, 3}) text.push_back(x);
  const std::vector<int64_t> test(text.begin(), text.begin() + 64);
  double previous = 1e300;
  for (int order = 1; order <= 4; ++order) {
    const double b = data::NgramModel::fit({text}, 4, {.order = order}).bits(test);
    EXPECT_LT(b, previous) << order;
    previous = b;
  }
  EXPECT_LT(previous / 64, 0.1) << "a period-8 text is almost certain from 3 symbols of context";
}

TEST(Ngram, Errors) {
  expect_error<ValueError>([] { data::NgramModel::fit({{0, 1}}, 2, {.order = 6}); }, {"order", "[1, 5]", "6"});
  expect_error<ValueError>([] { data::NgramModel::fit({{0, 1}}, 5000); }, {"vocabulary_size", "5000"});
  expect_error<ValueError>([] { data::NgramModel::fit({{0, 1}, {1, 2}}, 2); }, {"sequence 1 position 1", "id 2"});
  expect_error<ValueError>([] { data::NgramModel::fit({{}, {}}, 2); }, {"no symbol"});
  const auto lm = data::NgramModel::fit({{0, 1}}, 2);
  expect_error<ValueError>([&] { lm.probability({0, 5}, 1); }, {"context id 5"});
  expect_error<ValueError>([&] { lm.probability({0}, -1); }, {"symbol id -1"});
  expect_error<ValueError>([&] { lm.bits({0, 3}); }, {"position 1", "id 3"});
}
