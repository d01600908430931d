#pragma once
// AttentionDecoder(units, output_dim): the Bahdanau-attention decoder that
// seed 02 uses as a custom Keras layer (keras-attention's AttentionDecoder).
// It reads an encoded sequence x (B, T, I) and emits one output per input
// step, (B, T, output_dim), attending over the whole of x at every step.
//
// With units U and output_dim O, at step t (s = s_{t-1}, y = y_{t-1}):
//   e_j   = V_a . tanh(s W_a + x_j U_a + b_a)          alignment model
//   a     = softmax_j(e)                               attention weights (B, T)
//   c     = sum_j a_j x_j                              context (B, I)
//   r     = sigmoid(y W_r + s U_r + c C_r + b_r)       reset gate
//   z     = sigmoid(y W_z + s U_z + c C_z + b_z)       update gate
//   p     = act(y W_p + (r * s) U_p + c C_p + b_p)     proposal (act = tanh)
//   s_t   = (1 - z) * s + z * p
//   y_t   = softmax(y W_o + s U_o + c C_o + b_o)       output (uses s_{t-1})
// Initial state: s_0 = tanh(x_0 W_s), y_0 = 0.
// Outputs y_1..y_T, or the attention weights a (B, T, T) with
// return_probabilities. A (B, T) mask excludes padded encoder steps from the
// attention and passes on to the output.
// Weights (Keras names and order): V_a (U), W_a (U, U), U_a (I, U), b_a (U),
// C_r (I, U), U_r (U, U), W_r (O, U), b_r (U), the same for z and p,
// C_o (I, O), U_o (U, O), W_o (O, O), b_o (O), W_s (I, U).

#include <string>

#include "seqnet/layers/layer.hpp"
#include "seqnet/activations.hpp"

namespace seqnet {

struct AttentionDecoderOptions {
  // Activation of the proposal state. Default: "tanh" (as the original).
  std::string activation = "tanh";
  // Return the attention weights instead of the outputs. Default: false.
  bool return_probabilities = false;
  // For V_a, W_a, U_a. Default: glorot_uniform.
  Initializer kernel_initializer = "glorot_uniform";
  // For C_*, U_*, W_* and W_s. Default: orthogonal.
  Initializer recurrent_initializer = "orthogonal";
  // For b_*. Default: zeros.
  Initializer bias_initializer = "zeros";
  // Default: none.
  Regularizer kernel_regularizer{};
  // Default: none.
  Regularizer bias_regularizer{};
  // Default: unique "attention_decoder", "attention_decoder_1", ...
  std::string name{};
};

namespace layers {

class AttentionDecoder : public Layer {
 public:
  // Reads get_config()'s form back (see seqnet/layers/serialization.hpp).
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
  // Throws ValueError for units or output_dim <= 0, or bad options.
  AttentionDecoder(int64_t units, int64_t output_dim, AttentionDecoderOptions options = {});
  int64_t units() const { return units_; }
  int64_t output_dim() const { return output_dim_; }
  const AttentionDecoderOptions& options() const { return options_; }
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
  int64_t units_, output_dim_;
  AttentionDecoderOptions options_;
  ops::Act act_;
  // Weights, in Keras order.
  Param *V_a_ = nullptr, *W_a_ = nullptr, *U_a_ = nullptr, *b_a_ = nullptr;
  Param *C_r_ = nullptr, *U_r_ = nullptr, *W_r_ = nullptr, *b_r_ = nullptr;
  Param *C_z_ = nullptr, *U_z_ = nullptr, *W_z_ = nullptr, *b_z_ = nullptr;
  Param *C_p_ = nullptr, *U_p_ = nullptr, *W_p_ = nullptr, *b_p_ = nullptr;
  Param *C_o_ = nullptr, *U_o_ = nullptr, *W_o_ = nullptr, *b_o_ = nullptr;
  Param* W_s_ = nullptr;
  std::unique_ptr<Cache> inference_cache_;
};

}  // namespace layers
}  // namespace seqnet
