#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <string>

#include "support/gradcheck.hpp"

using namespace seqnet;
using data::PadOptions;

namespace {

std::vector<float> v(std::initializer_list<float> x) { return std::vector<float>(x); }

using seqnet::testing::expect_error;

}  // namespace

// ---------------------------------------------------------------- pad_sequences

TEST(PadSequences, DefaultsPadAndTruncateBeforeToLongest) {
  Tensor t = data::pad_sequences({{1, 2, 3}, {4, 5}, {6}});
  EXPECT_EQ(t.shape(), (Shape{3, 3}));
  EXPECT_EQ(t.to_vector(), v({1, 2, 3, 0, 4, 5, 0, 0, 6}));
}

TEST(PadSequences, PostPadding) {
  Tensor t = data::pad_sequences({{1, 2, 3}, {4, 5}}, {.padding = "post"});
  EXPECT_EQ(t.to_vector(), v({1, 2, 3, 4, 5, 0}));
}

TEST(PadSequences, MaxlenShorterTruncatesPreByDefault) {
  // Keras: truncating "pre" keeps the last maxlen values.
  Tensor t = data::pad_sequences({{1, 2, 3, 4}, {5}}, {.maxlen = 2});
  EXPECT_EQ(t.shape(), (Shape{2, 2}));
  EXPECT_EQ(t.to_vector(), v({3, 4, 0, 5}));
}

TEST(PadSequences, MaxlenShorterTruncatesPost) {
  Tensor t = data::pad_sequences({{1, 2, 3, 4}, {5}}, {.maxlen = 2, .truncating = "post"});
  EXPECT_EQ(t.to_vector(), v({1, 2, 0, 5}));
}

TEST(PadSequences, TruncatingAndPaddingAreIndependent) {
  Tensor t = data::pad_sequences({{1, 2, 3, 4}, {5}}, {.maxlen = 3, .padding = "post", .truncating = "pre"});
  EXPECT_EQ(t.to_vector(), v({2, 3, 4, 5, 0, 0}));
}

TEST(PadSequences, MaxlenLongerPadsEveryRow) {
  Tensor t = data::pad_sequences({{1, 2}, {3}}, {.maxlen = 4});
  EXPECT_EQ(t.shape(), (Shape{2, 4}));
  EXPECT_EQ(t.to_vector(), v({0, 0, 1, 2, 0, 0, 0, 3}));
}

TEST(PadSequences, CustomValue) {
  Tensor t = data::pad_sequences({{1}, {2, 3, 4}}, {.padding = "post", .value = -1.0f});
  EXPECT_EQ(t.to_vector(), v({1, -1, -1, 2, 3, 4}));
}

TEST(PadSequences, EmptyInputs) {
  Tensor none = data::pad_sequences(std::vector<std::vector<int64_t>>{});
  EXPECT_EQ(none.shape(), (Shape{0, 0}));
  Tensor none_maxlen = data::pad_sequences(std::vector<std::vector<int64_t>>{}, {.maxlen = 5});
  EXPECT_EQ(none_maxlen.shape(), (Shape{0, 5}));
  // An empty sequence is a row of padding.
  Tensor t = data::pad_sequences({{}, {7, 8}}, {.value = 9.0f});
  EXPECT_EQ(t.to_vector(), v({9, 9, 7, 8}));
  Tensor all_empty = data::pad_sequences({{}, {}});
  EXPECT_EQ(all_empty.shape(), (Shape{2, 0}));
  Tensor zero = data::pad_sequences({{1, 2}}, {.maxlen = 0});
  EXPECT_EQ(zero.shape(), (Shape{1, 0}));
}

TEST(PadSequences, BadOptions) {
  expect_error<ValueError>([] { data::pad_sequences({{1}}, {.padding = "middle"}); }, "padding");
  expect_error<ValueError>([] { data::pad_sequences({{1}}, {.truncating = "both"}); }, "truncating");
  expect_error<ValueError>([] { data::pad_sequences({{1}}, {.maxlen = -1}); }, "maxlen");
}

TEST(PadSequences, TensorSequencesPadWholeSteps) {
  Tensor a({3, 2}, {1, 2, 3, 4, 5, 6});
  Tensor b({1, 2}, {7, 8});
  Tensor t = data::pad_tensor_sequences(std::vector<Tensor>{a, b}, {.maxlen = 2, .padding = "post"});
  EXPECT_EQ(t.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(t.to_vector(), v({3, 4, 5, 6, 7, 8, 0, 0}));
  Tensor r1 = data::pad_tensor_sequences(std::vector<Tensor>{Tensor({2}, {1, 2}), Tensor({1}, {3})});
  EXPECT_EQ(r1.shape(), (Shape{2, 2}));
  EXPECT_EQ(r1.to_vector(), v({1, 2, 0, 3}));
}

TEST(PadSequences, TensorSequencesBadShapes) {
  expect_error<ShapeError>(
      [] { data::pad_tensor_sequences(std::vector<Tensor>{Tensor({2, 3}), Tensor({2, 4})}); }, "(2, 4)");
  expect_error<ShapeError>([] { data::pad_tensor_sequences(std::vector<Tensor>{Tensor()}); }, "sequence 0");
}

// ---------------------------------------------------------------- pad_one_hot

TEST(PadOneHot, PaddingIsAllZeroRows) {
  Tensor t = data::pad_one_hot({{1, 2}, {3}}, 4, {.padding = "post"});
  EXPECT_EQ(t.shape(), (Shape{2, 2, 4}));
  EXPECT_EQ(t.to_vector(), v({0, 1, 0, 0, 0, 0, 1, 0,  //
                              0, 0, 0, 1, 0, 0, 0, 0}));
  // Decoding the padding gives id 0 again.
  EXPECT_EQ(data::argmax_last(t), (std::vector<int64_t>{1, 2, 3, 0}));
}

TEST(PadOneHot, BadValues) {
  expect_error<ValueError>([] { data::pad_one_hot({{1, 5}}, 4); }, "value 5");
  expect_error<ValueError>([] { data::pad_one_hot({{-1}}, 4); }, "value -1");
  expect_error<ValueError>([] { data::pad_one_hot({{1}}, 0); }, "n_features");
}

// ---------------------------------------------------------------- to_supervised

TEST(ToSupervised, SeedFiveExample) {
  // Seed 05's printed sequence and its first and last pairs for n_in 5, n_out 3.
  const std::vector<int64_t> seq{86, 81, 88, 1,  23, 78, 64, 7,  99, 23, 2,  36, 73,
                                 26, 27, 33, 24, 51, 73, 64, 13, 13, 53, 40, 64};
  auto s = data::to_supervised(data::one_hot_encode(seq, 100), 5, 3);
  EXPECT_EQ(s.x.shape(), (Shape{21, 5, 100}));
  EXPECT_EQ(s.y.shape(), (Shape{21, 3, 100}));
  auto xi = data::argmax_last(s.x), yi = data::argmax_last(s.y);
  EXPECT_EQ(std::vector<int64_t>(xi.begin(), xi.begin() + 5), (std::vector<int64_t>{86, 81, 88, 1, 23}));
  EXPECT_EQ(std::vector<int64_t>(yi.begin(), yi.begin() + 3), (std::vector<int64_t>{86, 81, 88}));
  EXPECT_EQ(std::vector<int64_t>(xi.begin() + 5, xi.begin() + 10), (std::vector<int64_t>{81, 88, 1, 23, 78}));
  EXPECT_EQ(std::vector<int64_t>(yi.begin() + 3, yi.begin() + 6), (std::vector<int64_t>{81, 88, 1}));
  EXPECT_EQ(std::vector<int64_t>(xi.end() - 5, xi.end()), (std::vector<int64_t>{13, 13, 53, 40, 64}));
  EXPECT_EQ(std::vector<int64_t>(yi.end() - 3, yi.end()), (std::vector<int64_t>{13, 13, 53}));
  // Every window i is steps i..i+4; y its first three.
  for (int64_t i = 0; i < 21; ++i)
    for (int64_t t = 0; t < 5; ++t) {
      EXPECT_EQ(xi[i * 5 + t], seq[i + t]);
      if (t < 3) { EXPECT_EQ(yi[i * 3 + t], seq[i + t]); }
    }
}

TEST(ToSupervised, RankOneAndWholeWindow) {
  Tensor seq({5}, {1, 2, 3, 4, 5});
  auto s = data::to_supervised(seq, 5, 1);
  EXPECT_EQ(s.x.shape(), (Shape{1, 5, 1}));
  EXPECT_EQ(s.x.to_vector(), v({1, 2, 3, 4, 5}));
  EXPECT_EQ(s.y.to_vector(), v({1}));
  auto echo = data::to_supervised(seq, 2, 2);
  EXPECT_EQ(echo.x.shape(), (Shape{4, 2, 1}));
  EXPECT_EQ(echo.x.to_vector(), echo.y.to_vector());
}

TEST(ToSupervised, BadArguments) {
  Tensor seq({4, 3});
  expect_error<ValueError>([&] { data::to_supervised(seq, 5, 1); }, "n_in=5");
  expect_error<ValueError>([&] { data::to_supervised(seq, 2, 3); }, "n_out=3");
  expect_error<ValueError>([&] { data::to_supervised(seq, 0, 0); }, "n_in=0");
  expect_error<ShapeError>([] { data::to_supervised(Tensor({2, 3, 4}), 1, 1); }, "(2, 3, 4)");
  expect_error<ShapeError>([] { data::to_supervised(Tensor(), 1, 1); }, "empty");
}

// ---------------------------------------------------------------- timeseries_windows

TEST(TimeseriesWindows, UnivariateNextSteps) {
  // 10, 20, ..., 90 with 3 steps in and 2 out: 9 - 5 + 1 = 5 windows.
  Tensor series({9}, {10, 20, 30, 40, 50, 60, 70, 80, 90});
  auto s = data::timeseries_windows(series, 3, 2);
  EXPECT_EQ(s.x.shape(), (Shape{5, 3, 1}));
  EXPECT_EQ(s.y.shape(), (Shape{5, 2}));
  EXPECT_EQ(s.x.to_vector(), v({10, 20, 30, 20, 30, 40, 30, 40, 50, 40, 50, 60, 50, 60, 70}));
  EXPECT_EQ(s.y.to_vector(), v({40, 50, 50, 60, 60, 70, 70, 80, 80, 90}));
  EXPECT_FALSE(s.x.shares_storage(series));
  // One step ahead, the usual split_sequence(seq, n_steps).
  auto one = data::timeseries_windows(series, 3, 1);
  EXPECT_EQ(one.y.shape(), (Shape{6, 1}));
  EXPECT_EQ(one.y.to_vector(), v({40, 50, 60, 70, 80, 90}));
}

TEST(TimeseriesWindows, ExactlyOneWindow) {
  auto s = data::timeseries_windows(Tensor({4}, {1, 2, 3, 4}), 3, 1);
  EXPECT_EQ(s.x.shape(), (Shape{1, 3, 1}));
  EXPECT_EQ(s.x.to_vector(), v({1, 2, 3}));
  EXPECT_EQ(s.y.to_vector(), v({4}));
}

TEST(TimeseriesWindows, StrideSkipsStartsAndDropsTheIncompleteTail) {
  Tensor series({9}, {10, 20, 30, 40, 50, 60, 70, 80, 90});
  // Starts 0, 2, 4: (9 - 5) / 2 + 1 = 3 windows.
  auto s = data::timeseries_windows(series, 3, 2, {.stride = 2});
  EXPECT_EQ(s.x.shape(), (Shape{3, 3, 1}));
  EXPECT_EQ(s.x.to_vector(), v({10, 20, 30, 30, 40, 50, 50, 60, 70}));
  EXPECT_EQ(s.y.to_vector(), v({40, 50, 60, 70, 80, 90}));
  // Windows that do not overlap: starts 0, 3, 6.
  auto t = data::timeseries_windows(series, 2, 1, {.stride = 3});
  EXPECT_EQ(t.x.shape(), (Shape{3, 2, 1}));
  EXPECT_EQ(t.x.to_vector(), v({10, 20, 40, 50, 70, 80}));
  EXPECT_EQ(t.y.to_vector(), v({30, 60, 90}));
  // Starts 0, 3; one at 6 would need steps 6..9, so step 8 (90) is left out.
  auto u = data::timeseries_windows(series, 2, 2, {.stride = 3});
  EXPECT_EQ(u.x.to_vector(), v({10, 20, 40, 50}));
  EXPECT_EQ(u.y.to_vector(), v({30, 40, 60, 70}));
}

TEST(TimeseriesWindows, MultivariateAllColumns) {
  // Step k holds (k, 10 k): rows (0, 0), (1, 10), ..., (5, 50).
  Tensor series({6, 2}, {0, 0, 1, 10, 2, 20, 3, 30, 4, 40, 5, 50});
  auto s = data::timeseries_windows(series, 2, 2);
  EXPECT_EQ(s.x.shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(s.y.shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(s.x.to_vector(), v({0, 0, 1, 10, 1, 10, 2, 20, 2, 20, 3, 30}));
  EXPECT_EQ(s.y.to_vector(), v({2, 20, 3, 30, 3, 30, 4, 40, 4, 40, 5, 50}));
}

TEST(TimeseriesWindows, TargetColumns) {
  // Three features; predict the last one, or columns 2 and 0 in that order.
  Tensor series({5, 3}, {0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42});
  auto last = data::timeseries_windows(series, 3, 1, {.target_columns = {-1}});
  EXPECT_EQ(last.x.shape(), (Shape{2, 3, 3}));
  EXPECT_EQ(last.y.shape(), (Shape{2, 1, 1}));
  EXPECT_EQ(last.y.to_vector(), v({32, 42}));
  EXPECT_EQ(last.x.to_vector(), v({0, 1, 2, 10, 11, 12, 20, 21, 22, 10, 11, 12, 20, 21, 22, 30, 31, 32}));
  auto two = data::timeseries_windows(series, 2, 2, {.stride = 2, .target_columns = {2, 0}});
  EXPECT_EQ(two.y.shape(), (Shape{1, 2, 2}));
  EXPECT_EQ(two.y.to_vector(), v({22, 20, 32, 30}));
}

TEST(TimeseriesWindows, Errors) {
  Tensor series({5}, {1, 2, 3, 4, 5});
  expect_error<ValueError>([&] { data::timeseries_windows(series, 4, 2); },
                           {"5 steps", "n_in=4", "n_out=2", "needs 6 steps"});
  expect_error<ValueError>([&] { data::timeseries_windows(series, 0, 1); }, {"n_in", "got 0"});
  expect_error<ValueError>([&] { data::timeseries_windows(series, 2, 0); }, {"n_out", "got 0"});
  expect_error<ValueError>([&] { data::timeseries_windows(series, 2, 1, {.stride = 0}); }, {"stride", "got 0"});
  expect_error<ValueError>([&] { data::timeseries_windows(series, 2, 1, {.target_columns = {0}}); },
                           {"target_columns", "(5,)"});
  Tensor wide({5, 3});
  expect_error<ValueError>([&] { data::timeseries_windows(wide, 2, 1, {.target_columns = {3}}); },
                           {"target column 3", "3 features"});
  expect_error<ValueError>([&] { data::timeseries_windows(wide, 2, 1, {.target_columns = {-4}}); },
                           "target column -4");
  expect_error<ShapeError>([] { data::timeseries_windows(Tensor({2, 3, 4}), 1, 1); }, "(2, 3, 4)");
  expect_error<ShapeError>([] { data::timeseries_windows(Tensor(), 1, 1); }, "empty");
}
