#include "seqnet/layers/layer_normalization.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "seqnet/error.hpp"
#include "seqnet/layers/serialization.hpp"

namespace seqnet::layers {

namespace {

struct LayerNormalizationCache : Cache {
  Tensor xhat;  // (N, F) normalized inputs, N = all axes but the last
  Tensor rstd;  // (N,) 1 / sqrt(var + epsilon)
};

}  // namespace

LayerNormalization::LayerNormalization(LayerNormalizationOptions options)
    : Layer("LayerNormalization", options.name), options_(std::move(options)) {
  if (!(std::isfinite(options_.epsilon) && options_.epsilon > 0.0f)) {
    fail_value(fmt::format("received an invalid value for argument `epsilon`, expected a positive number, got {}",
                           options_.epsilon));
  }
  options_.beta_initializer.validate(describe() + ": argument `beta_initializer`");
  options_.gamma_initializer.validate(describe() + ": argument `gamma_initializer`");
  options_.beta_regularizer.validate(describe() + ": argument `beta_regularizer`");
  options_.gamma_regularizer.validate(describe() + ": argument `gamma_regularizer`");
}

std::unique_ptr<Cache> LayerNormalization::make_cache() const { return std::make_unique<LayerNormalizationCache>(); }

std::vector<Shape> LayerNormalization::infer_shapes(const std::vector<Shape>& in) const {
  expect_input_count(in.size(), 1, 1);
  const Shape& s = in[0];
  const int rank = static_cast<int>(s.size());
  if (rank < 2) fail_shape(fmt::format("expected input of rank >= 2 (batch, ..., features), got {}", shape_str(s)));
  if (options_.axis != -1 && options_.axis != rank - 1) {
    fail_value(fmt::format("argument `axis` = {} is not supported: only the last axis (-1, or {} for this rank-{} "
                           "input) can be normalized",
                           options_.axis, rank - 1, rank));
  }
  const int64_t F = s.back();
  if (F == None) fail_shape(fmt::format("the last input dimension must be known, got {}", shape_str(s)));
  const Param* w = gamma_ != nullptr ? gamma_ : beta_;
  if (w != nullptr && w->value.dim(0) != F) {
    fail_shape(fmt::format("expected input with {} features on the last axis, got {}", w->value.dim(0),
                           shape_str(s)));
  }
  return {s};
}

void LayerNormalization::build(const std::vector<Shape>& in) {
  const int64_t F = in[0].back();
  if (options_.scale) gamma_ = &add_param("gamma", {F}, options_.gamma_initializer, options_.gamma_regularizer);
  if (options_.center) beta_ = &add_param("beta", {F}, options_.beta_initializer, options_.beta_regularizer);
}

std::vector<Tensor> LayerNormalization::forward_impl(const std::vector<Tensor>& in, const CallArgs& args,
                                                     Cache* cache) {
  const Tensor& x = in[0];
  infer_shapes({x.shape()});
  const int64_t F = x.shape().back(), N = F == 0 ? 0 : x.size() / F;
  auto* c = static_cast<LayerNormalizationCache*>(cache);
  const bool keep = c != nullptr && args.training;
  if (keep) {
    ensure_shape(c->xhat, {N, F});
    ensure_shape(c->rstd, {N});
  }
  Tensor y = Tensor::uninitialized(x.shape());
  const float* g = gamma_ != nullptr ? gamma_->value.data() : nullptr;
  const float* b = beta_ != nullptr ? beta_->value.data() : nullptr;
  for (int64_t n = 0; n < N; ++n) {
    const float* xr = x.data() + n * F;  // (F,)
    float* yr = y.data() + n * F;        // (F,)
    // Two passes in double: the mean, then the centred sum of squares.
    double mean = 0;
    for (int64_t f = 0; f < F; ++f) mean += xr[f];
    mean /= static_cast<double>(F);
    double var = 0;
    for (int64_t f = 0; f < F; ++f) var += (xr[f] - mean) * (xr[f] - mean);
    var /= static_cast<double>(F);
    const double rstd = 1.0 / std::sqrt(var + static_cast<double>(options_.epsilon));
    float* xh = keep ? c->xhat.data() + n * F : nullptr;
    for (int64_t f = 0; f < F; ++f) {
      const float v = static_cast<float>((xr[f] - mean) * rstd);
      if (xh != nullptr) xh[f] = v;
      yr[f] = (g != nullptr ? g[f] * v : v) + (b != nullptr ? b[f] : 0.0f);
    }
    if (keep) c->rstd[n] = static_cast<float>(rstd);
  }
  return {y};
}

// With xhat = (x - mean) * rstd and dxhat = dy * gamma:
//   dx = rstd * (dxhat - mean_f(dxhat) - xhat * mean_f(dxhat * xhat))
//   dgamma += sum_n dy * xhat      dbeta += sum_n dy
std::vector<Tensor> LayerNormalization::backward_impl(const std::vector<Tensor>& dout, Cache& cache) {
  auto& c = static_cast<LayerNormalizationCache&>(cache);
  const Tensor& x = c.inputs[0];
  if (!has_grad(dout[0], x.shape(), 0)) return {Tensor(x.shape())};
  const Tensor& dy = dout[0];
  const int64_t F = x.shape().back(), N = F == 0 ? 0 : x.size() / F;
  Tensor dx = Tensor::uninitialized(x.shape());
  const float* g = gamma_ != nullptr ? gamma_->value.data() : nullptr;
  float* dg = gamma_ != nullptr ? gamma_->grad.data() : nullptr;
  float* db = beta_ != nullptr ? beta_->grad.data() : nullptr;
  for (int64_t n = 0; n < N; ++n) {
    const float* dyr = dy.data() + n * F;        // (F,)
    const float* xh = c.xhat.data() + n * F;     // (F,)
    float* dxr = dx.data() + n * F;              // (F,)
    double sum_dxh = 0, sum_dxh_xh = 0;
    for (int64_t f = 0; f < F; ++f) {
      const double dxh = g != nullptr ? static_cast<double>(dyr[f]) * g[f] : dyr[f];
      sum_dxh += dxh;
      sum_dxh_xh += dxh * xh[f];
      if (dg != nullptr) dg[f] += dyr[f] * xh[f];
      if (db != nullptr) db[f] += dyr[f];
    }
    const double mean_dxh = sum_dxh / static_cast<double>(F), mean_dxh_xh = sum_dxh_xh / static_cast<double>(F);
    const double rstd = c.rstd[n];
    for (int64_t f = 0; f < F; ++f) {
      const double dxh = g != nullptr ? static_cast<double>(dyr[f]) * g[f] : dyr[f];
      dxr[f] = static_cast<float>(rstd * (dxh - mean_dxh - xh[f] * mean_dxh_xh));
    }
  }
  return {dx};
}

}  // namespace seqnet::layers

// ---------------------------------------------------------------- config

namespace seqnet::layers {

nlohmann::json LayerNormalization::get_config() const {
  nlohmann::json c = base_layer_config(*this);
  c["axis"] = nlohmann::json::array({options_.axis});
  c["epsilon"] = json_float(options_.epsilon);
  c["center"] = options_.center;
  c["scale"] = options_.scale;
  c["beta_initializer"] = initializer_to_keras(options_.beta_initializer);
  c["gamma_initializer"] = initializer_to_keras(options_.gamma_initializer);
  c["beta_regularizer"] = regularizer_to_keras(options_.beta_regularizer);
  c["gamma_regularizer"] = regularizer_to_keras(options_.gamma_regularizer);
  c["beta_constraint"] = nullptr;
  c["gamma_constraint"] = nullptr;
  return c;
}

std::shared_ptr<Layer> LayerNormalization::from_config(const ConfigReader& r) {
  r.expect_common();
  r.expect_no_constraints({"beta_constraint", "gamma_constraint"});
  LayerNormalizationOptions o;
  // Keras writes the axis as a list ([-1] or [2]); older files as a number.
  if (r.has("axis")) {
    const nlohmann::json& a = r.json().at("axis");
    if (a.is_array()) {
      if (a.size() != 1 || !a[0].is_number_integer()) {
        throw ValueError(fmt::format("{}: `axis` must be one axis (seqnet normalizes only the last), got {}",
                                     r.context(), a.dump().substr(0, 60)));
      }
      o.axis = static_cast<int>(std::clamp<int64_t>(a[0].get<int64_t>(), -64, 64));
    } else {
      o.axis = static_cast<int>(r.get_int("axis", -64, 64));
    }
  }
  o.epsilon = r.get_float("epsilon", o.epsilon, 1e-30, 1e30);
  o.center = r.get_bool("center", o.center);
  o.scale = r.get_bool("scale", o.scale);
  o.beta_initializer = r.get_initializer("beta_initializer", o.beta_initializer);
  o.gamma_initializer = r.get_initializer("gamma_initializer", o.gamma_initializer);
  o.beta_regularizer = r.get_regularizer("beta_regularizer");
  o.gamma_regularizer = r.get_regularizer("gamma_regularizer");
  o.name = r.name();
  return std::make_shared<LayerNormalization>(o);
}
SEQNET_REGISTER_LAYER(LayerNormalization);

}  // namespace seqnet::layers
