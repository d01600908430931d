#include "seqnet/layers/regularizers.hpp"

#include <fmt/format.h>

#include <cmath>
#include <string>

#include "seqnet/error.hpp"

namespace seqnet {

Regularizer::Regularizer(const char* keras_name) {
  const std::string n = keras_name ? keras_name : "";
  if (n.empty() || n == "none" || n == "None") return;
  if (n == "l1") {
    l1 = 0.01f;
  } else if (n == "l2") {
    l2 = 0.01f;
  } else if (n == "l1_l2") {
    l1 = l2 = 0.01f;
  } else {
    throw ValueError(fmt::format("unknown regularizer '{}'; expected one of 'l1', 'l2', 'l1_l2'", n));
  }
}

void Regularizer::validate(std::string_view context) const {
  if (!(l1 >= 0.0f) || !(l2 >= 0.0f) || !std::isfinite(l1) || !std::isfinite(l2)) {
    throw ValueError(fmt::format("{}: regularizer coefficients must be finite and >= 0, got l1={} l2={}", context,
                                 l1, l2));
  }
}

double Regularizer::penalty(const Tensor& w) const {
  double a = 0, b = 0;
  for (float v : w) {
    a += std::abs(v);
    b += static_cast<double>(v) * v;
  }
  return l1 * a + l2 * b;
}

void Regularizer::add_gradient(const Tensor& w, Tensor& grad) const {
  const float two_l2 = 2.0f * l2;
  for (int64_t i = 0; i < w.size(); ++i) {
    const float v = w[i];
    const float s = v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f);
    grad[i] += l1 * s + two_l2 * v;
  }
}

}  // namespace seqnet
