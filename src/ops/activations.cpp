#include "seqnet/detail/ops/activations.hpp"

#include <fmt/format.h>

#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <cmath>

#include "seqnet/error.hpp"

namespace seqnet::ops {

namespace {

using ArrayMap = Eigen::Map<Eigen::ArrayXf>;
using ConstArrayMap = Eigen::Map<const Eigen::ArrayXf>;

constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;
constexpr float kSeluScale = 1.0507009873554804934193349852946f;

struct NamedAct {
  const char* name;
  Act act;
};
constexpr std::array<NamedAct, 11> kActs{{{"linear", Act::Linear},
                                          {"tanh", Act::Tanh},
                                          {"sigmoid", Act::Sigmoid},
                                          {"hard_sigmoid", Act::HardSigmoid},
                                          {"keras3_hard_sigmoid", Act::Keras3HardSigmoid},
                                          {"relu", Act::Relu},
                                          {"elu", Act::Elu},
                                          {"selu", Act::Selu},
                                          {"softplus", Act::Softplus},
                                          {"softsign", Act::Softsign},
                                          {"softmax", Act::Softmax}}};

}  // namespace

Act parse_activation(std::string_view name, std::string_view context) {
  if (name.empty() || name == "none" || name == "None") return Act::Linear;
  for (const auto& na : kActs) {
    if (name == na.name) return na.act;
  }
  std::string valid;
  for (const auto& na : kActs) valid += fmt::format("{}'{}'", valid.empty() ? "" : ", ", na.name);
  throw ValueError(fmt::format("{}: unknown activation '{}'; expected one of {}", context, name, valid));
}

std::string activation_name(Act a) {
  for (const auto& na : kActs) {
    if (na.act == a) return na.name;
  }
  return "linear";
}

void activate(Act a, const float* x, float* y, int64_t n) {
  ConstArrayMap X(x, n);
  ArrayMap Y(y, n);
  switch (a) {
    case Act::Linear:
      if (x != y) Y = X;
      break;
    case Act::Tanh:
      Y = X.tanh();
      break;
    case Act::Sigmoid:
      // 1 / (1 + exp(-x)) keeps full relative precision in both tails
      // (Eigen's logistic() loses it below about -9).
      Y = (1.0f + (-X).exp()).inverse();
      break;
    case Act::HardSigmoid:
      Y = (0.2f * X + 0.5f).max(0.0f).min(1.0f);
      break;
    case Act::Keras3HardSigmoid:
      Y = (X + 3.0f).max(0.0f).min(6.0f) / 6.0f;
      break;
    case Act::Relu:
      Y = X.max(0.0f);
      break;
    case Act::Elu:
      Y = (X > 0.0f).select(X, X.exp() - 1.0f);
      break;
    case Act::Selu:
      Y = kSeluScale * (X > 0.0f).select(X, kSeluAlpha * (X.exp() - 1.0f));
      break;
    case Act::Softplus:
      // max(x, 0) + log1p(exp(-|x|)) never overflows.
      Y = X.max(0.0f) + (-X.abs()).exp().log1p();
      break;
    case Act::Softsign:
      Y = X / (1.0f + X.abs());
      break;
    case Act::Softmax:
      throw ValueError("activate: softmax is not elementwise; use softmax_rows");
  }
}

void activate_rows(Act a, float* data, int64_t rows, int64_t cols, int64_t ld) {
  if (ld == cols) {
    activate(a, data, data, rows * cols);
    return;
  }
  // Column-major view of the block: `cols` contiguous floats per row.
  using Block = Eigen::Map<Eigen::ArrayXXf, Eigen::Unaligned, Eigen::OuterStride<>>;
  Block X(data, cols, rows, Eigen::OuterStride<>(ld));
  switch (a) {
    case Act::Tanh:
      X = X.tanh();
      return;
    case Act::Sigmoid:
      X = (1.0f + (-X).exp()).inverse();
      return;
    default:
      for (int64_t r = 0; r < rows; ++r) activate(a, data + r * ld, data + r * ld, cols);
  }
}

void activate_backward(Act a, const float* y, const float* dy, float* dx, int64_t n) {
  ConstArrayMap Y(y, n), DY(dy, n);
  ArrayMap DX(dx, n);
  switch (a) {
    case Act::Linear:
      if (dx != dy) DX = DY;
      break;
    case Act::Tanh:
      DX = DY * (1.0f - Y.square());
      break;
    case Act::Sigmoid:
      DX = DY * Y * (1.0f - Y);
      break;
    case Act::HardSigmoid:
      DX = ((Y > 0.0f) && (Y < 1.0f)).select(0.2f * DY, 0.0f);
      break;
    case Act::Keras3HardSigmoid:
      DX = ((Y > 0.0f) && (Y < 1.0f)).select(DY / 6.0f, 0.0f);
      break;
    case Act::Relu:
      DX = (Y > 0.0f).select(DY, 0.0f);
      break;
    case Act::Elu:
      DX = (Y > 0.0f).select(DY, DY * (Y + 1.0f));
      break;
    case Act::Selu:
      DX = (Y > 0.0f).select(kSeluScale * DY, DY * (Y + kSeluScale * kSeluAlpha));
      break;
    case Act::Softplus:
      DX = DY * (1.0f - (-Y).exp());
      break;
    case Act::Softsign:
      DX = DY * (1.0f - Y.abs()).square();
      break;
    case Act::Softmax:
      throw ValueError("activate_backward: softmax is not elementwise; use softmax_rows_backward");
  }
}

void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    ConstArrayMap X(x + r * cols, cols);
    ArrayMap Y(y + r * cols, cols);
    const float m = X.maxCoeff();
    Y = (X - m).exp();
    Y /= Y.sum();
  }
}

void softmax_rows_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    ConstArrayMap Y(y + r * cols, cols), DY(dy + r * cols, cols);
    ArrayMap DX(dx + r * cols, cols);
    const float dot = (DY * Y).sum();
    DX = Y * (DY - dot);
  }
}

void activate(Act a, const Tensor& x, Tensor& y) {
  if (x.size() != y.size()) throw ShapeError("activate: input and output sizes differ");
  if (a == Act::Softmax) {
    const MatView m = x.matrix();
    softmax_rows(x.data(), y.data(), m.rows, m.cols);
  } else {
    activate(a, x.data(), y.data(), x.size());
  }
}

void activate_backward(Act a, const Tensor& y, const Tensor& dy, Tensor& dx) {
  if (y.size() != dy.size() || y.size() != dx.size()) throw ShapeError("activate_backward: sizes differ");
  if (a == Act::Softmax) {
    const MatView m = y.matrix();
    softmax_rows_backward(y.data(), dy.data(), dx.data(), m.rows, m.cols);
  } else {
    activate_backward(a, y.data(), dy.data(), dx.data(), y.size());
  }
}

}  // namespace seqnet::ops
