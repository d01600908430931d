// data::Scaler (src/data/scaling.cpp): per-column standard and min-max
// scaling, its inverse, a one-column scaler on any shape, JSON and errors.

#include <gtest/gtest.h>
#include <seqnet/data/scaling.hpp>
#include <seqnet/error.hpp>

#include <cmath>
#include <limits>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_error;

TEST(Scaler, StandardPerColumn) {
  const Tensor x({4, 2}, {1, 10, 2, 20, 3, 30, 4, 40});
  const auto s = data::Scaler::fit(x);
  ASSERT_EQ(s.columns(), 2u);
  EXPECT_DOUBLE_EQ(s.offset()[0], 2.5);
  EXPECT_DOUBLE_EQ(s.offset()[1], 25);
  EXPECT_NEAR(s.scale()[0], std::sqrt(1.25), 1e-12);  // population deviation
  EXPECT_NEAR(s.scale()[1], std::sqrt(125.0), 1e-12);
  const Tensor z = s.transform(x);
  for (int c = 0; c < 2; ++c) {
    double m = 0, v = 0;
    for (int r = 0; r < 4; ++r) m += z.data()[r * 2 + c] / 4.0;
    for (int r = 0; r < 4; ++r) v += std::pow(z.data()[r * 2 + c] - m, 2) / 4.0;
    EXPECT_NEAR(m, 0, 1e-6);
    EXPECT_NEAR(v, 1, 1e-5);
  }
  const Tensor back = s.inverse_transform(z);
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(back.data()[i], x.data()[i], 1e-5);
  EXPECT_NEAR(s.inverse_transform(s.transform(3.0, 1), 1), 3.0, 1e-12);
  // Rank 3: (batch, time, features) with the same two columns.
  const Tensor x3({2, 2, 2}, {1, 10, 2, 20, 3, 30, 4, 40});
  const Tensor z3 = s.transform(x3);
  for (int i = 0; i < 8; ++i) EXPECT_FLOAT_EQ(z3.data()[i], z.data()[i]);
  expect_error<ShapeError>([&] { s.transform(Tensor({3, 3}, 0.0f)); }, {"(3, 3)", "2 fitted columns"});
}

TEST(Scaler, MinMaxAndOneColumnOnAnyShape) {
  const Tensor series({5}, {3, 5, 7, 9, 11});
  const auto s = data::Scaler::fit(series, {.method = "minmax"});
  ASSERT_EQ(s.columns(), 1u);
  const Tensor z = s.transform(Tensor({2, 3, 1}, {3, 5, 7, 9, 11, 13}));
  const float expect[] = {0, 0.25f, 0.5f, 0.75f, 1, 1.25f};
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(z.data()[i], expect[i]);
  EXPECT_EQ(z.shape(), (Shape{2, 3, 1}));
  // Zero spread: scale 1.
  const auto flat = data::Scaler::fit(Tensor({3}, {4, 4, 4}));
  EXPECT_DOUBLE_EQ(flat.scale()[0], 1);
}

TEST(Scaler, JsonRoundTripIsExact) {
  const auto s = data::Scaler::fit(Tensor({3, 1}, {0.1f, 0.7f, 1.3f}));
  const auto back = data::Scaler::from_json(s.to_json());
  EXPECT_EQ(back.offset(), s.offset());
  EXPECT_EQ(back.scale(), s.scale());
  EXPECT_EQ(back.method(), s.method());
  expect_error<ValueError>([] { data::Scaler::from_json("[]"); }, {"not a JSON object"});
  expect_error<ValueError>([] { data::Scaler::from_json(R"({"method": "log", "offset": [0], "scale": [1]})"); },
                           {"\"method\""});
  expect_error<ValueError>([] { data::Scaler::from_json(R"({"method": "standard", "offset": [0], "scale": [0]})"); },
                           {"column 0", "scale"});
}

TEST(Scaler, RejectsBadInput) {
  expect_error<ValueError>([] { data::Scaler::fit(Tensor({2}, {1, 2}), {.method = "robust"}); }, {"'robust'"});
  expect_error<ValueError>([] { data::Scaler::fit(Tensor({0, 2})); }, {"empty"});
  expect_error<ValueError>(
      [] { data::Scaler::fit(Tensor({3}, {1, std::numeric_limits<float>::infinity(), 2})); }, {"element 1", "inf"});
  expect_error<ValueError>([] { data::Scaler({0, 1}, {1}); }, {"2 offsets", "1 scales"});
}
