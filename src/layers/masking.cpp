#include "seqnet/layers/masking.hpp"
#include "seqnet/layers/serialization.hpp"

#include <cfloat>

#include <fmt/format.h>

#include <cmath>

namespace seqnet::layers {

Masking::Masking(float mask_value, std::string name) : Layer("Masking", std::move(name)), mask_value_(mask_value) {
  if (!std::isfinite(mask_value)) fail_value(fmt::format("argument `mask_value` must be finite, got {}", mask_value));
}

std::vector<Shape> Masking::infer_shapes(const std::vector<Shape>& in) const {
  expect_input_count(in.size(), 1, 1);
  if (in[0].size() != 3) fail_shape(fmt::format("expected input of shape (batch, time, features), got {}", shape_str(in[0])));
  return {in[0]};
}

Tensor Masking::compute_mask(const std::vector<Tensor>& inputs, const std::vector<Tensor>&) const {
  const Tensor& x = inputs.at(0);
  const int64_t B = x.dim(0), T = x.dim(1), F = x.dim(2);
  Tensor m({B, T});
  for (int64_t i = 0; i < B * T; ++i) {
    const float* row = x.data() + i * F;
    for (int64_t f = 0; f < F; ++f) {
      if (row[f] != mask_value_) {
        m[i] = 1.0f;
        break;
      }
    }
  }
  return m;
}

std::vector<Tensor> Masking::forward_impl(const std::vector<Tensor>& in, const CallArgs&, Cache*) {
  const Tensor& x = in[0];
  const Tensor m = compute_mask(in, {});
  Tensor y = x.clone();
  const int64_t F = x.dim(2);
  for (int64_t i = 0; i < m.size(); ++i) {
    if (m[i] == 0.0f) std::fill_n(y.data() + i * F, F, 0.0f);
  }
  return {y};
}

std::vector<Tensor> Masking::backward_impl(const std::vector<Tensor>& dout, Cache& cache) {
  const Tensor& x = cache.inputs[0];
  if (!has_grad(dout[0], x.shape(), 0)) return {Tensor(x.shape())};
  const Tensor m = compute_mask(cache.inputs, {});
  Tensor dx = dout[0].clone();
  const int64_t F = x.dim(2);
  for (int64_t i = 0; i < m.size(); ++i) {
    if (m[i] == 0.0f) std::fill_n(dx.data() + i * F, F, 0.0f);
  }
  return {dx};
}

}  // namespace seqnet::layers

// ---------------------------------------------------------------- config

namespace seqnet::layers {

nlohmann::json Masking::get_config() const {
  nlohmann::json c = base_layer_config(*this);
  c["mask_value"] = json_float(mask_value_);
  return c;
}

std::shared_ptr<Layer> Masking::from_config(const ConfigReader& r) {
  r.expect_common();
  return std::make_shared<Masking>(r.get_float("mask_value", 0.0f, -FLT_MAX, FLT_MAX), r.name());
}
SEQNET_REGISTER_LAYER(Masking);

}  // namespace seqnet::layers
