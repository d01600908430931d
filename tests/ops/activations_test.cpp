// ops/activations: every activation and its derivative (computed from the
// output) against double-precision references; softmax rows; parsing.

#include <gtest/gtest.h>
#include <seqnet/detail/ops/activations.hpp>
#include <seqnet/seqnet.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::ref_activation;

namespace {

struct Case {
  const char* name;
  ops::Act act;
};
const Case kCases[] = {{"linear", ops::Act::Linear},     {"tanh", ops::Act::Tanh},
                       {"sigmoid", ops::Act::Sigmoid},   {"hard_sigmoid", ops::Act::HardSigmoid},
                       {"keras3_hard_sigmoid", ops::Act::Keras3HardSigmoid},
                       {"relu", ops::Act::Relu},         {"elu", ops::Act::Elu},
                       {"selu", ops::Act::Selu},         {"softplus", ops::Act::Softplus},
                       {"softsign", ops::Act::Softsign}};

// Derivative of the reference by central differences in double.
double ref_derivative(const char* name, double x) {
  const double h = 1e-6;
  return (ref_activation(name, x + h) - ref_activation(name, x - h)) / (2 * h);
}

// A grid over [-6, 6] avoiding the kinks (0 and +-2.5) by 1e-3.
std::vector<float> grid() {
  std::vector<float> xs;
  for (int i = -600; i <= 600; ++i) {
    const double x = i * 0.01 + 0.0037;
    if (std::abs(x) < 1e-3 || std::abs(std::abs(x) - 2.5) < 1e-3) continue;
    xs.push_back(static_cast<float>(x));
  }
  return xs;
}

}  // namespace

class Activations : public ::testing::TestWithParam<Case> {};
INSTANTIATE_TEST_SUITE_P(Ops, Activations, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

TEST_P(Activations, ValuesMatchDoubleReference) {
  const Case c = GetParam();
  const std::vector<float> xs = grid();
  std::vector<float> ys(xs.size());
  ops::activate(c.act, xs.data(), ys.data(), static_cast<int64_t>(xs.size()));
  for (size_t i = 0; i < xs.size(); ++i) {
    const double want = ref_activation(c.name, xs[i]);
    EXPECT_NEAR(ys[i], want, 2e-7 + 2e-6 * std::abs(want)) << c.name << "(" << xs[i] << ")";
  }
}

TEST_P(Activations, DerivativeFromOutputMatchesReference) {
  const Case c = GetParam();
  const std::vector<float> xs = grid();
  const int64_t n = static_cast<int64_t>(xs.size());
  std::vector<float> ys(n), dy(n), dx(n);
  ops::activate(c.act, xs.data(), ys.data(), n);
  for (int64_t i = 0; i < n; ++i) dy[i] = 0.5f + 0.001f * static_cast<float>(i % 7);
  ops::activate_backward(c.act, ys.data(), dy.data(), dx.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    const double want = dy[i] * ref_derivative(c.name, xs[i]);
    // The derivative is computed from the float output y, whose rounding
    // (relative 6e-8) is amplified where f' is computed as 1 - y^2 etc.
    EXPECT_NEAR(dx[i], want, 1e-5 + 1e-4 * std::abs(want)) << c.name << "'(" << xs[i] << ")";
  }
}

TEST_P(Activations, InPlaceAndTensorForms) {
  const Case c = GetParam();
  Tensor x = seqnet::testing::random_tensor({3, 4}, 1, -3.0f, 3.0f);
  Tensor y(x.shape());
  ops::activate(c.act, x, y);
  Tensor z = x.clone();
  ops::activate(c.act, z, z);  // aliasing
  seqnet::testing::expect_near(z, y, 0, "in place");
  const Tensor dy = seqnet::testing::random_tensor({3, 4}, 2);
  Tensor dx(x.shape());
  ops::activate_backward(c.act, y, dy, dx);
  Tensor d2 = dy.clone();
  ops::activate_backward(c.act, y, d2, d2);
  seqnet::testing::expect_near(d2, dx, 0, "backward in place");
  EXPECT_EQ(ops::parse_activation(c.name, "ctx"), c.act);
  EXPECT_EQ(ops::activation_name(c.act), c.name);
  EXPECT_TRUE(ops::is_elementwise(c.act));
}

TEST_P(Activations, AnElementsBitsDoNotDependOnItsAddressOrTheLength) {
  // Every offset within a cache line and lengths on both sides of whole
  // packets and of the kernels' chunks: the same input gives the same bits
  // (a step's gates sit at other offsets when a sequence is streamed).
  const Case c = GetParam();
  const std::vector<float> xs = grid();
  const int64_t n = static_cast<int64_t>(xs.size());
  std::vector<float> want(n), dwant(n);
  std::vector<float> dy(n, 0.75f);
  ops::activate(c.act, xs.data(), want.data(), n);
  ops::activate_backward(c.act, want.data(), dy.data(), dwant.data(), n);
  std::vector<float> buf(n + 32), out(n + 32), dout(n + 32), dys(n + 32, 0.75f);
  for (int64_t offset = 0; offset < 16; ++offset) {
    for (const int64_t len : {int64_t{1}, int64_t{7}, int64_t{9}, int64_t{17}, int64_t{255}, int64_t{257}, n - 40}) {
      const int64_t start = (offset * 37) % (n - len);  // which inputs: varies with the offset
      std::copy_n(xs.data() + start, len, buf.data() + offset);
      ops::activate(c.act, buf.data() + offset, out.data() + offset, len);
      ops::activate_backward(c.act, out.data() + offset, dys.data() + offset, dout.data() + offset, len);
      ops::activate_rows(c.act, buf.data() + offset, 1, len, len + 3);  // in place, one row
      for (int64_t i = 0; i < len; ++i) {
        ASSERT_EQ(std::bit_cast<uint32_t>(out[offset + i]), std::bit_cast<uint32_t>(want[start + i]))
            << c.name << "(" << xs[start + i] << ") at offset " << offset << ", length " << len;
        ASSERT_EQ(std::bit_cast<uint32_t>(buf[offset + i]), std::bit_cast<uint32_t>(want[start + i]))
            << c.name << " by rows at offset " << offset << ", length " << len;
        ASSERT_EQ(std::bit_cast<uint32_t>(dout[offset + i]), std::bit_cast<uint32_t>(dwant[start + i]))
            << c.name << "' at offset " << offset << ", length " << len;
      }
    }
  }
}

TEST(Activations, HardSigmoidIsKeras2Definition) {
  // clip(0.2 x + 0.5, 0, 1): 0 below -2.5, 1 above 2.5, slope 0.2.
  const float xs[] = {-3.0f, -2.5f, -1.0f, 0.0f, 1.0f, 2.5f, 3.0f};
  const float want[] = {0.0f, 0.0f, 0.3f, 0.5f, 0.7f, 1.0f, 1.0f};
  float ys[7];
  ops::activate(ops::Act::HardSigmoid, xs, ys, 7);
  for (int i = 0; i < 7; ++i) EXPECT_NEAR(ys[i], want[i], 1e-7) << xs[i];
  const float dy[] = {1, 1, 1, 1, 1, 1, 1};
  float dx[7];
  ops::activate_backward(ops::Act::HardSigmoid, ys, dy, dx, 7);
  const float dwant[] = {0, 0, 0.2f, 0.2f, 0.2f, 0, 0};
  for (int i = 0; i < 7; ++i) EXPECT_NEAR(dx[i], dwant[i], 1e-7) << xs[i];
}

TEST(Activations, ExtremeInputsStayFinite) {
  const float big = 100.0f;
  const float xs[] = {-big, -30.0f, 30.0f, big};
  for (const Case& c : kCases) {
    float ys[4];
    ops::activate(c.act, xs, ys, 4);
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(std::isfinite(ys[i])) << c.name << "(" << xs[i] << ")";
  }
  float y;
  const float x = -20.0f;
  ops::activate(ops::Act::Sigmoid, &x, &y, 1);
  EXPECT_NEAR(y / std::exp(-20.0), 1.0, 1e-5) << "sigmoid keeps relative precision in the tail";
  ops::activate(ops::Act::Softplus, &big, &y, 1);
  EXPECT_FLOAT_EQ(y, big);
  ops::activate(ops::Act::Softplus, &x, &y, 1);
  EXPECT_NEAR(y / std::exp(-20.0), 1.0, 1e-5);
}

TEST(Softmax, RowsAgainstReferenceAndStable) {
  const int64_t R = 3, C = 5;
  Tensor x = seqnet::testing::random_tensor({R, C}, 3, -5.0f, 5.0f);
  x[0] = 1000.0f;  // large values must not overflow
  x[1] = 999.0f;
  Tensor y(x.shape());
  ops::softmax_rows(x.data(), y.data(), R, C);
  for (int64_t r = 0; r < R; ++r) {
    double mx = -1e300, s = 0;
    for (int64_t j = 0; j < C; ++j) mx = std::max(mx, static_cast<double>(x[r * C + j]));
    for (int64_t j = 0; j < C; ++j) s += std::exp(x[r * C + j] - mx);
    for (int64_t j = 0; j < C; ++j) EXPECT_NEAR(y[r * C + j], std::exp(x[r * C + j] - mx) / s, 1e-7);
  }
  // Backward: the Jacobian-vector product dx_i = sum_j dy_j y_j (delta_ij - y_i).
  const Tensor dy = seqnet::testing::random_tensor({R, C}, 4);
  Tensor dx(x.shape());
  ops::softmax_rows_backward(y.data(), dy.data(), dx.data(), R, C);
  for (int64_t r = 0; r < R; ++r)
    for (int64_t i = 0; i < C; ++i) {
      double want = 0;
      for (int64_t j = 0; j < C; ++j) {
        const double yi = y[r * C + i], yj = y[r * C + j];
        want += dy[r * C + j] * yj * ((i == j ? 1.0 : 0.0) - yi);
      }
      EXPECT_NEAR(dx[r * C + i], want, 1e-6);
    }
  // Tensor form acts on the last axis of any rank.
  const Tensor x3 = seqnet::testing::random_tensor({2, 3, 4}, 5);
  Tensor y3(x3.shape());
  ops::activate(ops::Act::Softmax, x3, y3);
  for (int64_t r = 0; r < 6; ++r) {
    double s = 0;
    for (int64_t j = 0; j < 4; ++j) s += y3[r * 4 + j];
    EXPECT_NEAR(s, 1.0, 1e-6);
  }
  EXPECT_FALSE(ops::is_elementwise(ops::Act::Softmax));
}

TEST(Activations, Parsing) {
  EXPECT_EQ(ops::parse_activation("", "ctx"), ops::Act::Linear);
  EXPECT_EQ(ops::parse_activation("none", "ctx"), ops::Act::Linear);
  EXPECT_EQ(ops::parse_activation("softmax", "ctx"), ops::Act::Softmax);
  EXPECT_EQ(ops::activation_name(ops::Act::Softmax), "softmax");
  EXPECT_THROW_MSG(ops::parse_activation("Tanh", "LSTM \"lstm\": argument `activation`"), ValueError,
                   "LSTM \"lstm\": argument `activation`", "'Tanh'", "'tanh'", "'softsign'");
}

TEST(Activations, SoftmaxIsRejectedByElementwiseKernels) {
  float x = 1.0f, y = 0.0f;
  EXPECT_THROW_MSG(ops::activate(ops::Act::Softmax, &x, &y, 1), ValueError, "softmax");
  EXPECT_THROW_MSG(ops::activate_backward(ops::Act::Softmax, &x, &x, &y, 1), ValueError, "softmax");
  Tensor a({2, 3}), b({3, 2}), c({2, 2});
  EXPECT_THROW_MSG(ops::activate(ops::Act::Tanh, a, c), ShapeError, "activate");
  EXPECT_THROW_MSG(ops::activate_backward(ops::Act::Tanh, a, b, c), ShapeError, "activate_backward");
}
