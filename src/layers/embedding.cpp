#include "seqnet/layers/embedding.hpp"
#include "seqnet/layers/serialization.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace seqnet::layers {

Embedding::Embedding(int64_t input_dim, int64_t output_dim, EmbeddingOptions options)
    : Layer("Embedding", options.name), input_dim_(input_dim), output_dim_(output_dim), options_(std::move(options)) {
  if (input_dim <= 0) {
    fail_value(fmt::format("received an invalid value for argument `input_dim`, expected a positive integer, got {}",
                           input_dim));
  }
  if (output_dim <= 0) {
    fail_value(fmt::format("received an invalid value for argument `output_dim`, expected a positive integer, got {}",
                           output_dim));
  }
  if (options_.input_length < 0) fail_value(fmt::format("argument `input_length` must be >= 0, got {}", options_.input_length));
  options_.embeddings_initializer.validate(describe() + ": argument `embeddings_initializer`");
  options_.embeddings_regularizer.validate(describe() + ": argument `embeddings_regularizer`");
}

std::vector<Shape> Embedding::infer_shapes(const std::vector<Shape>& in) const {
  expect_input_count(in.size(), 1, 1);
  if (in[0].empty()) fail_shape("expected an input of ids with a batch axis, got a scalar");
  if (options_.input_length > 0 && (in[0].size() != 2 || (in[0][1] != None && in[0][1] != options_.input_length))) {
    fail_shape(fmt::format("expected input of shape (batch, {}) (input_length), got {}", options_.input_length,
                           shape_str(in[0])));
  }
  Shape out = in[0];
  out.push_back(output_dim_);
  return {out};
}

void Embedding::build(const std::vector<Shape>&) {
  embeddings_ = &add_param("embeddings", {input_dim_, output_dim_}, options_.embeddings_initializer,
                           options_.embeddings_regularizer);
}

Tensor Embedding::compute_mask(const std::vector<Tensor>& inputs, const std::vector<Tensor>&) const {
  if (!options_.mask_zero) return Tensor();
  const Tensor& ids = inputs.at(0);
  Tensor m = Tensor::uninitialized(ids.shape());
  for (int64_t i = 0; i < ids.size(); ++i) m[i] = ids[i] != 0.0f ? 1.0f : 0.0f;
  return m;
}

std::vector<Tensor> Embedding::forward_impl(const std::vector<Tensor>& in, const CallArgs&, Cache*) {
  const Tensor& ids = in[0];
  Shape out_shape = infer_shapes({ids.shape()})[0];
  Tensor y = Tensor::uninitialized(out_shape);
  const float* table = embeddings_->value.data();
  for (int64_t i = 0; i < ids.size(); ++i) {
    const float v = ids[i];
    if (!(v >= 0.0f && v < static_cast<float>(input_dim_)) || v != std::floor(v)) {
      fail_value(fmt::format("input id {} at flat position {} is not an integer in [0, {}) (input_dim)", v, i,
                             input_dim_));
    }
    std::copy_n(table + static_cast<int64_t>(v) * output_dim_, output_dim_, y.data() + i * output_dim_);
  }
  return {y};
}

std::vector<Tensor> Embedding::backward_impl(const std::vector<Tensor>& dout, Cache& cache) {
  const Tensor& ids = cache.inputs[0];
  Shape out_shape = ids.shape();
  out_shape.push_back(output_dim_);
  if (!has_grad(dout[0], out_shape, 0)) return {Tensor()};
  float* g = embeddings_->grad.data();
  for (int64_t i = 0; i < ids.size(); ++i) {
    float* row = g + static_cast<int64_t>(ids[i]) * output_dim_;
    const float* d = dout[0].data() + i * output_dim_;
    for (int64_t k = 0; k < output_dim_; ++k) row[k] += d[k];
  }
  return {Tensor()};
}

}  // namespace seqnet::layers

// ---------------------------------------------------------------- config

namespace seqnet::layers {

nlohmann::json Embedding::get_config() const {
  nlohmann::json c = base_layer_config(*this);
  c["input_dim"] = input_dim_;
  c["output_dim"] = output_dim_;
  c["embeddings_initializer"] = initializer_to_keras(options_.embeddings_initializer);
  c["embeddings_regularizer"] = regularizer_to_keras(options_.embeddings_regularizer);
  c["activity_regularizer"] = nullptr;
  c["embeddings_constraint"] = nullptr;
  c["mask_zero"] = options_.mask_zero;
  c["input_length"] = options_.input_length > 0 ? nlohmann::json(options_.input_length) : nlohmann::json(nullptr);
  return c;
}

std::shared_ptr<Layer> Embedding::from_config(const ConfigReader& r) {
  r.expect_common();
  r.expect_no_constraints({"embeddings_constraint"});
  r.expect("sparse", false, "seqnet's Embedding returns dense outputs");
  EmbeddingOptions o;
  o.embeddings_initializer = r.get_initializer("embeddings_initializer", o.embeddings_initializer);
  o.embeddings_regularizer = r.get_regularizer("embeddings_regularizer");
  o.mask_zero = r.get_bool("mask_zero", o.mask_zero);
  o.input_length = r.get_int("input_length", o.input_length, 1, kMaxConfigDim);
  o.name = r.name();
  return std::make_shared<Embedding>(r.get_int("input_dim", 1, kMaxConfigDim), r.get_int("output_dim", 1, kMaxConfigDim),
                                     o);
}
SEQNET_REGISTER_LAYER(Embedding);

}  // namespace seqnet::layers
