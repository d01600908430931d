#include "seqnet/train/losses.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "seqnet/error.hpp"
#include "seqnet/layers/serialization.hpp"

namespace seqnet {

namespace {

constexpr float kEps = 1e-7f;

class CategoricalCE : public Loss {
 public:
  std::string name() const override { return "categorical_crossentropy"; }

 protected:
  double row(const float* t, const float* p, int64_t n, float* g) const override {
    // o = p / S; oc = clip(o, eps, 1 - eps); L = -sum t log(oc)
    double S = 0;
    for (int64_t k = 0; k < n; ++k) S += p[k];
    if (S <= 0) S = kEps;  // degenerate all-zero prediction
    double L = 0, tsum_over = 0;
    for (int64_t k = 0; k < n; ++k) {
      const double o = p[k] / S;
      const double oc = std::clamp(o, static_cast<double>(kEps), 1.0 - kEps);
      L -= t[k] * std::log(oc);
      if (g != nullptr) {
        // dL/do_k = -t_k / oc inside the clip range, 0 outside.
        const double dl_do = (o >= kEps && o <= 1.0 - kEps) ? -t[k] / oc : 0.0;
        g[k] = static_cast<float>(dl_do / S);
        tsum_over += dl_do * o;
      }
    }
    if (g != nullptr) {
      // Through the normalization: do_j/dp_i = delta_ij / S - p_j / S^2.
      for (int64_t k = 0; k < n; ++k) g[k] -= static_cast<float>(tsum_over / S);
    }
    return L;
  }
};

class SparseCategoricalCE : public Loss {
 public:
  std::string name() const override { return "sparse_categorical_crossentropy"; }
  bool sparse() const override { return true; }

 protected:
  double row(const float* t, const float* p, int64_t n, float* g) const override {
    const float id = t[0];
    if (!(id >= 0.0f && id < static_cast<float>(n)) || id != std::floor(id)) {
      throw ValueError(fmt::format("sparse_categorical_crossentropy: label {} is not a class id in [0, {})", id, n));
    }
    const auto c = static_cast<int64_t>(id);
    double S = 0;
    for (int64_t k = 0; k < n; ++k) S += p[k];
    if (S <= 0) S = kEps;
    const double o = p[c] / S;
    const double oc = std::clamp(o, static_cast<double>(kEps), 1.0 - kEps);
    if (g != nullptr) {
      const double dl_do = (o >= kEps && o <= 1.0 - kEps) ? -1.0 / oc : 0.0;
      for (int64_t k = 0; k < n; ++k) g[k] = static_cast<float>(-dl_do * o / S);
      g[c] += static_cast<float>(dl_do / S);
    }
    return -std::log(oc);
  }
};

class BinaryCE : public Loss {
 public:
  std::string name() const override { return "binary_crossentropy"; }

 protected:
  double row(const float* t, const float* p, int64_t n, float* g) const override {
    double L = 0;
    for (int64_t k = 0; k < n; ++k) {
      const double pc = std::clamp(static_cast<double>(p[k]), static_cast<double>(kEps), 1.0 - kEps);
      L -= t[k] * std::log(pc + kEps) + (1.0 - t[k]) * std::log(1.0 - pc + kEps);
      if (g != nullptr) {
        const bool inside = p[k] >= kEps && p[k] <= 1.0f - kEps;
        const double d = -(t[k] / (pc + kEps)) + (1.0 - t[k]) / (1.0 - pc + kEps);
        g[k] = inside ? static_cast<float>(d / n) : 0.0f;
      }
    }
    return L / n;
  }
};

class MSE : public Loss {
 public:
  std::string name() const override { return "mean_squared_error"; }

 protected:
  double row(const float* t, const float* p, int64_t n, float* g) const override {
    double L = 0;
    for (int64_t k = 0; k < n; ++k) {
      const double d = static_cast<double>(p[k]) - t[k];
      L += d * d;
      if (g != nullptr) g[k] = static_cast<float>(2.0 * d / n);
    }
    return L / n;
  }
};

class MAE : public Loss {
 public:
  std::string name() const override { return "mean_absolute_error"; }

 protected:
  double row(const float* t, const float* p, int64_t n, float* g) const override {
    double L = 0;
    for (int64_t k = 0; k < n; ++k) {
      const double d = static_cast<double>(p[k]) - t[k];
      L += std::abs(d);
      if (g != nullptr) g[k] = static_cast<float>((d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0)) / n);
    }
    return L / n;
  }
};

class HuberLoss : public Loss {
 public:
  explicit HuberLoss(float delta) : delta_(delta) {
    if (!(delta > 0.0f) || !std::isfinite(delta)) {
      throw ValueError(fmt::format("Huber: argument `delta` must be a positive number, got {}", delta));
    }
  }
  std::string name() const override { return "huber_loss"; }
  nlohmann::json get_config() const override {
    return {{"class_name", "Huber"},
            {"config", {{"name", "huber_loss"}, {"reduction", "auto"}, {"delta", json_float(delta_)}}}};
  }

 protected:
  double row(const float* t, const float* p, int64_t n, float* g) const override {
    double L = 0;
    const double delta = delta_;
    for (int64_t k = 0; k < n; ++k) {
      const double d = static_cast<double>(p[k]) - t[k];
      const double a = std::abs(d);
      L += a <= delta ? 0.5 * d * d : delta * (a - 0.5 * delta);
      if (g != nullptr) g[k] = static_cast<float>((a <= delta ? d : delta * (d > 0 ? 1.0 : -1.0)) / n);
    }
    return L / n;
  }

 private:
  float delta_;
};

}  // namespace

Loss::Sum Loss::compute_sum(const Tensor& y_true, const Tensor& y_pred, const Tensor& mask, Tensor* grad) const {
  if (y_pred.rank() < 1) throw ShapeError(fmt::format("{}: predictions must have at least one axis", name()));
  const int64_t cols = y_pred.dim(-1);
  const int64_t rows = cols == 0 ? 0 : y_pred.size() / cols;
  if (sparse()) {
    Shape want(y_pred.shape().begin(), y_pred.shape().end() - 1);
    Shape want1 = want;
    want1.push_back(1);
    if (y_true.shape() != want && y_true.shape() != want1) {
      throw ShapeError(fmt::format("{}: expected targets of shape {} (class ids) for predictions of shape {}, got {}",
                                   name(), shape_str(want), shape_str(y_pred.shape()), shape_str(y_true.shape())));
    }
  } else if (y_true.shape() != y_pred.shape()) {
    throw ShapeError(fmt::format("{}: expected targets of shape {} like the predictions, got {}", name(),
                                 shape_str(y_pred.shape()), shape_str(y_true.shape())));
  }
  if (!mask.empty()) {
    // A (B, T) mask applies to sequence outputs (B, T, C): one value per row.
    if (mask.size() != rows || y_pred.rank() < 3) {
      throw ShapeError(fmt::format("{}: a mask of shape {} does not fit predictions of shape {}", name(),
                                   shape_str(mask.shape()), shape_str(y_pred.shape())));
    }
  }
  if (grad != nullptr) {
    if (grad->empty() || grad->shape() != y_pred.shape()) *grad = Tensor(y_pred.shape());
  }
  const int64_t tcols = sparse() ? 1 : cols;
  double total = 0, count = 0;
  for (int64_t r = 0; r < rows; ++r) {
    float* g = grad != nullptr ? grad->data() + r * cols : nullptr;
    const float w = mask.empty() ? 1.0f : (mask[r] != 0.0f ? 1.0f : 0.0f);
    if (w == 0.0f) {
      if (g != nullptr) std::fill_n(g, cols, 0.0f);
      continue;
    }
    total += row(y_true.data() + r * tcols, y_pred.data() + r * cols, cols, g);
    count += 1;
  }
  return Sum{total, count};
}

double Loss::compute(const Tensor& y_true, const Tensor& y_pred, const Tensor& mask, Tensor* grad) const {
  const Sum s = compute_sum(y_true, y_pred, mask, grad);
  if (s.count == 0) return 0.0;
  if (grad != nullptr) scale_gradient(*grad, s.count);
  return s.total / s.count;
}

void Loss::scale_gradient(Tensor& grad, double count) {
  const float inv = static_cast<float>(1.0 / count);
  for (float& v : grad) v *= inv;
}

std::shared_ptr<Loss> CategoricalCrossentropy() { return std::make_shared<CategoricalCE>(); }
std::shared_ptr<Loss> SparseCategoricalCrossentropy() { return std::make_shared<SparseCategoricalCE>(); }
std::shared_ptr<Loss> BinaryCrossentropy() { return std::make_shared<BinaryCE>(); }
std::shared_ptr<Loss> MeanSquaredError() { return std::make_shared<MSE>(); }
std::shared_ptr<Loss> MeanAbsoluteError() { return std::make_shared<MAE>(); }
std::shared_ptr<Loss> Huber(float delta) { return std::make_shared<HuberLoss>(delta); }

nlohmann::json Loss::get_config() const { return nlohmann::json(name()); }

std::shared_ptr<Loss> make_loss(std::string_view name) {
  if (name == "categorical_crossentropy") return CategoricalCrossentropy();
  if (name == "sparse_categorical_crossentropy") return SparseCategoricalCrossentropy();
  if (name == "binary_crossentropy") return BinaryCrossentropy();
  if (name == "mse" || name == "mean_squared_error") return MeanSquaredError();
  if (name == "mae" || name == "mean_absolute_error") return MeanAbsoluteError();
  if (name == "huber" || name == "huber_loss") return Huber();
  throw ValueError(fmt::format("unknown loss '{}'; expected one of 'categorical_crossentropy', "
                               "'sparse_categorical_crossentropy', 'binary_crossentropy', 'mse', 'mae', 'huber'",
                               name));
}


// ---------------------------------------------------------------- Keras configs


// The reverse of Loss::get_config (and of the names make_loss takes).
std::shared_ptr<Loss> loss_from_config(const nlohmann::json& j) {
  if (j.is_string()) return make_loss(j.get<std::string>());
  if (!j.is_object() || !j.contains("class_name") || !j["class_name"].is_string()) {
    throw ValueError("loss config: expected a loss name or {\"class_name\": ..., \"config\": {...}}");
  }
  const std::string cls = j["class_name"].get<std::string>();
  const std::string what = fmt::format("{} loss config", cls.substr(0, 64));
  const ConfigReader r(config_object(j, what), what);
  r.expect("from_logits", false, "seqnet's losses take probabilities");
  r.expect("label_smoothing", 0, "seqnet's losses have no label smoothing");
  r.expect("axis", -1, "seqnet's losses reduce the last axis");
  r.expect_null("ignore_class", "seqnet's sparse loss ignores no class");
  if (r.has("reduction")) {
    const std::string red = r.get_string("reduction");
    if (red != "auto" && red != "sum_over_batch_size") {
      throw ValueError(fmt::format("{}: reduction '{}' is not supported (seqnet averages)", what, red));
    }
  }
  if (cls == "Huber") return Huber(r.get_float("delta", 1.0f, 0.0, FLT_MAX));
  if (cls == "CategoricalCrossentropy") return CategoricalCrossentropy();
  if (cls == "SparseCategoricalCrossentropy") return SparseCategoricalCrossentropy();
  if (cls == "BinaryCrossentropy") return BinaryCrossentropy();
  if (cls == "MeanSquaredError") return MeanSquaredError();
  if (cls == "MeanAbsoluteError") return MeanAbsoluteError();
  throw ValueError(fmt::format("loss config: unknown loss class '{}'", cls.substr(0, 64)));
}

}  // namespace seqnet
