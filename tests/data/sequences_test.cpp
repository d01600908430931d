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
