// One-hot encoding and decoding, to_categorical (src/data/encoding.cpp).

#include <gtest/gtest.h>
#include <seqnet/data/encoding.hpp>
#include <seqnet/error.hpp>

#include <string>
#include <vector>

#include "support/gradcheck.hpp"

using namespace seqnet;
using namespace seqnet::data;

namespace {

using seqnet::testing::expect_error;

}  // namespace

TEST(Encoding, OneHotEncodeSequences) {
  Tensor x = one_hot_encode(std::vector<std::vector<int64_t>>{{0, 2, 1}, {3, 3, 0}}, 4);
  ASSERT_EQ(x.shape(), (Shape{2, 3, 4}));
  const std::vector<float> want = {1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0,  //
                                   0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0};
  EXPECT_EQ(x.to_vector(), want);
  // One sequence: (T, F), as the seeds' one_hot_encode(sequence, n_unique).
  Tensor s = one_hot_encode(std::vector<int64_t>{1, 0}, 3);
  ASSERT_EQ(s.shape(), (Shape{2, 3}));
  EXPECT_EQ(s.to_vector(), (std::vector<float>{0, 1, 0, 1, 0, 0}));
  // No sequences.
  EXPECT_EQ(one_hot_encode(std::vector<std::vector<int64_t>>{}, 5).shape(), (Shape{0, 0, 5}));
}

TEST(Encoding, OneHotEncodeErrors) {
  expect_error<ValueError>([] { one_hot_encode(std::vector<std::vector<int64_t>>{{0, 1}, {1}}, 3); },
                           {"sequence 1 has length 1", "sequence 0 has 2", "pad"});
  expect_error<ValueError>([] { one_hot_encode(std::vector<std::vector<int64_t>>{{0, 5}}, 3); },
                           {"value 5", "sequence 0 step 1", "[0, 3)"});
  expect_error<ValueError>([] { one_hot_encode(std::vector<int64_t>{-1}, 3); }, {"value -1", "[0, 3)"});
  expect_error<ValueError>([] { one_hot_encode(std::vector<int64_t>{0}, 0); }, {"n_features", "0"});
}

TEST(Encoding, DecodeIsArgmaxOfTheLastAxis) {
  Tensor t({3, 4}, {0.1f, 0.7f, 0.1f, 0.1f, 0.9f, 0, 0, 0.1f, 0, 0, 0.2f, 0.8f});
  EXPECT_EQ(one_hot_decode(t), (std::vector<int64_t>{1, 0, 3}));
  // Round trip.
  const std::vector<int64_t> seq = {4, 0, 2, 2, 1};
  EXPECT_EQ(one_hot_decode(one_hot_encode(seq, 5)), seq);
  // Ties go to the first maximum (numpy's argmax).
  EXPECT_EQ(argmax_last(Tensor({1, 3}, {0.5f, 0.5f, 0.1f})), (std::vector<int64_t>{0}));
  // argmax_last works on any rank: one index per leading element.
  Tensor seqs = one_hot_encode(std::vector<std::vector<int64_t>>{{1, 2}, {0, 1}}, 3);
  EXPECT_EQ(argmax_last(seqs), (std::vector<int64_t>{1, 2, 0, 1}));
  expect_error<ShapeError>([&] { one_hot_decode(seqs); }, {"one_hot_decode", "(2, 2, 3)"});
}

TEST(Encoding, ToCategorical) {
  Tensor ids({2, 2}, {0, 2, 1, 2});
  Tensor c = to_categorical(ids);  // num_classes = max id + 1 = 3
  ASSERT_EQ(c.shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(c.to_vector(), (std::vector<float>{1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1}));
  Tensor c5 = to_categorical(Tensor({2}, {1, 4}), 6);
  ASSERT_EQ(c5.shape(), (Shape{2, 6}));
  EXPECT_EQ(c5.to_vector(), (std::vector<float>{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}));
  expect_error<ValueError>([] { to_categorical(Tensor({2}, {0, 1.5f})); }, {"to_categorical", "1.5", "position 1"});
  expect_error<ValueError>([] { to_categorical(Tensor({1}, {-1})); }, {"-1", "not a class id"});
  expect_error<ValueError>([] { to_categorical(Tensor({2}, {0, 3}), 3); }, {"class id 3", "num_classes = 3"});
}
