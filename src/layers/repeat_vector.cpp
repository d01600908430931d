#include "seqnet/layers/repeat_vector.hpp"
#include "seqnet/layers/serialization.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace seqnet::layers {

RepeatVector::RepeatVector(int64_t n, std::string name) : Layer("RepeatVector", std::move(name)), n_(n) {
  if (n <= 0) {
    fail_value(fmt::format("received an invalid value for argument `n`, expected a positive integer, got {}", n));
  }
}

std::vector<Shape> RepeatVector::infer_shapes(const std::vector<Shape>& in) const {
  expect_input_count(in.size(), 1, 1);
  if (in[0].size() != 2) fail_shape(fmt::format("expected input of shape (batch, features), got {}", shape_str(in[0])));
  return {{in[0][0], n_, in[0][1]}};
}

std::vector<Tensor> RepeatVector::forward_impl(const std::vector<Tensor>& in, const CallArgs&, Cache*) {
  const Tensor& x = in[0];
  infer_shapes({x.shape()});
  const int64_t B = x.dim(0), F = x.dim(1);
  Tensor y = Tensor::uninitialized({B, n_, F});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < n_; ++t) std::copy_n(x.data() + b * F, F, y.data() + (b * n_ + t) * F);
  return {y};
}

std::vector<Tensor> RepeatVector::backward_impl(const std::vector<Tensor>& dout, Cache& cache) {
  const Tensor& x = cache.inputs[0];
  const int64_t B = x.dim(0), F = x.dim(1);
  Tensor dx({B, F});
  if (!has_grad(dout[0], {B, n_, F}, 0)) return {dx};
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < n_; ++t) {
      const float* d = dout[0].data() + (b * n_ + t) * F;
      float* o = dx.data() + b * F;
      for (int64_t f = 0; f < F; ++f) o[f] += d[f];
    }
  return {dx};
}

}  // namespace seqnet::layers

// ---------------------------------------------------------------- config

namespace seqnet::layers {

nlohmann::json RepeatVector::get_config() const {
  nlohmann::json c = base_layer_config(*this);
  c["n"] = n_;
  return c;
}

std::shared_ptr<Layer> RepeatVector::from_config(const ConfigReader& r) {
  r.expect_common();
  return std::make_shared<RepeatVector>(r.get_int("n", 1, kMaxConfigDim), r.name());
}
SEQNET_REGISTER_LAYER(RepeatVector);

}  // namespace seqnet::layers
