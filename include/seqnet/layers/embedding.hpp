#pragma once
// Embedding: maps integer ids to dense vectors. Input (B, T) (or any rank)
// of ids stored as floats, output (B, T, output_dim).
// Weights: embeddings (input_dim, output_dim).
// With mask_zero, id 0 is padding: the output mask is (ids != 0), so the
// vocabulary needs input_dim = largest id + 1 as in Keras.
// Ids must be whole numbers in [0, input_dim); others raise ValueError.
// The ids get no gradient (backward returns an empty Tensor for them).

#include <string>

#include "seqnet/layers/layer.hpp"

namespace seqnet {

// Example: Embedding(10000, 32, {.mask_zero = true})
struct EmbeddingOptions {
  // Default: uniform in [-0.05, 0.05] (Keras "uniform").
  Initializer embeddings_initializer = "uniform";
  // Default: none.
  Regularizer embeddings_regularizer{};
  // Whether id 0 is padding and produces a mask. Default: false.
  bool mask_zero = false;
  // Expected sequence length (checked when set). Default: 0 (any).
  int64_t input_length = 0;
  // Default: unique "embedding", "embedding_1", ...
  std::string name{};
};

namespace layers {

class Embedding : public Layer {
 public:
  // Reads get_config()'s form back (see seqnet/layers/serialization.hpp).
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
  // Throws ValueError when input_dim or output_dim <= 0.
  Embedding(int64_t input_dim, int64_t output_dim, EmbeddingOptions options = {});
  int64_t input_dim() const { return input_dim_; }
  int64_t output_dim() const { return output_dim_; }
  const EmbeddingOptions& options() const { return options_; }
  Tensor compute_mask(const std::vector<Tensor>& inputs, const std::vector<Tensor>& masks) const override;
  // Keras 2 config (see Layer::get_config).
  nlohmann::json get_config() const override;

 protected:
  std::vector<Shape> infer_shapes(const std::vector<Shape>& in) const override;
  void build(const std::vector<Shape>& in) override;
  std::vector<Tensor> forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) override;
  std::vector<Tensor> backward_impl(const std::vector<Tensor>& dout, Cache& cache) override;

 private:
  int64_t input_dim_, output_dim_;
  EmbeddingOptions options_;
  Param* embeddings_ = nullptr;
};

}  // namespace layers
}  // namespace seqnet
