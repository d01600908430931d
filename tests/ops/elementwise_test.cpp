// ops/elementwise: row-vector adds, column sums, axis swaps, axpy.

#include <gtest/gtest.h>
#include <seqnet/detail/ops/elementwise.hpp>
#include <seqnet/tensor.hpp>

#include "support/gradcheck.hpp"

using namespace seqnet;

TEST(Elementwise, AddRowVectorAndColumnSumsWithStride) {
  // A (2, 3) window with leading dimension 4.
  Tensor y({2, 4}, {1, 2, 3, 100, 4, 5, 6, 200});
  const float b[] = {10, 20, 30};
  ops::add_row_vector(y.data(), 2, 3, 4, b);
  seqnet::testing::expect_near(y, Tensor({2, 4}, {11, 22, 33, 100, 14, 25, 36, 200}), 0, "add_row_vector");
  float out[3] = {1, 1, 1};
  ops::add_column_sums(y.data(), 2, 3, 4, out);
  EXPECT_EQ(out[0], 26);
  EXPECT_EQ(out[1], 48);
  EXPECT_EQ(out[2], 70);
}

TEST(Elementwise, SwapAxes) {
  // src (A=2, B=3, F=2) -> dst (3, 2, 2); with reverse_a dst[b][a] = src[A-1-a][b].
  const Tensor src = seqnet::testing::random_tensor({2, 3, 2}, 1);
  Tensor dst({3, 2, 2}), rev({3, 2, 2});
  ops::swap_axes01(src.data(), dst.data(), 2, 3, 2, false);
  ops::swap_axes01(src.data(), rev.data(), 2, 3, 2, true);
  for (int64_t a = 0; a < 2; ++a)
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t f = 0; f < 2; ++f) {
        EXPECT_EQ(dst.at(b, a, f), src.at(a, b, f));
        EXPECT_EQ(rev.at(b, a, f), src.at(1 - a, b, f));
      }
}

TEST(Elementwise, Axpy) {
  const float x[] = {1, 2, 3};
  float y[] = {1, 1, 1};
  ops::axpy(3, -2.0f, x, y);
  EXPECT_EQ(y[0], -1);
  EXPECT_EQ(y[1], -3);
  EXPECT_EQ(y[2], -5);
}
