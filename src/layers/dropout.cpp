#include "seqnet/layers/dropout.hpp"
#include "seqnet/layers/serialization.hpp"

#include <fmt/format.h>

#include "seqnet/random.hpp"

namespace seqnet::layers {

namespace {
struct DropoutCache : Cache {
  Tensor mask;  // same shape as the input; 0 or 1/(1-rate); empty when inactive
};
}  // namespace

Dropout::Dropout(float rate, std::string name) : Layer("Dropout", std::move(name)), rate_(rate) {
  if (!(rate >= 0.0f && rate < 1.0f)) {
    fail_value(fmt::format("received an invalid value for argument `rate`, expected a number in [0, 1), got {}",
                           rate));
  }
}

std::unique_ptr<Cache> Dropout::make_cache() const { return std::make_unique<DropoutCache>(); }

std::vector<Shape> Dropout::infer_shapes(const std::vector<Shape>& in) const {
  expect_input_count(in.size(), 1, 1);
  return {in[0]};
}

std::vector<Tensor> Dropout::forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) {
  const Tensor& x = in[0];
  DropoutCache* c = static_cast<DropoutCache*>(cache);
  if (!args.training || rate_ == 0.0f) {
    if (c != nullptr) c->mask = Tensor();
    return {x.clone()};
  }
  Tensor mask = Tensor::uninitialized(x.shape());
  Generator& g = global_generator();
  const float scale = 1.0f / (1.0f - rate_);
  for (float& m : mask) m = g.uniform() >= rate_ ? scale : 0.0f;
  Tensor y = Tensor::uninitialized(x.shape());
  for (int64_t i = 0; i < x.size(); ++i) y[i] = x[i] * mask[i];
  if (c != nullptr) c->mask = mask;
  return {y};
}

std::vector<Tensor> Dropout::backward_impl(const std::vector<Tensor>& dout, Cache& cache) {
  auto& c = static_cast<DropoutCache&>(cache);
  const Tensor& x = c.inputs[0];
  if (!has_grad(dout[0], x.shape(), 0)) return {Tensor(x.shape())};
  Tensor dx = dout[0].clone();
  if (!c.mask.empty()) {
    for (int64_t i = 0; i < dx.size(); ++i) dx[i] *= c.mask[i];
  }
  return {dx};
}

}  // namespace seqnet::layers

// ---------------------------------------------------------------- config

namespace seqnet::layers {

nlohmann::json Dropout::get_config() const {
  nlohmann::json c = base_layer_config(*this);
  c["rate"] = json_float(rate_);
  c["noise_shape"] = nullptr;
  c["seed"] = nullptr;
  return c;
}

std::shared_ptr<Layer> Dropout::from_config(const ConfigReader& r) {
  r.expect_common();
  r.expect_null("noise_shape", "seqnet's Dropout draws one mask element per input element");
  return std::make_shared<Dropout>(r.get_float("rate", 0.0f, 0.0, 1.0), r.name());
}
SEQNET_REGISTER_LAYER(Dropout);

}  // namespace seqnet::layers
