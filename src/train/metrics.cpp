#include "seqnet/train/metrics.hpp"

#include <fmt/format.h>

#include <cmath>

#include "seqnet/error.hpp"

namespace seqnet {

namespace {

int64_t argmax(const float* v, int64_t n) {
  int64_t best = 0;
  for (int64_t k = 1; k < n; ++k)
    if (v[k] > v[best]) best = k;
  return best;
}

class CategoricalAccuracy : public Metric {
 public:
  using Metric::Metric;

 protected:
  double row(const float* t, const float* p, int64_t n) const override { return argmax(t, n) == argmax(p, n); }
};

class SparseCategoricalAccuracy : public Metric {
 public:
  using Metric::Metric;
  bool sparse() const override { return true; }

 protected:
  double row(const float* t, const float* p, int64_t n) const override {
    return static_cast<float>(argmax(p, n)) == t[0];
  }
};

class BinaryAccuracy : public Metric {
 public:
  using Metric::Metric;

 protected:
  double row(const float* t, const float* p, int64_t n) const override {
    double s = 0;
    for (int64_t k = 0; k < n; ++k) s += (p[k] > 0.5f ? 1.0f : 0.0f) == t[k];
    return s / n;
  }
};

class MeanSquared : public Metric {
 public:
  using Metric::Metric;

 protected:
  double row(const float* t, const float* p, int64_t n) const override {
    double s = 0;
    for (int64_t k = 0; k < n; ++k) s += (static_cast<double>(p[k]) - t[k]) * (static_cast<double>(p[k]) - t[k]);
    return s / n;
  }
};

class MeanAbsolute : public Metric {
 public:
  using Metric::Metric;

 protected:
  double row(const float* t, const float* p, int64_t n) const override {
    double s = 0;
    for (int64_t k = 0; k < n; ++k) s += std::abs(static_cast<double>(p[k]) - t[k]);
    return s / n;
  }
};

}  // namespace

Metric::Sum Metric::accumulate(const Tensor& y_true, const Tensor& y_pred, const Tensor& mask) const {
  const int64_t cols = y_pred.dim(-1);
  const int64_t rows = cols == 0 ? 0 : y_pred.size() / cols;
  const int64_t tcols = sparse() ? 1 : cols;
  if (y_true.size() != rows * tcols) {
    throw ShapeError(fmt::format("metric {}: targets of shape {} do not fit predictions of shape {}", name_,
                                 shape_str(y_true.shape()), shape_str(y_pred.shape())));
  }
  if (!mask.empty() && mask.size() != rows) {
    throw ShapeError(fmt::format("metric {}: a mask of shape {} does not fit predictions of shape {}", name_,
                                 shape_str(mask.shape()), shape_str(y_pred.shape())));
  }
  Sum s;
  for (int64_t r = 0; r < rows; ++r) {
    if (!mask.empty() && mask[r] == 0.0f) continue;
    s.total += row(y_true.data() + r * tcols, y_pred.data() + r * cols, cols);
    s.count += 1;
  }
  return s;
}

std::unique_ptr<Metric> make_metric(std::string_view name, std::string_view loss_name) {
  const std::string n(name);
  if (name == "accuracy" || name == "acc") {
    if (loss_name == "binary_crossentropy") return std::make_unique<BinaryAccuracy>(n);
    if (loss_name == "sparse_categorical_crossentropy") return std::make_unique<SparseCategoricalAccuracy>(n);
    return std::make_unique<CategoricalAccuracy>(n);
  }
  if (name == "categorical_accuracy") return std::make_unique<CategoricalAccuracy>(n);
  if (name == "sparse_categorical_accuracy") return std::make_unique<SparseCategoricalAccuracy>(n);
  if (name == "binary_accuracy") return std::make_unique<BinaryAccuracy>(n);
  if (name == "mse" || name == "mean_squared_error") return std::make_unique<MeanSquared>(n);
  if (name == "mae" || name == "mean_absolute_error") return std::make_unique<MeanAbsolute>(n);
  throw ValueError(fmt::format("unknown metric '{}'; expected one of 'accuracy', 'acc', 'categorical_accuracy', "
                               "'sparse_categorical_accuracy', 'binary_accuracy', 'mse', 'mae'",
                               name));
}

}  // namespace seqnet
