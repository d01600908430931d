#include "seqnet/layers/reshape.hpp"
#include "seqnet/layers/serialization.hpp"

#include <fmt/format.h>

namespace seqnet::layers {

Flatten::Flatten(std::string name) : Layer("Flatten", std::move(name)) {}

std::vector<Shape> Flatten::infer_shapes(const std::vector<Shape>& in) const {
  expect_input_count(in.size(), 1, 1);
  if (in[0].empty()) fail_shape("expected an input of rank >= 1, got a scalar");
  int64_t n = 1;
  for (size_t i = 1; i < in[0].size(); ++i) {
    if (in[0][i] == None) {
      fail_shape(fmt::format("all dimensions but the batch must be known to flatten, got {}", shape_str(in[0])));
    }
    n *= in[0][i];
  }
  return {{in[0][0], n}};
}

std::vector<Tensor> Flatten::forward_impl(const std::vector<Tensor>& in, const CallArgs&, Cache*) {
  const Shape out = infer_shapes({in[0].shape()})[0];
  return {in[0].clone().reshape(out)};
}

std::vector<Tensor> Flatten::backward_impl(const std::vector<Tensor>& dout, Cache& cache) {
  const Tensor& x = cache.inputs[0];
  const Shape out = infer_shapes({x.shape()})[0];
  if (!has_grad(dout[0], out, 0)) return {Tensor(x.shape())};
  return {dout[0].clone().reshape(x.shape())};
}

Reshape::Reshape(Shape target_shape, std::string name) : Layer("Reshape", std::move(name)), target_(std::move(target_shape)) {
  int unknown = 0;
  for (int64_t d : target_) {
    if (d == None) {
      ++unknown;
    } else if (d <= 0) {
      fail_value(fmt::format("invalid target_shape {}: dimensions must be positive or -1", shape_str(target_)));
    }
  }
  if (unknown > 1) fail_value(fmt::format("invalid target_shape {}: at most one -1", shape_str(target_)));
}

std::vector<Shape> Reshape::infer_shapes(const std::vector<Shape>& in) const {
  expect_input_count(in.size(), 1, 1);
  if (in[0].empty()) fail_shape("expected an input with a batch axis, got a scalar");
  Shape out{in[0][0]};
  int64_t n = 1;
  bool input_known = true;
  for (size_t i = 1; i < in[0].size(); ++i) {
    if (in[0][i] == None) input_known = false;
    else n *= in[0][i];
  }
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < target_.size(); ++i) {
    if (target_[i] == None) infer = static_cast<int>(i);
    else known *= target_[i];
    out.push_back(target_[i]);
  }
  if (input_known) {
    if (infer >= 0) {
      if (n % known != 0) {
        fail_shape(fmt::format("cannot reshape input {} to target_shape {}", shape_str(in[0]), shape_str(target_)));
      }
      out[infer + 1] = n / known;
    } else if (n != known) {
      fail_shape(fmt::format("cannot reshape input {} ({} values per sample) to target_shape {}", shape_str(in[0]), n,
                             shape_str(target_)));
    }
  }
  return {out};
}

std::vector<Tensor> Reshape::forward_impl(const std::vector<Tensor>& in, const CallArgs&, Cache*) {
  return {in[0].clone().reshape(infer_shapes({in[0].shape()})[0])};
}

std::vector<Tensor> Reshape::backward_impl(const std::vector<Tensor>& dout, Cache& cache) {
  const Tensor& x = cache.inputs[0];
  if (!has_grad(dout[0], infer_shapes({x.shape()})[0], 0)) return {Tensor(x.shape())};
  return {dout[0].clone().reshape(x.shape())};
}

}  // namespace seqnet::layers

// ---------------------------------------------------------------- config

namespace seqnet::layers {

nlohmann::json Flatten::get_config() const {
  nlohmann::json c = base_layer_config(*this);
  c["data_format"] = "channels_last";
  return c;
}

std::shared_ptr<Layer> Flatten::from_config(const ConfigReader& r) {
  r.expect_common();
  r.expect("data_format", "channels_last", "channels_first changes the order of the flattened values");
  return std::make_shared<Flatten>(r.name());
}
SEQNET_REGISTER_LAYER(Flatten);

nlohmann::json Reshape::get_config() const {
  nlohmann::json c = base_layer_config(*this);
  c["target_shape"] = target_;
  return c;
}

std::shared_ptr<Layer> Reshape::from_config(const ConfigReader& r) {
  r.expect_common();
  return std::make_shared<Reshape>(r.get_shape("target_shape", true), r.name());
}
SEQNET_REGISTER_LAYER(Reshape);

}  // namespace seqnet::layers
