#include "seqnet/layers/dense.hpp"
#include "seqnet/detail/ops/activations.hpp"
#include "seqnet/layers/serialization.hpp"

#include <fmt/format.h>

#include "seqnet/detail/ops/elementwise.hpp"
#include "seqnet/detail/ops/gemm.hpp"

namespace seqnet::layers {

namespace {

struct DenseCache : Cache {
  Tensor y;  // activated output, same shape as the output
};

}  // namespace

Dense::Dense(int64_t units, DenseOptions options)
    : Layer("Dense", options.name), units_(units), options_(std::move(options)) {
  if (units_ <= 0) {
    fail_value(fmt::format("received an invalid value for argument `units`, expected a positive integer, got {}",
                           units_));
  }
  act_ = ops::parse_activation(options_.activation, describe() + ": argument `activation`");
  options_.kernel_initializer.validate(describe() + ": argument `kernel_initializer`");
  options_.bias_initializer.validate(describe() + ": argument `bias_initializer`");
  options_.kernel_regularizer.validate(describe() + ": argument `kernel_regularizer`");
  options_.bias_regularizer.validate(describe() + ": argument `bias_regularizer`");
}

std::unique_ptr<Cache> Dense::make_cache() const { return std::make_unique<DenseCache>(); }

std::vector<Shape> Dense::infer_shapes(const std::vector<Shape>& in) const {
  expect_input_count(in.size(), 1, 1);
  const Shape& s = in[0];
  if (s.size() < 2) fail_shape(fmt::format("expected input of rank >= 2 (batch, ..., features), got {}", shape_str(s)));
  const int64_t features = s.back();
  if (features == None) fail_shape(fmt::format("the last input dimension must be known, got {}", shape_str(s)));
  if (kernel_ != nullptr && features != kernel_->value.dim(0)) {
    fail_shape(fmt::format("expected input with {} features on the last axis, got {}", kernel_->value.dim(0),
                           shape_str(s)));
  }
  Shape out = s;
  out.back() = units_;
  return {out};
}

void Dense::build(const std::vector<Shape>& in) {
  const int64_t I = in[0].back();
  kernel_ = &add_param("kernel", {I, units_}, options_.kernel_initializer, options_.kernel_regularizer);
  if (options_.use_bias) bias_ = &add_param("bias", {units_}, options_.bias_initializer, options_.bias_regularizer);
}

std::vector<Tensor> Dense::forward_impl(const std::vector<Tensor>& in, const CallArgs&, Cache* cache) {
  const Tensor& x = in[0];
  Shape out_shape = infer_shapes({x.shape()})[0];
  Tensor y = Tensor::uninitialized(out_shape);
  const MatView X = x.matrix();  // (N, I)
  const MatView Y = y.matrix();  // (N, units)
  ops::gemm(false, false, 1.0f, X, kernel_->value.matrix(), 0.0f, Y);
  if (bias_ != nullptr) ops::add_row_vector(Y.data, Y.rows, Y.cols, Y.ld, bias_->value.data());
  ops::activate(act_, y, y);
  if (cache != nullptr) static_cast<DenseCache&>(*cache).y = y;
  return {y};
}

std::vector<Tensor> Dense::backward_impl(const std::vector<Tensor>& dout, Cache& cache) {
  auto& c = static_cast<DenseCache&>(cache);
  const Tensor& x = c.inputs[0];
  Tensor dx(x.shape());
  if (!has_grad(dout[0], c.y.shape(), 0)) return {dx};
  Tensor dz = Tensor::uninitialized(c.y.shape());  // (N, units) pre-activation gradient
  ops::activate_backward(act_, c.y, dout[0], dz);
  const MatView DZ = dz.matrix();
  ops::gemm(true, false, 1.0f, x.matrix(), DZ, 1.0f, kernel_->grad.matrix());      // dkernel += X^T dZ
  if (bias_ != nullptr) ops::add_column_sums(DZ.data, DZ.rows, DZ.cols, DZ.ld, bias_->grad.data());
  ops::gemm(false, true, 1.0f, DZ, kernel_->value.matrix(), 0.0f, dx.matrix());     // dX = dZ kernel^T
  return {dx};
}

}  // namespace seqnet::layers

// ---------------------------------------------------------------- config

namespace seqnet::layers {

nlohmann::json Dense::get_config() const {
  nlohmann::json c = base_layer_config(*this);
  c["units"] = units_;
  c["activation"] = ops::activation_name(act_);
  c["use_bias"] = options_.use_bias;
  c["kernel_initializer"] = initializer_to_keras(options_.kernel_initializer);
  c["bias_initializer"] = initializer_to_keras(options_.bias_initializer);
  c["kernel_regularizer"] = regularizer_to_keras(options_.kernel_regularizer);
  c["bias_regularizer"] = regularizer_to_keras(options_.bias_regularizer);
  c["activity_regularizer"] = nullptr;
  c["kernel_constraint"] = nullptr;
  c["bias_constraint"] = nullptr;
  return c;
}

std::shared_ptr<Layer> Dense::from_config(const ConfigReader& r) {
  r.expect_common();
  r.expect_no_constraints({"kernel_constraint", "bias_constraint"});
  DenseOptions o;
  o.activation = r.get_activation("activation", o.activation);
  o.use_bias = r.get_bool("use_bias", o.use_bias);
  o.kernel_initializer = r.get_initializer("kernel_initializer", o.kernel_initializer);
  o.bias_initializer = r.get_initializer("bias_initializer", o.bias_initializer);
  o.kernel_regularizer = r.get_regularizer("kernel_regularizer");
  o.bias_regularizer = r.get_regularizer("bias_regularizer");
  o.name = r.name();
  return std::make_shared<Dense>(r.get_int("units", 1, kMaxConfigDim), o);
}
SEQNET_REGISTER_LAYER(Dense);

}  // namespace seqnet::layers
