// Generator: determinism, ranges, distribution moments, permutations.

#include <gtest/gtest.h>
#include <seqnet/random.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

using namespace seqnet;

TEST(Random, SameSeedSameSequence) {
  Generator a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    differs = differs || x != c.next_u64();
  }
  EXPECT_TRUE(differs);
  a.seed_with(7);
  b.seed_with(7);
  EXPECT_EQ(a.normal(), b.normal());
  EXPECT_EQ(a.uniform(), b.uniform());
}

TEST(Random, ReseedingForgetsTheSpareNormal) {
  Generator a(1);
  a.normal();  // leaves a spare
  a.seed_with(5);
  Generator b(5);
  EXPECT_EQ(a.normal(), b.normal());
}

TEST(Random, GlobalGeneratorSetSeed) {
  set_seed(123);
  const float x = global_generator().uniform();
  const double n = global_generator().normal();
  set_seed(123);
  EXPECT_EQ(global_generator().uniform(), x);
  EXPECT_EQ(global_generator().normal(), n);
  EXPECT_EQ(&global_generator(), &global_generator());
}

TEST(Random, UniformRangeAndMoments) {
  Generator g(3);
  const int n = 200000;
  double s = 0, s2 = 0;
  float lo = 1, hi = 0;
  for (int i = 0; i < n; ++i) {
    const float u = g.uniform();
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    lo = std::min(lo, u);
    hi = std::max(hi, u);
    s += u;
    s2 += static_cast<double>(u) * u;
  }
  EXPECT_NEAR(s / n, 0.5, 0.005);
  EXPECT_NEAR(s2 / n - (s / n) * (s / n), 1.0 / 12, 0.002);
  EXPECT_LT(lo, 1e-3);
  EXPECT_GT(hi, 0.999);
  for (int i = 0; i < 1000; ++i) {
    const float v = g.uniform(-2.0f, 3.0f);
    ASSERT_GE(v, -2.0f);
    ASSERT_LT(v, 3.0f);
  }
}

TEST(Random, BelowIsInRangeAndUniform) {
  Generator g(4);
  int counts[7] = {};
  for (int i = 0; i < 70000; ++i) {
    const uint64_t v = g.below(7);
    ASSERT_LT(v, 7u);
    ++counts[v];
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);
  EXPECT_EQ(g.below(1), 0u);
}

TEST(Random, NormalMoments) {
  Generator g(5);
  const int n = 200000;
  double s = 0, s2 = 0, s4 = 0;
  for (int i = 0; i < n; ++i) {
    const double v = g.normal();
    s += v;
    s2 += v * v;
    s4 += v * v * v * v;
  }
  EXPECT_NEAR(s / n, 0.0, 0.01);
  EXPECT_NEAR(s2 / n, 1.0, 0.015);
  EXPECT_NEAR(s4 / n, 3.0, 0.1);  // kurtosis of a normal
}

TEST(Random, TruncatedNormalWithinTwoSigma) {
  Generator g(6);
  const int n = 100000;
  double s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double v = g.truncated_normal();
    ASSERT_LE(std::abs(v), 2.0);
    s2 += v * v;
  }
  // Variance of a standard normal truncated at +-2: 0.7737...
  EXPECT_NEAR(s2 / n, 0.7737413, 0.01);
}

TEST(Random, Permutation) {
  Generator g(7), h(7);
  const auto p = g.permutation(50);
  EXPECT_EQ(p, h.permutation(50));
  std::vector<int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> want(50);
  std::iota(want.begin(), want.end(), 0);
  EXPECT_EQ(sorted, want);
  EXPECT_NE(p, want);
  EXPECT_TRUE(g.permutation(0).empty());
  EXPECT_EQ(g.permutation(1), std::vector<int64_t>{0});
  // Every position takes every value over many draws.
  std::set<int64_t> first;
  for (int i = 0; i < 200; ++i) first.insert(g.permutation(5)[0]);
  EXPECT_EQ(first.size(), 5u);
}
