// Scores of the real-data experiments (src/data/evaluation.cpp): edit
// distance against a full-table reference, ROC AUC against the pair count
// it must equal, and the best F1 against a brute-force sweep.

#include <gtest/gtest.h>
#include <seqnet/data/evaluation.hpp>
#include <seqnet/error.hpp>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_error;

namespace {

// The textbook full (|a|+1) x (|b|+1) table.
int64_t reference_distance(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  std::vector<std::vector<int64_t>> d(a.size() + 1, std::vector<int64_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = static_cast<int64_t>(i);
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = static_cast<int64_t>(j);
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j)
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
  return d[a.size()][b.size()];
}

}  // namespace

TEST(EditDistance, KnownCases) {
  EXPECT_EQ(data::edit_distance(std::string("kitten"), std::string("sitting")), 3);
  EXPECT_EQ(data::edit_distance(std::string(""), std::string("abc")), 3);
  EXPECT_EQ(data::edit_distance(std::string("abc"), std::string("")), 3);
  EXPECT_EQ(data::edit_distance(std::string("same"), std::string("same")), 0);
  const std::vector<std::string> hyp{"HH", "AH0", "L", "OW1"}, ref{"HH", "EH0", "L", "OW1", "Z"};
  EXPECT_EQ(data::edit_distance(hyp, ref), 2);
}

TEST(EditDistance, MatchesFullTableOnRandomSequences) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<int64_t> a(rng() % 12), b(rng() % 12);
    for (auto& x : a) x = rng() % 4;
    for (auto& x : b) x = rng() % 4;
    ASSERT_EQ(data::edit_distance(a, b), reference_distance(a, b)) << trial;
    ASSERT_EQ(data::edit_distance(b, a), reference_distance(a, b)) << trial;
  }
}

TEST(Roc, AucEqualsPairProbabilityWithTies) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 50; ++trial) {
    const size_t n = 20 + rng() % 60;
    std::vector<double> s(n);
    std::vector<int> y(n);
    for (size_t i = 0; i < n; ++i) {
      y[i] = static_cast<int>(rng() % 3 == 0);
      s[i] = static_cast<double>(rng() % 10) + 2.0 * y[i] * (rng() % 2);  // many ties
    }
    y[0] = 1;
    y[1] = 0;
    double wins = 0, pairs = 0;
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j)
        if (y[i] == 1 && y[j] == 0) {
          pairs += 1;
          wins += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
        }
    const auto c = data::roc_curve(s, y);
    ASSERT_NEAR(c.auc, wins / pairs, 1e-12) << trial;
    EXPECT_DOUBLE_EQ(data::roc_auc(s, y), c.auc);
    // One point per distinct score plus the origin, ending at (1, 1).
    EXPECT_EQ(c.thresholds.size(), std::set<double>(s.begin(), s.end()).size());
    EXPECT_DOUBLE_EQ(c.false_positive_rate.back(), 1.0);
    EXPECT_DOUBLE_EQ(c.true_positive_rate.back(), 1.0);
    EXPECT_TRUE(std::is_sorted(c.false_positive_rate.begin(), c.false_positive_rate.end()));
  }
  EXPECT_DOUBLE_EQ(data::roc_auc({0.9, 0.8, 0.1, 0.2}, {1, 1, 0, 0}), 1.0);
  EXPECT_DOUBLE_EQ(data::roc_auc({0.1, 0.2, 0.9, 0.8}, {1, 1, 0, 0}), 0.0);
}

TEST(Roc, BestF1MatchesBruteForce) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 50; ++trial) {
    const size_t n = 30;
    std::vector<double> s(n);
    std::vector<int> y(n);
    for (size_t i = 0; i < n; ++i) {
      y[i] = static_cast<int>(rng() % 4 == 0);
      s[i] = static_cast<double>(rng() % 15) + 3.0 * y[i];
    }
    y[0] = 1;
    y[1] = 0;
    double best = -1, best_t = 0;
    for (double t : std::set<double>(s.begin(), s.end())) {  // ascending: ">=" keeps the higher threshold on ties
      double tp = 0, fp = 0, fn = 0;
      for (size_t i = 0; i < n; ++i) {
        const bool p = s[i] >= t;
        tp += p && y[i];
        fp += p && !y[i];
        fn += !p && y[i];
      }
      const double f1 = tp == 0 ? 0 : 2 * tp / (2 * tp + fp + fn);
      if (f1 >= best) best = f1, best_t = t;
    }
    const auto b = data::best_f1(s, y);
    ASSERT_NEAR(b.f1, best, 1e-12) << trial;
    EXPECT_EQ(b.threshold, best_t) << trial;
    EXPECT_NEAR(2 * b.precision * b.recall / (b.precision + b.recall), b.f1, 1e-12);
  }
}

TEST(Roc, RejectsBadInput) {
  expect_error<ValueError>([] { data::roc_auc({1, 2}, {1}); }, {"2 scores", "1 labels"});
  expect_error<ValueError>([] { data::roc_auc({1, 2}, {1, 2}); }, {"labels[1] is 2"});
  expect_error<ValueError>([] { data::roc_auc({1, 2}, {1, 1}); }, {"both classes", "2 positive", "0 negative"});
  expect_error<ValueError>([] { data::best_f1({1, std::nan("")}, {1, 0}); }, {"scores[1] is NaN"});
}
