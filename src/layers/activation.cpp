#include "seqnet/layers/activation.hpp"
#include "seqnet/detail/ops/activations.hpp"
#include "seqnet/layers/serialization.hpp"

#include <fmt/format.h>

namespace seqnet::layers {

namespace {
struct ActivationCache : Cache {
  Tensor y;
};
}  // namespace

Activation::Activation(const std::string& activation, std::string name) : Layer("Activation", std::move(name)) {
  act_ = ops::parse_activation(activation, describe() + ": argument `activation`");
}

std::unique_ptr<Cache> Activation::make_cache() const { return std::make_unique<ActivationCache>(); }

std::vector<Shape> Activation::infer_shapes(const std::vector<Shape>& in) const {
  expect_input_count(in.size(), 1, 1);
  if (in[0].empty()) fail_shape("expected an input of rank >= 1, got a scalar");
  return {in[0]};
}

std::vector<Tensor> Activation::forward_impl(const std::vector<Tensor>& in, const CallArgs&, Cache* cache) {
  Tensor y = Tensor::uninitialized(in[0].shape());
  ops::activate(act_, in[0], y);
  if (cache != nullptr) static_cast<ActivationCache&>(*cache).y = y;
  return {y};
}

std::vector<Tensor> Activation::backward_impl(const std::vector<Tensor>& dout, Cache& cache) {
  auto& c = static_cast<ActivationCache&>(cache);
  Tensor dx(c.y.shape());
  if (!has_grad(dout[0], c.y.shape(), 0)) return {dx};
  ops::activate_backward(act_, c.y, dout[0], dx);
  return {dx};
}

}  // namespace seqnet::layers

// ---------------------------------------------------------------- config

namespace seqnet::layers {

nlohmann::json Activation::get_config() const {
  nlohmann::json c = base_layer_config(*this);
  c["activation"] = ops::activation_name(act_);
  return c;
}

std::shared_ptr<Layer> Activation::from_config(const ConfigReader& r) {
  r.expect_common();
  return std::make_shared<Activation>(r.get_activation("activation", "linear"), r.name());
}
SEQNET_REGISTER_LAYER(Activation);

}  // namespace seqnet::layers
