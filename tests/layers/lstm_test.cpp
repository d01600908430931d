#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_gradients_match;
using seqnet::testing::random_tensor;

TEST(LSTM, GradientsReturnSequences) {
  auto l = std::make_shared<layers::LSTM>(4, LSTMOptions{.return_sequences = true, .return_state = true});
  expect_gradients_match(*l, {random_tensor({2, 3, 3}, 1)}, {});
}

TEST(LSTM, GradientsInitialStateGoBackwards) {
  auto l = std::make_shared<layers::LSTM>(4, LSTMOptions{.return_sequences = true, .return_state = true, .go_backwards = true});
  expect_gradients_match(*l, {random_tensor({2, 3, 3}, 1), random_tensor({2, 4}, 2), random_tensor({2, 4}, 3)}, {});
}

TEST(LSTM, ParamCount) {
  layers::LSTM l(16);
  l.compute_output_shapes({{None, 4, 10}});
  EXPECT_EQ(l.count_params(), 1728);
}
