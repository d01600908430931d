#include "seqnet/detail/ops/activations.hpp"

#include <fmt/format.h>

#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

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

// Eigen evaluates a coefficient-wise expression in packets, but peels
// scalar iterations off the start (up to the destination's alignment) and
// the end, and its scalar exp and tanh round differently from its packet
// ones: an element's bits would depend on its address and on n (a sequence
// streamed a step at a time, whose gates sit at other offsets, would not
// give the bits of the whole sequence). So every element goes through the
// packet code: chunks are copied into an aligned buffer padded to whole
// packets, `f` maps the buffer in place, and the chunk is copied back.
template <class F>
void packetwise(const float* x, float* y, int64_t n, F&& f) {
  constexpr int64_t kChunk = 256, kPad = 16;
  alignas(64) float buf[kChunk];
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t m = std::min(kChunk, n - i), padded = (m + kPad - 1) / kPad * kPad;
    std::copy_n(x + i, m, buf);
    std::fill(buf + m, buf + padded, 0.0f);
    Eigen::Map<Eigen::ArrayXf, Eigen::Aligned64> B(buf, padded);
    f(B);
    std::copy_n(buf, m, y + i);
  }
}

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
  using Buf = Eigen::Map<Eigen::ArrayXf, Eigen::Aligned64>;
  switch (a) {
    case Act::Linear:
      if (x != y) std::copy_n(x, n, y);
      break;
    case Act::Tanh:
      packetwise(x, y, n, [](Buf& X) { X = X.tanh(); });
      break;
    case Act::Sigmoid:
      // 1 / (1 + exp(-x)) keeps full relative precision in both tails
      // (Eigen's logistic() loses it below about -9).
      packetwise(x, y, n, [](Buf& X) { X = (1.0f + (-X).exp()).inverse(); });
      break;
    case Act::HardSigmoid:
      packetwise(x, y, n, [](Buf& X) { X = (0.2f * X + 0.5f).max(0.0f).min(1.0f); });
      break;
    case Act::Keras3HardSigmoid:
      packetwise(x, y, n, [](Buf& X) { X = (X + 3.0f).max(0.0f).min(6.0f) / 6.0f; });
      break;
    case Act::Relu:
      packetwise(x, y, n, [](Buf& X) { X = X.max(0.0f); });
      break;
    case Act::Elu:
      packetwise(x, y, n, [](Buf& X) { X = (X > 0.0f).select(X, X.exp() - 1.0f); });
      break;
    case Act::Selu:
      packetwise(x, y, n, [](Buf& X) { X = kSeluScale * (X > 0.0f).select(X, kSeluAlpha * (X.exp() - 1.0f)); });
      break;
    case Act::Softplus:
      // max(x, 0) + log1p(exp(-|x|)) never overflows.
      packetwise(x, y, n, [](Buf& X) { X = X.max(0.0f) + (-X.abs()).exp().log1p(); });
      break;
    case Act::Softsign:
      packetwise(x, y, n, [](Buf& X) { X = X / (1.0f + X.abs()); });
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
  for (int64_t r = 0; r < rows; ++r) activate(a, data + r * ld, data + r * ld, cols);
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
    {
      // exp(-y) through the packet code (see packetwise), then the product
      // (dx may be dy itself).
      std::vector<float> e(static_cast<size_t>(n));
      packetwise(y, e.data(), n, [](Eigen::Map<Eigen::ArrayXf, Eigen::Aligned64>& E) { E = (-E).exp(); });
      DX = DY * (1.0f - ConstArrayMap(e.data(), n));
      break;
    }
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
    Y = X - m;
    packetwise(Y.data(), Y.data(), cols, [](Eigen::Map<Eigen::ArrayXf, Eigen::Aligned64>& E) { E = E.exp(); });
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
