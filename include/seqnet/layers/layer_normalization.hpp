#pragma once
// LayerNormalization (Ba et al., 2016), Keras semantics: each sample's
// feature vector (the last axis, F values) is normalized to zero mean and
// unit variance, then scaled and shifted per feature:
//   mean = sum_f x_f / F    var = sum_f (x_f - mean)^2 / F   (biased)
//   y_f = gamma_f * (x_f - mean) / sqrt(var + epsilon) + beta_f
// Weights: gamma (F,) then beta (F,), Keras's order and names; parameters:
// 2F with center and scale. Masks pass through (Keras's supports_masking).
// Input (B, ..., F) of any rank >= 2; output the same shape.

#include <string>

#include "seqnet/layers/layer.hpp"

namespace seqnet {

// Keras LayerNormalization keyword arguments, in Keras's order (designated
// initializers must keep it). Example:
//   LayerNormalization({.epsilon = 1e-5f})
struct LayerNormalizationOptions {
  // The normalized axis. Only the last one is supported: -1, or its
  // positive index (given the input rank). Default: -1.
  int axis = -1;
  // Added to the variance. Must be > 0. Default: 1e-3 (Keras's).
  float epsilon = 1e-3f;
  // Add the learned offset beta. Default: true.
  bool center = true;
  // Multiply by the learned scale gamma. Default: true.
  bool scale = true;
  // Default: zeros.
  Initializer beta_initializer = "zeros";
  // Default: ones.
  Initializer gamma_initializer = "ones";
  // Default: none.
  Regularizer beta_regularizer{};
  // Default: none.
  Regularizer gamma_regularizer{};
  // Default: unique "layer_normalization", "layer_normalization_1", ...
  std::string name{};
};

namespace layers {

class LayerNormalization : public Layer {
 public:
  // Reads get_config()'s form back (see seqnet/layers/serialization.hpp).
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
  // Throws ValueError for epsilon <= 0 (or not finite), unknown
  // initializers, invalid regularizers.
  explicit LayerNormalization(LayerNormalizationOptions options = {});
  const LayerNormalizationOptions& options() const { return options_; }
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
  LayerNormalizationOptions options_;
  Param* gamma_ = nullptr;  // (F,) or null without scale
  Param* beta_ = nullptr;   // (F,) or null without center
};

}  // namespace layers
}  // namespace seqnet
