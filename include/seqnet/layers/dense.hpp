#pragma once
// Dense: y = activation(x . kernel + bias), acting on the last axis of a
// rank >= 2 input like Keras (a (B, T, I) input gives (B, T, units)).
// Weights: kernel (I, units), bias (units,).

#include <string>

#include "seqnet/layers/layer.hpp"
#include "seqnet/activations.hpp"

namespace seqnet {

// Example: Dense(10, {.activation = "softmax"})
struct DenseOptions {
  // Keras activation name. Default: "linear" (none).
  std::string activation = "linear";
  // Whether to add a bias. Default: true.
  bool use_bias = true;
  // Default: glorot_uniform.
  Initializer kernel_initializer = "glorot_uniform";
  // Default: zeros.
  Initializer bias_initializer = "zeros";
  // Default: none.
  Regularizer kernel_regularizer{};
  // Default: none.
  Regularizer bias_regularizer{};
  // Layer name. Default: unique "dense", "dense_1", ...
  std::string name{};
};

namespace layers {

class Dense : public Layer {
 public:
  // Reads get_config()'s form back (see seqnet/layers/serialization.hpp).
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
  // Throws ValueError when units <= 0 or an option is invalid.
  explicit Dense(int64_t units, DenseOptions options = {});

  int64_t units() const { return units_; }
  const DenseOptions& options() const { return options_; }
  ops::Act activation() const { return act_; }

  std::unique_ptr<Cache> make_cache() const override;
  // Keras 2 config (see Layer::get_config).
  nlohmann::json get_config() const override;

 protected:
  std::vector<Shape> infer_shapes(const std::vector<Shape>& in) const override;
  void build(const std::vector<Shape>& in) override;
  std::vector<Tensor> forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) override;
  std::vector<Tensor> backward_impl(const std::vector<Tensor>& dout, Cache& cache) override;
  bool mask_passes_through() const override { return true; }

 private:
  int64_t units_;
  DenseOptions options_;
  ops::Act act_;
  Param* kernel_ = nullptr;  // (I, units)
  Param* bias_ = nullptr;    // (units,) or null
};

}  // namespace layers
}  // namespace seqnet
