#include "seqnet/layers/initializers.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <cmath>

#include "seqnet/error.hpp"

namespace seqnet {

namespace {

constexpr const char* kNames[] = {"zeros",          "ones",          "constant",      "random_normal",
                                  "random_uniform", "truncated_normal", "glorot_uniform", "glorot_normal",
                                  "he_uniform",     "he_normal",     "lecun_uniform", "lecun_normal",
                                  "orthogonal",     "identity",      "uniform",       "normal"};

// Keras's correction so that a normal truncated at 2 sigma has the wanted
// standard deviation.
constexpr double kTruncatedStd = 0.87962566103423978;

struct Fans {
  double in, out;
};

Fans fans(const Shape& s) {
  if (s.empty()) return {1, 1};
  if (s.size() == 1) return {static_cast<double>(s[0]), static_cast<double>(s[0])};
  double receptive = 1;
  for (size_t i = 0; i + 2 < s.size(); ++i) receptive *= static_cast<double>(s[i]);
  return {static_cast<double>(s[s.size() - 2]) * receptive, static_cast<double>(s.back()) * receptive};
}

void fill_uniform(Tensor& w, Generator& g, double lo, double hi) {
  for (float& v : w) v = static_cast<float>(lo + (hi - lo) * static_cast<double>(g.uniform()));
}

void fill_truncated(Tensor& w, Generator& g, double mean, double stddev) {
  for (float& v : w) v = static_cast<float>(mean + stddev * g.truncated_normal());
}

void fill_orthogonal(Tensor& w, Generator& g, double gain) {
  // As Keras: QR of a normal matrix of the flattened shape (transposed when
  // it has more columns than rows), Q's columns signed by diag(R).
  const int64_t cols = w.shape().back();
  const int64_t rows = cols == 0 ? 0 : w.size() / cols;
  if (rows == 0 || cols == 0) return;
  const bool wide = rows < cols;
  const int64_t r = wide ? cols : rows, c = wide ? rows : cols;
  Eigen::MatrixXd a(r, c);
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) a(i, j) = g.normal();
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(a);
  Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(r, c);
  const Eigen::MatrixXd R = qr.matrixQR();
  for (int64_t j = 0; j < c; ++j) {
    if (R(j, j) < 0) q.col(j) *= -1.0;
  }
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) w[i * cols + j] = static_cast<float>(gain * (wide ? q(j, i) : q(i, j)));
}

}  // namespace

Initializer Initializer::constant(double v) {
  Initializer i("constant");
  i.value = v;
  return i;
}
Initializer Initializer::random_normal(double mean, double stddev) {
  Initializer i("random_normal");
  i.mean = mean;
  i.stddev = stddev;
  return i;
}
Initializer Initializer::random_uniform(double minval, double maxval) {
  Initializer i("random_uniform");
  i.minval = minval;
  i.maxval = maxval;
  return i;
}
Initializer Initializer::truncated_normal(double mean, double stddev) {
  Initializer i("truncated_normal");
  i.mean = mean;
  i.stddev = stddev;
  return i;
}
Initializer Initializer::orthogonal(double gain) {
  Initializer i("orthogonal");
  i.gain = gain;
  return i;
}

void Initializer::validate(std::string_view context) const {
  bool known = false;
  for (const char* n : kNames) known = known || name == n;
  if (!known) {
    std::string valid;
    for (const char* n : kNames) valid += fmt::format("{}'{}'", valid.empty() ? "" : ", ", n);
    throw ValueError(fmt::format("{}: unknown initializer '{}'; expected one of {}", context, name, valid));
  }
  if (!(stddev >= 0) || !std::isfinite(stddev) || !std::isfinite(mean)) {
    throw ValueError(fmt::format("{}: initializer '{}' needs a finite mean and stddev >= 0, got mean {} stddev {}",
                                 context, name, mean, stddev));
  }
  if (!(minval <= maxval) || !std::isfinite(minval) || !std::isfinite(maxval)) {
    throw ValueError(fmt::format("{}: initializer '{}' needs finite minval <= maxval, got [{}, {}]", context, name,
                                 minval, maxval));
  }
  if (!std::isfinite(gain) || !std::isfinite(value)) {
    throw ValueError(fmt::format("{}: initializer '{}' needs finite gain and value", context, name));
  }
}

void Initializer::fill(Tensor& w, Generator& g, std::string_view context) const {
  validate(context);
  const Fans f = fans(w.shape());
  if (name == "zeros") {
    w.fill(0.0f);
  } else if (name == "ones") {
    w.fill(1.0f);
  } else if (name == "constant") {
    w.fill(static_cast<float>(value));
  } else if (name == "random_normal" || name == "normal") {
    for (float& v : w) v = static_cast<float>(mean + stddev * g.normal());
  } else if (name == "random_uniform" || name == "uniform") {
    fill_uniform(w, g, minval, maxval);
  } else if (name == "truncated_normal") {
    fill_truncated(w, g, mean, stddev);
  } else if (name == "glorot_uniform") {
    const double limit = std::sqrt(6.0 / (f.in + f.out));
    fill_uniform(w, g, -limit, limit);
  } else if (name == "glorot_normal") {
    fill_truncated(w, g, 0.0, std::sqrt(2.0 / (f.in + f.out)) / kTruncatedStd);
  } else if (name == "he_uniform") {
    const double limit = std::sqrt(6.0 / f.in);
    fill_uniform(w, g, -limit, limit);
  } else if (name == "he_normal") {
    fill_truncated(w, g, 0.0, std::sqrt(2.0 / f.in) / kTruncatedStd);
  } else if (name == "lecun_uniform") {
    const double limit = std::sqrt(3.0 / f.in);
    fill_uniform(w, g, -limit, limit);
  } else if (name == "lecun_normal") {
    fill_truncated(w, g, 0.0, std::sqrt(1.0 / f.in) / kTruncatedStd);
  } else if (name == "orthogonal") {
    fill_orthogonal(w, g, gain);
  } else if (name == "identity") {
    if (w.rank() != 2) {
      throw ValueError(fmt::format("{}: initializer 'identity' needs a 2-D weight, got shape {}", context,
                                   shape_str(w.shape())));
    }
    w.fill(0.0f);
    for (int64_t i = 0; i < std::min(w.dim(0), w.dim(1)); ++i) w.at(i, i) = static_cast<float>(gain);
  }
}

}  // namespace seqnet
