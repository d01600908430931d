#include "seqnet/layers/time_distributed.hpp"
#include "seqnet/layers/serialization.hpp"

#include <fmt/format.h>

namespace seqnet::layers {

namespace {

struct TimeDistributedCache : Cache {
  std::unique_ptr<Cache> inner;
  Shape out_shape;
};

// (B, T, rest...) -> (B*T or None, rest...)
Shape merge_batch_time(const Shape& s) {
  Shape m{(s[0] == None || s[1] == None) ? None : s[0] * s[1]};
  m.insert(m.end(), s.begin() + 2, s.end());
  return m;
}

}  // namespace

TimeDistributed::TimeDistributed(std::shared_ptr<Layer> layer, std::string name)
    : Layer("TimeDistributed", std::move(name)), inner_(std::move(layer)) {
  if (!inner_) fail_value("argument `layer` is null");
  if (inner_->num_outputs() != 1) {
    fail_value(fmt::format("the wrapped layer {} must have a single output, it has {}", inner_->describe(),
                           inner_->num_outputs()));
  }
}

std::unique_ptr<Cache> TimeDistributed::make_cache() const {
  auto c = std::make_unique<TimeDistributedCache>();
  c->inner = inner_->make_cache();
  return c;
}

void TimeDistributed::visit_params(const std::function<void(const std::string&, Param&)>& fn) {
  inner_->visit_params(fn);
}

void TimeDistributed::visit_sublayers(const std::function<void(const std::string&, Layer&)>& fn) {
  fn("", *inner_);
}

double TimeDistributed::working_bytes(const std::vector<Shape>& in, bool training) const {
  if (in.empty() || in[0].size() < 3) return 0.0;
  Shape inner(in[0].begin() + 1, in[0].end());
  inner[0] = in[0][0] * in[0][1];
  return inner_->working_bytes({inner}, training) + 4.0 * shape_elements(in[0]);
}

std::vector<Shape> TimeDistributed::infer_shapes(const std::vector<Shape>& in) const {
  expect_input_count(in.size(), 1, 1);
  const Shape& s = in[0];
  if (s.size() < 3) {
    fail_shape(fmt::format("expected input of rank >= 3 (batch, time, ...), got {}", shape_str(s)));
  }
  const std::vector<Shape> inner_out = inner_->compute_output_shapes({merge_batch_time(s)});
  Shape out{s[0], s[1]};
  out.insert(out.end(), inner_out[0].begin() + 1, inner_out[0].end());
  return {out};
}

std::vector<Tensor> TimeDistributed::forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) {
  const Tensor& x = in[0];
  const Shape out_shape = infer_shapes({x.shape()})[0];
  auto* c = static_cast<TimeDistributedCache*>(cache);
  CallArgs inner_args;
  inner_args.training = args.training;
  const Tensor flat = x.reshape(merge_batch_time(x.shape()));
  Tensor y = inner_->forward({flat}, inner_args, c ? c->inner.get() : nullptr).at(0);
  if (c != nullptr) c->out_shape = out_shape;
  return {y.reshape(out_shape)};
}

std::vector<Tensor> TimeDistributed::backward_impl(const std::vector<Tensor>& dout, Cache& cache) {
  auto& c = static_cast<TimeDistributedCache&>(cache);
  const Tensor& x = c.inputs[0];
  if (!has_grad(dout[0], c.out_shape, 0)) return {Tensor(x.shape())};
  Shape flat_out{x.dim(0) * x.dim(1)};
  flat_out.insert(flat_out.end(), c.out_shape.begin() + 2, c.out_shape.end());
  Tensor dx = inner_->backward({dout[0].reshape(flat_out)}, *c.inner).at(0);
  if (dx.empty()) return {Tensor()};
  return {dx.reshape(x.shape())};
}

}  // namespace seqnet::layers

// ---------------------------------------------------------------- config

namespace seqnet::layers {

nlohmann::json TimeDistributed::get_config() const {
  nlohmann::json c = base_layer_config(*this);
  c["layer"] = layer_to_keras(*inner_);
  return c;
}

std::shared_ptr<Layer> TimeDistributed::from_config(const ConfigReader& r) {
  r.expect_common();
  return std::make_shared<TimeDistributed>(r.get_layer("layer"), r.name());
}
SEQNET_REGISTER_LAYER(TimeDistributed);

}  // namespace seqnet::layers
