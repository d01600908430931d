#pragma once
// LuongAttention(units, {.score = ...}): Luong et al.'s global attention
// ("Effective Approaches to Attention-based Neural Machine Translation",
// 2015; seed 02's "Global Attention") over whole sequences at once, for the
// direct encoder-decoder pattern: the decoder's states h_t attend over the
// encoder's states h_s.
//
//   auto enc = LSTM(64, {.return_sequences = true, .return_state = true})(source);
//   auto dec = LSTM(64, {.return_sequences = true})(target_in, {.initial_state = {enc[1], enc[2]}});
//   auto att = LuongAttention(64, {.score = "general"})({dec, enc[0]});  // [h~, c, a]
//   auto out = TimeDistributed(Dense(n, {.activation = "softmax"}))(att[0]);
//
// Inputs: [h_t (B, Tq, Dq) decoder states, h_s (B, Ts, Ds) encoder states].
// Outputs: [attentional states h~ (B, Tq, units), context vectors c
// (B, Tq, Ds), alignment weights a (B, Tq, Ts)].
//
// Per decoder step t and encoder step s (U = units):
//   score dot:      e_ts = h_t . h_s                          (needs Dq == Ds)
//   score general:  e_ts = h_t W_a . h_s                      W_a (Dq, Ds)
//   score concat:   e_ts = V_a . tanh([h_t; h_s] W_a)         W_a (Dq + Ds, U), V_a (U)
//   score location: e_t  = h_t W_a  (one score per position)  W_a (Dq, Ts), fixed Ts
//   a_t  = softmax_s(e_ts) over unmasked s
//   c_t  = sum_s a_ts h_s
//   h~_t = tanh([c_t; h_t] W_c)                               W_c (Ds + Dq, U)
// No biases, as in the paper. Masks: encoder steps whose mask (the mask of
// input 1) is 0 get zero weight; a decoder step with no unmasked encoder
// step gets zero weights and a zero context. The decoder's mask (input 0)
// zeroes h~ and c at masked decoder steps and is the mask of the outputs.
// Weights (names and order): W_a (general, concat, location), V_a (concat),
// W_c.

#include <string>

#include "seqnet/layers/layer.hpp"

namespace seqnet {

// Example: LuongAttention(64, {.score = "concat"})
struct LuongAttentionOptions {
  // "dot", "general", "concat" or "location". Default: "general".
  std::string score = "general";
  // For W_a, V_a and W_c. Default: glorot_uniform.
  Initializer kernel_initializer = "glorot_uniform";
  // Default: none.
  Regularizer kernel_regularizer{};
  // Default: unique "luong_attention", "luong_attention_1", ...
  std::string name{};
};

namespace layers {

class LuongAttention : public Layer {
 public:
  // Reads get_config()'s form back (see seqnet/layers/serialization.hpp).
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
  enum class Score { Dot, General, Concat, Location };
  // Throws ValueError for units <= 0, an unknown score or bad options.
  LuongAttention(int64_t units, LuongAttentionOptions options = {});
  int64_t units() const { return units_; }
  Score score() const { return score_; }
  const LuongAttentionOptions& options() const { return options_; }
  int num_outputs() const override { return 3; }
  std::unique_ptr<Cache> make_cache() const override;
  // The decoder states' mask (input 0).
  Tensor compute_mask(const std::vector<Tensor>& inputs, const std::vector<Tensor>& masks) const override;
  nlohmann::json get_config() const override;

 protected:
  std::vector<Shape> infer_shapes(const std::vector<Shape>& in) const override;
  void build(const std::vector<Shape>& in) override;
  std::vector<Tensor> forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) override;
  std::vector<Tensor> backward_impl(const std::vector<Tensor>& dout, Cache& cache) override;

 private:
  int64_t units_;
  LuongAttentionOptions options_;
  Score score_;
  Param* W_a_ = nullptr;  // general (Dq, Ds), concat (Dq + Ds, U), location (Dq, Ts)
  Param* V_a_ = nullptr;  // concat (U)
  Param* W_c_ = nullptr;  // (Ds + Dq, U)
  int64_t built_dq_ = 0, built_ds_ = 0, built_ts_ = 0;
  std::unique_ptr<Cache> inference_cache_;
};

}  // namespace layers
}  // namespace seqnet
