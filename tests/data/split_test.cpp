#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <algorithm>
#include <string>

#include "support/gradcheck.hpp"

using namespace seqnet;

namespace {

using seqnet::testing::expect_error;

std::vector<int64_t> range(int64_t a, int64_t b) {
  std::vector<int64_t> r;
  for (int64_t i = a; i < b; ++i) r.push_back(i);
  return r;
}

}  // namespace

TEST(SplitIndices, UnshuffledKeepsOrderLikeKerasValidationSplit) {
  auto s = data::split_indices(10, {.validation = 0.2, .shuffle = false});
  EXPECT_EQ(s.train, range(0, 8));
  EXPECT_EQ(s.validation, range(8, 10));
  EXPECT_TRUE(s.test.empty());
  auto t = data::split_indices(10, {.validation = 0.2, .test = 0.3, .shuffle = false});
  EXPECT_EQ(t.train, range(0, 5));
  EXPECT_EQ(t.validation, range(5, 7));
  EXPECT_EQ(t.test, range(7, 10));
}

TEST(SplitIndices, SizesRoundUpHeldOutParts) {
  auto s = data::split_indices(10, {.validation = 0.25, .shuffle = false});
  EXPECT_EQ(s.validation.size(), 3u);
  EXPECT_EQ(s.train.size(), 7u);
  // 0.1 * 30 is 3.0000000000000004 in binary: still 3.
  auto t = data::split_indices(30, {.validation = 0.1, .test = 0.1, .shuffle = false});
  EXPECT_EQ(t.validation.size(), 3u);
  EXPECT_EQ(t.test.size(), 3u);
  EXPECT_EQ(t.train.size(), 24u);
  auto none = data::split_indices(0, {.validation = 0.5});
  EXPECT_TRUE(none.train.empty() && none.validation.empty() && none.test.empty());
}

TEST(SplitIndices, ShuffledIsAPartitionAndReproducible) {
  Generator g1(7), g2(7), g3(8);
  auto a = data::split_indices(100, {.validation = 0.1, .test = 0.2, .generator = &g1});
  auto b = data::split_indices(100, {.validation = 0.1, .test = 0.2, .generator = &g2});
  auto c = data::split_indices(100, {.validation = 0.1, .test = 0.2, .generator = &g3});
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.validation, b.validation);
  EXPECT_EQ(a.test, b.test);
  EXPECT_NE(a.train, c.train);
  EXPECT_EQ(a.train.size(), 70u);
  EXPECT_EQ(a.validation.size(), 10u);
  EXPECT_EQ(a.test.size(), 20u);
  std::vector<int64_t> all = a.train;
  all.insert(all.end(), a.validation.begin(), a.validation.end());
  all.insert(all.end(), a.test.begin(), a.test.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, range(0, 100));
  EXPECT_NE(a.train, range(0, 70));  // actually shuffled
}

TEST(SplitIndices, GlobalGeneratorFollowsSetSeed) {
  set_seed(3);
  auto a = data::split_indices(50, {.validation = 0.2});
  set_seed(3);
  auto b = data::split_indices(50, {.validation = 0.2});
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.validation, b.validation);
}

TEST(SplitIndices, BadFractions) {
  expect_error<ValueError>([] { data::split_indices(10, {.validation = 1.0}); }, "validation fraction");
  expect_error<ValueError>([] { data::split_indices(10, {.test = -0.1}); }, "test fraction");
  expect_error<ValueError>([] { data::split_indices(10, {.validation = 0.5, .test = 0.5}); }, "no training");
  expect_error<ValueError>([] { data::split_indices(1, {.validation = 0.1}); }, "no training");
  expect_error<ValueError>([] { data::split_indices(-1); }, "-1");
}

TEST(TakeRows, GathersAlongFirstAxis) {
  Tensor t({3, 2}, {0, 1, 10, 11, 20, 21});
  Tensor r = data::take_rows(t, {2, 0, 2});
  EXPECT_EQ(r.shape(), (Shape{3, 2}));
  EXPECT_EQ(r.to_vector(), (std::vector<float>{20, 21, 0, 1, 20, 21}));
  EXPECT_FALSE(r.shares_storage(t));
  EXPECT_EQ(data::take_rows(t, {}).shape(), (Shape{0, 2}));
  expect_error<ValueError>([&] { data::take_rows(t, {3}); }, "index 3");
  expect_error<ShapeError>([] { data::take_rows(Tensor(), {0}); }, "empty");
}

TEST(TrainTestSplit, SplitsAlignedTensorsTogether) {
  const int64_t n = 20;
  Tensor x({n, 3, 2}), y({n, 1});
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < 6; ++k) x[i * 6 + k] = static_cast<float>(i);
    y[i] = static_cast<float>(i);
  }
  Generator g(1);
  auto s = data::train_test_split({x, y}, {.validation = 0.25, .test = 0.25, .generator = &g});
  ASSERT_EQ(s.train.size(), 2u);
  EXPECT_EQ(s.train[0].shape(), (Shape{10, 3, 2}));
  EXPECT_EQ(s.validation[0].shape(), (Shape{5, 3, 2}));
  EXPECT_EQ(s.test[1].shape(), (Shape{5, 1}));
  for (const auto* part : {&s.train, &s.validation, &s.test}) {
    const Tensor& px = (*part)[0];
    const Tensor& py = (*part)[1];
    for (int64_t i = 0; i < py.dim(0); ++i) EXPECT_EQ(px[i * 6 + 5], py[i]);  // rows stay aligned
  }
}

TEST(TrainTestSplit, BadInput) {
  expect_error<ShapeError>([] { data::train_test_split({Tensor({4, 2}), Tensor({5, 1})}); }, "(5, 1)");
  expect_error<ValueError>([] { data::train_test_split({}); }, "no tensors");
}
