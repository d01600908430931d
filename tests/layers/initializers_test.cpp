// Initializers: Keras bounds and statistics, orthogonality, fans,
// parameters, aliases, determinism, errors.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <cmath>

#include "support/gradcheck.hpp"

using namespace seqnet;

namespace {

struct Stats {
  double mean = 0, stddev = 0, max_abs = 0;
};

Stats stats(const Tensor& w) {
  Stats s;
  double s1 = 0, s2 = 0;
  for (float v : w) {
    s1 += v;
    s2 += static_cast<double>(v) * v;
    s.max_abs = std::max(s.max_abs, static_cast<double>(std::abs(v)));
  }
  const double n = static_cast<double>(w.size());
  s.mean = s1 / n;
  s.stddev = std::sqrt(s2 / n - s.mean * s.mean);
  return s;
}

Tensor filled(const Initializer& init, const Shape& shape, uint64_t seed = 1) {
  Tensor w(shape);
  Generator g(seed);
  init.fill(w, g, "test");
  return w;
}

// Gram matrix check: rows (by_rows) or columns of w are orthonormal * gain.
void expect_orthonormal(const Tensor& w, bool by_rows, double gain = 1.0) {
  const int64_t R = w.dim(0), C = w.dim(1);
  const int64_t n = by_rows ? R : C, len = by_rows ? C : R;
  double worst = 0;
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = 0; b < n; ++b) {
      double dot = 0;
      for (int64_t k = 0; k < len; ++k) {
        dot += by_rows ? static_cast<double>(w.at(a, k)) * w.at(b, k) : static_cast<double>(w.at(k, a)) * w.at(k, b);
      }
      worst = std::max(worst, std::abs(dot - (a == b ? gain * gain : 0.0)));
    }
  EXPECT_LT(worst, 1e-5);
}

constexpr double kTrunc = 0.87962566103423978;

}  // namespace

TEST(Initializers, GlorotUniformBounds) {
  const Tensor w = filled("glorot_uniform", {200, 300});
  const double limit = std::sqrt(6.0 / 500);
  const Stats s = stats(w);
  EXPECT_LE(s.max_abs, limit);
  EXPECT_GT(s.max_abs, 0.99 * limit);
  EXPECT_NEAR(s.mean, 0.0, 0.002);
  EXPECT_NEAR(s.stddev, limit / std::sqrt(3.0), 0.01 * limit);
  // 1-D shapes: fan_in = fan_out = n.
  const Tensor b = filled("glorot_uniform", {1000});
  EXPECT_LE(stats(b).max_abs, std::sqrt(6.0 / 2000));
}

TEST(Initializers, VarianceScalingFamilies) {
  const Shape shape{400, 250};
  const double fi = 400, fo = 250;
  struct Case {
    const char* name;
    bool uniform;
    double target_std;
  };
  const Case cases[] = {{"glorot_normal", false, std::sqrt(2.0 / (fi + fo))},
                        {"he_uniform", true, std::sqrt(2.0 / fi)},
                        {"he_normal", false, std::sqrt(2.0 / fi)},
                        {"lecun_uniform", true, std::sqrt(1.0 / fi)},
                        {"lecun_normal", false, std::sqrt(1.0 / fi)}};
  for (const Case& c : cases) {
    const Stats s = stats(filled(c.name, shape));
    EXPECT_NEAR(s.mean, 0.0, 0.01 * c.target_std) << c.name;
    EXPECT_NEAR(s.stddev, c.target_std, 0.02 * c.target_std) << c.name;
    // uniform: limit sqrt(3) std; normal: truncated at 2 of its own (rescaled) std.
    const double bound = c.uniform ? std::sqrt(3.0) * c.target_std : 2.0 * c.target_std / kTrunc;
    EXPECT_LE(s.max_abs, bound * (1 + 1e-6)) << c.name;
    EXPECT_GT(s.max_abs, 0.95 * bound) << c.name;
  }
}

TEST(Initializers, OrthogonalSquareWideTall) {
  expect_orthonormal(filled("orthogonal", {16, 16}), false);  // Q^T Q = I
  expect_orthonormal(filled("orthogonal", {16, 16}), true);
  expect_orthonormal(filled("orthogonal", {8, 32}), true);    // wide (H, 4H): W W^T = I
  expect_orthonormal(filled("orthogonal", {30, 7}), false);   // tall: W^T W = I
  expect_orthonormal(filled(Initializer::orthogonal(2.5), {6, 18}), true, 2.5);
  // Different seeds give different matrices.
  EXPECT_GT(max_abs_diff(filled("orthogonal", {5, 5}, 1), filled("orthogonal", {5, 5}, 2)), 1e-3);
}

TEST(Initializers, ConstantsAndIdentity) {
  for (float v : filled("zeros", {3, 4})) EXPECT_EQ(v, 0.0f);
  for (float v : filled("ones", {7})) EXPECT_EQ(v, 1.0f);
  for (float v : filled(Initializer::constant(-0.25), {2, 2})) EXPECT_EQ(v, -0.25f);
  const Tensor id = filled("identity", {3, 4});
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 4; ++j) EXPECT_EQ(id.at(i, j), i == j ? 1.0f : 0.0f);
  Initializer scaled("identity");
  scaled.gain = 3.0;
  EXPECT_EQ(filled(scaled, {2, 2}).at(1, 1), 3.0f);
  Tensor v({4});
  Generator g(1);
  EXPECT_THROW_MSG(Initializer("identity").fill(v, g, "ctx"), ValueError, "ctx", "identity", "(4,)");
}

TEST(Initializers, RandomNormalUniformTruncatedParameters) {
  const Stats n = stats(filled(Initializer::random_normal(1.0, 0.5), {300, 300}));
  EXPECT_NEAR(n.mean, 1.0, 0.005);
  EXPECT_NEAR(n.stddev, 0.5, 0.005);
  const Tensor nn = filled(Initializer::random_normal(0.0, 1.0), {300, 300});
  EXPECT_GT(stats(nn).max_abs, 3.0) << "random_normal is not truncated";

  const Tensor u = filled(Initializer::random_uniform(-3.0, 1.0), {300, 300});
  double lo = 1e9, hi = -1e9;
  for (float v : u) {
    lo = std::min(lo, static_cast<double>(v));
    hi = std::max(hi, static_cast<double>(v));
  }
  EXPECT_GE(lo, -3.0);
  EXPECT_LE(hi, 1.0);
  EXPECT_LT(lo, -2.99);
  EXPECT_GT(hi, 0.99);
  EXPECT_NEAR(stats(u).mean, -1.0, 0.01);

  const Tensor t = filled(Initializer::truncated_normal(2.0, 0.1), {300, 300});
  for (float v : t) ASSERT_LE(std::abs(v - 2.0), 0.2 + 1e-6);

  // Keras defaults and the aliases "uniform" and "normal".
  const Stats du = stats(filled("uniform", {300, 300}));
  EXPECT_LE(du.max_abs, 0.05);
  EXPECT_GT(du.max_abs, 0.0499);
  EXPECT_NEAR(stats(filled("normal", {300, 300})).stddev, 0.05, 0.001);
  EXPECT_NEAR(stats(filled("random_normal", {300, 300})).stddev, 0.05, 0.001);
  EXPECT_LE(stats(filled("random_uniform", {50})).max_abs, 0.05);
  EXPECT_EQ(Initializer::random_uniform().minval, -0.05);
  EXPECT_EQ(Initializer().name, "zeros");
}

TEST(Initializers, DeterministicFromTheGenerator) {
  EXPECT_EQ(max_abs_diff(filled("he_normal", {10, 10}, 9), filled("he_normal", {10, 10}, 9)), 0.0f);
  EXPECT_GT(max_abs_diff(filled("he_normal", {10, 10}, 9), filled("he_normal", {10, 10}, 10)), 0.0f);
  // The one-argument fill draws from the global generator.
  Tensor a({4, 4}), b({4, 4});
  set_seed(5);
  Initializer("glorot_uniform").fill(a, "ctx");
  set_seed(5);
  Initializer("glorot_uniform").fill(b, "ctx");
  EXPECT_EQ(max_abs_diff(a, b), 0.0f);
}

TEST(Initializers, Errors) {
  EXPECT_THROW_MSG(Initializer("glorot").validate("Dense \"dense\": argument `kernel_initializer`"), ValueError,
                   "Dense \"dense\": argument `kernel_initializer`", "unknown initializer 'glorot'",
                   "'glorot_uniform'", "'orthogonal'");
  EXPECT_THROW_MSG(Initializer::random_normal(0.0, -1.0).validate("ctx"), ValueError, "ctx", "stddev");
  EXPECT_THROW_MSG(Initializer::random_uniform(1.0, 0.0).validate("ctx"), ValueError, "ctx", "minval");
  EXPECT_THROW_MSG(Initializer::constant(std::nan("")).validate("ctx"), ValueError, "ctx");
  EXPECT_THROW_MSG(Initializer::orthogonal(INFINITY).validate("ctx"), ValueError, "ctx", "gain");
  Tensor w({2});
  Generator g(1);
  EXPECT_THROW_MSG(Initializer("nope").fill(w, g, "ctx2"), ValueError, "ctx2", "'nope'");
  // A layer names itself and the argument.
  clear_session();
  EXPECT_THROW_MSG(layers::LSTM(2, LSTMOptions{.recurrent_initializer = Initializer::random_normal(0, -2)}),
                   ValueError, "LSTM \"lstm\"", "recurrent_initializer", "stddev");
}
