#pragma once
// Attention and AdditiveAttention: Keras's dot-product (Luong-style) and
// additive (Bahdanau-style) attention layers, for writing the direct
// encoder-decoder pattern functionally:
//
//   auto enc = LSTM(64, {.return_sequences = true, .return_state = true})(source);
//   auto dec = LSTM(64, {.return_sequences = true})(target_in, {.initial_state = {enc[1], enc[2]}});
//   auto context = Attention()({dec, enc[0]});              // (B, Tq, 64)
//   auto merged = Concatenate()({context, dec});
//
// Inputs: [query (B, Tq, D), value (B, Tv, Dv)] or [query, value, key
// (B, Tv, D)]; without a key, the value is the key. Output: (B, Tq, Dv), and
// with return_attention_scores also the attention weights (B, Tq, Tv).
//
// Letters: i a query step, j a value step, d a feature.
//   Attention, score_mode "dot":      s_ij = scale * (q_i . k_j)
//   Attention, score_mode "concat":   s_ij = w * sum_d tanh(scale * (q_id + k_jd))
//   AdditiveAttention:                s_ij = sum_d scale_d * tanh(q_id + k_jd)
//   then a_ij = softmax_j(s_ij) over the allowed j, out_i = sum_j a_ij v_j.
// `scale` exists only with use_scale (a scalar initialized to 1 for
// Attention; a (D,) vector, glorot_uniform, for AdditiveAttention; without it
// the factor is 1); `w` (concat_score_weight) exists only with concat.
//
// Masks (from Masking / Embedding(mask_zero) upstream, or CallArgs::masks
// when called directly): value steps whose mask is 0 get zero attention
// weight; with use_causal_mask, query step i attends only to j <= i. A query
// row with no allowed value step gets all-zero weights and a zero output
// (Keras spreads it uniformly instead). The query's mask zeroes the output
// at masked query steps and is the output's mask.
// Dropout (training only) drops attention weights, scaled by 1 / (1 - rate);
// the returned scores are the weights after dropout, as in Keras.
// Weights (Keras names): Attention: scale () with use_scale, then
// concat_score_weight () with concat; AdditiveAttention: scale (D,) with
// use_scale.

#include <string>

#include "seqnet/layers/layer.hpp"

namespace seqnet {

// Example: Attention({.use_scale = true, .return_attention_scores = true})
struct AttentionOptions {
  // Learn a scalar factor of the scores. Default: false.
  bool use_scale = false;
  // "dot" or "concat". Default: "dot".
  std::string score_mode = "dot";
  // Fraction of the attention weights dropped in training, in [0, 1). Default: 0.
  float dropout = 0.0f;
  // Also return the attention weights (B, Tq, Tv) as a second output (a call
  // argument in Keras). Default: false.
  bool return_attention_scores = false;
  // Let query step i attend only to value steps j <= i (a call argument in
  // Keras). Default: false.
  bool use_causal_mask = false;
  // Default: unique "attention", "attention_1", ...
  std::string name{};
};

// Example: AdditiveAttention({.return_attention_scores = true})
struct AdditiveAttentionOptions {
  // Learn a per-feature scale of the tanh terms. Default: true (Keras).
  bool use_scale = true;
  // Fraction of the attention weights dropped in training, in [0, 1). Default: 0.
  float dropout = 0.0f;
  // Also return the attention weights (B, Tq, Tv). Default: false.
  bool return_attention_scores = false;
  // Query step i attends only to j <= i. Default: false.
  bool use_causal_mask = false;
  // Default: unique "additive_attention", "additive_attention_1", ...
  std::string name{};
};

namespace layers {

struct DenseAttentionCache;  // the per-call buffers (detail/attention_cache.hpp)

// What Attention and AdditiveAttention share (Keras's BaseDenseAttention):
// input checks, masks, softmax, dropout, the weighted sum and its backward.
// Subclasses provide the scores and their backward.
class BaseDenseAttention : public Layer {
 public:
  int num_outputs() const override { return return_attention_scores_ ? 2 : 1; }
  std::unique_ptr<Cache> make_cache() const override;
  // The query's mask (input 0).
  Tensor compute_mask(const std::vector<Tensor>& inputs, const std::vector<Tensor>& masks) const override;
  float dropout() const { return dropout_; }
  // Scores and weights (B, Tq, Tv); in training their gradients too.
  double working_bytes(const std::vector<Shape>& input_shapes, bool training) const override;
  bool return_attention_scores() const { return return_attention_scores_; }
  bool use_causal_mask() const { return use_causal_mask_; }

 protected:
  BaseDenseAttention(std::string class_name, std::string name, float dropout, bool return_attention_scores,
                     bool use_causal_mask);
  std::vector<Shape> infer_shapes(const std::vector<Shape>& in) const override;
  std::vector<Tensor> forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) override;
  std::vector<Tensor> backward_impl(const std::vector<Tensor>& dout, Cache& cache) override;

  // Raw scores S (B, Tq, Tv) from q (B, Tq, D) and k (B, Tv, D); may keep
  // what score_backward needs in the cache.
  virtual void scores(const Tensor& q, const Tensor& k, DenseAttentionCache& c) const = 0;
  // From dS (B, Tq, Tv): adds into dq, dk and the weights' gradients.
  virtual void score_backward(const Tensor& q, const Tensor& k, DenseAttentionCache& c, Tensor& dq,
                              Tensor& dk) = 0;

  nlohmann::json base_config() const;

 private:
  float dropout_;
  bool return_attention_scores_;
  bool use_causal_mask_;
  std::unique_ptr<Cache> inference_cache_;
};

class Attention : public BaseDenseAttention {
 public:
  // Reads get_config()'s form back (see seqnet/layers/serialization.hpp).
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
  // Throws ValueError for an unknown score_mode or dropout outside [0, 1).
  explicit Attention(AttentionOptions options = {});
  const AttentionOptions& options() const { return options_; }
  nlohmann::json get_config() const override;

 protected:
  void build(const std::vector<Shape>& in) override;
  void scores(const Tensor& q, const Tensor& k, DenseAttentionCache& c) const override;
  void score_backward(const Tensor& q, const Tensor& k, DenseAttentionCache& c, Tensor& dq, Tensor& dk) override;

 private:
  AttentionOptions options_;
  bool concat_ = false;
  Param* scale_ = nullptr;         // () with use_scale
  Param* concat_weight_ = nullptr;  // () with concat
};

class AdditiveAttention : public BaseDenseAttention {
 public:
  // Reads get_config()'s form back (see seqnet/layers/serialization.hpp).
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
  // Throws ValueError for dropout outside [0, 1).
  explicit AdditiveAttention(AdditiveAttentionOptions options = {});
  const AdditiveAttentionOptions& options() const { return options_; }
  nlohmann::json get_config() const override;

 protected:
  void build(const std::vector<Shape>& in) override;
  void scores(const Tensor& q, const Tensor& k, DenseAttentionCache& c) const override;
  void score_backward(const Tensor& q, const Tensor& k, DenseAttentionCache& c, Tensor& dq, Tensor& dk) override;

 private:
  AdditiveAttentionOptions options_;
  Param* scale_ = nullptr;  // (D,) with use_scale
};

}  // namespace layers
}  // namespace seqnet
