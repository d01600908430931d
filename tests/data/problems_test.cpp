// The original problem generators of src/data/problems.cpp: seed 01's
// reversed sequences, seed 02's subset_reversed and random_integers. (The
// generators added later, echo, first-n, cumulative sum and first
// appearance, are tested in generators_test.cpp.)

#include <gtest/gtest.h>
#include <seqnet/data/encoding.hpp>
#include <seqnet/data/problems.hpp>
#include <seqnet/error.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace seqnet;
using namespace seqnet::data;

TEST(Problems, RandomIntegersRangeAndSeed) {
  Generator a(1), b(1);
  auto x = random_integers(1000, 3, 7, a);
  EXPECT_EQ(x, random_integers(1000, 3, 7, b));
  EXPECT_EQ(*std::min_element(x.begin(), x.end()), 3);
  EXPECT_EQ(*std::max_element(x.begin(), x.end()), 6);
  EXPECT_TRUE(random_integers(0, 0, 1, a).empty());
  EXPECT_THROW(random_integers(5, 2, 2, a), ValueError);
  EXPECT_THROW(random_integers(-1, 0, 2, a), ValueError);
}

TEST(Problems, ReversedSequences) {
  Generator g(2);
  auto p = reversed_sequences(6, 4, 10, g);
  ASSERT_EQ(p.x.shape(), (Shape{6, 4, 10}));
  ASSERT_EQ(p.y.shape(), (Shape{6, 4, 10}));
  auto xi = argmax_last(p.x), yi = argmax_last(p.y);
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t t = 0; t < 4; ++t) EXPECT_EQ(yi[i * 4 + t], xi[i * 4 + 3 - t]);
  EXPECT_THROW(reversed_sequences(1, 0, 10, g), ValueError);
}

TEST(Problems, SubsetReversedTeacherForcing) {
  Generator g(3);
  auto d = subset_reversed(5, 6, 3, 51, g);
  ASSERT_EQ(d.x1.shape(), (Shape{5, 6, 51}));
  ASSERT_EQ(d.x2.shape(), (Shape{5, 3, 51}));
  ASSERT_EQ(d.y.shape(), (Shape{5, 3, 51}));
  auto src = argmax_last(d.x1), tin = argmax_last(d.x2), tout = argmax_last(d.y);
  for (int64_t i = 0; i < 5; ++i) {
    for (int64_t t = 0; t < 6; ++t) EXPECT_GE(src[i * 6 + t], 1);  // 0 is reserved
    for (int64_t t = 0; t < 3; ++t) EXPECT_EQ(tout[i * 3 + t], src[i * 6 + 2 - t]);
    EXPECT_EQ(tin[i * 3], 0);
    for (int64_t t = 1; t < 3; ++t) EXPECT_EQ(tin[i * 3 + t], tout[i * 3 + t - 1]);
  }
  EXPECT_THROW(subset_reversed(1, 3, 4, 10, g), ValueError);
  EXPECT_THROW(subset_reversed(1, 3, 2, 1, g), ValueError);
}
