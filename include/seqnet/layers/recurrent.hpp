#pragma once
// Recurrent: the generic recurrent layer that LSTM, GRU and SimpleRNN derive
// from; it knows none of them. It owns the time loop and everything the three share (Keras's RNN
// layer): input validation, initial states, stateful state keeping, masks,
// go_backwards, dropout and recurrent dropout masks, return_sequences and
// return_state. A subclass provides the cell: its weight layout and the
// per-step work (the recurrent GEMM and its fused gate kernel), its own
// config keys (add_cell_config, from_config), and its cache buffers
// (prepare). States: the first is h (in RecurrentCache::Hs), a second one
// is the cell state (Cs); num_states() says how many.
//
// Inputs:  [x (B, T, I), optional initial states (B, H) each]
// Outputs: [output] or, with return_state, [output, states...] where output
//          is (B, T, H) with return_sequences and (B, H) otherwise. With
//          go_backwards the sequence output is in processing order (reversed),
//          as in Keras.
//
// Masks: a masked step (mask 0) leaves the states unchanged and its output
// repeats the previous output (or is zero with zero_output_for_mask, which
// Bidirectional sets when it returns sequences, as Keras does). As in Keras,
// the previous output before a sequence's first real step is zero, not the
// initial state (seen with go_backwards over post-padded sequences).
// Dropout: one input mask (B, I) and one recurrent mask (B, H) per call,
// fixed over all time steps (Gal & Ghahramani; seed 04), drawn from the
// global generator in training only.
//
// How it is fast: all input projections are one GEMM (T*B, I) x (I, G*H);
// the loop then runs only the recurrent product h . U on packed weights and
// one fused gate kernel per step, both split over the threads by blocks of
// units; backward forms weight and input gradients with GEMMs over all
// steps. Buffers are time-major (T, B, .) and live in the call's cache,
// reused across calls; nothing is allocated inside the time loop.

#include <memory>
#include <string>

#include "seqnet/layers/layer.hpp"
#include "seqnet/activations.hpp"

namespace seqnet {

// The options every recurrent layer shares, in normalized form. The public
// option structs (LSTMOptions, GRUOptions, SimpleRNNOptions) convert to it;
// what only one cell has (LSTM's unit_forget_bias, GRU's reset_after) stays
// in that cell's options.
struct RecurrentConfig {
  int64_t units = 0;
  std::string activation = "tanh";
  // The gates' activation (gated cells; SimpleRNN has none).
  std::string recurrent_activation = "sigmoid";
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer recurrent_initializer = "orthogonal";
  Initializer bias_initializer = "zeros";
  Regularizer kernel_regularizer{};
  Regularizer recurrent_regularizer{};
  Regularizer bias_regularizer{};
  float dropout = 0.0f;
  float recurrent_dropout = 0.0f;
  bool return_sequences = false;
  bool return_state = false;
  bool go_backwards = false;
  bool stateful = false;
  bool zero_output_for_mask = false;
};

// The recurrent argument family, written once: calls f(keras_key, a.field,
// b.field) for every option all recurrent layers share (units and the
// cell's own options excepted), in Keras's order. `a` and `b` are option
// structs or RecurrentConfigs (any types with these fields). Copying,
// reading and writing configs are all this one list.
template <class A, class B, class F>
void visit_recurrent_options(A& a, B& b, F&& f) {
  f("activation", a.activation, b.activation);
  f("use_bias", a.use_bias, b.use_bias);
  f("kernel_initializer", a.kernel_initializer, b.kernel_initializer);
  f("recurrent_initializer", a.recurrent_initializer, b.recurrent_initializer);
  f("bias_initializer", a.bias_initializer, b.bias_initializer);
  f("kernel_regularizer", a.kernel_regularizer, b.kernel_regularizer);
  f("recurrent_regularizer", a.recurrent_regularizer, b.recurrent_regularizer);
  f("bias_regularizer", a.bias_regularizer, b.bias_regularizer);
  f("dropout", a.dropout, b.dropout);
  f("recurrent_dropout", a.recurrent_dropout, b.recurrent_dropout);
  f("return_sequences", a.return_sequences, b.return_sequences);
  f("return_state", a.return_state, b.return_state);
  f("go_backwards", a.go_backwards, b.go_backwards);
  f("stateful", a.stateful, b.stateful);
  f("zero_output_for_mask", a.zero_output_for_mask, b.zero_output_for_mask);
}

// Copies the options every recurrent option struct has into a config.
template <class Options>
RecurrentConfig common_recurrent_config(int64_t units, const Options& o) {
  RecurrentConfig c;
  c.units = units;
  visit_recurrent_options(o, c, [](const char*, const auto& from, auto& to) { to = from; });
  return c;
}

namespace layers {

struct RecurrentCache;  // the per-call buffers (detail/recurrent_cache.hpp)
}  // namespace layers
namespace ops {
struct PanelMatrix;  // detail/ops/step_product.hpp
}  // namespace ops
namespace layers {

class Recurrent : public Layer {
 public:
  int64_t units() const { return config_.units; }
  const RecurrentConfig& config() const { return config_; }
  ops::Act activation() const { return act_; }
  ops::Act recurrent_activation() const { return rec_act_; }
  // Number of state tensors: 2 for LSTM (h, c), 1 for GRU and SimpleRNN.
  int num_states() const override = 0;
  // Number of gates G: the kernel is (I, G*H).
  virtual int gates() const = 0;
  int num_outputs() const override { return 1 + (config_.return_state ? num_states() : 0); }

  // Forgets the kept states of a stateful layer: the next call starts from
  // zeros (any batch size).
  void reset_states() override;
  bool is_stateful() const override { return config_.stateful; }
  // Sets the kept states of a stateful layer. Throws ValueError when the
  // layer is not stateful or the number of states is wrong, ShapeError when
  // a state is not (B, units).
  void reset_states(const std::vector<Tensor>& states) override;
  // The kept states of a stateful layer (empty before its first call).
  const std::vector<Tensor>& states() const override { return states_; }

  // A new, unbuilt layer of the same class and configuration with fresh
  // weights, the given name, and go_backwards / zero_output_for_mask as
  // given (Bidirectional builds its two directions this way).
  virtual std::shared_ptr<Recurrent> clone_with(std::string name, bool go_backwards,
                                                bool zero_output_for_mask) const = 0;

  std::unique_ptr<Cache> make_cache() const override;
  Tensor compute_mask(const std::vector<Tensor>& inputs, const std::vector<Tensor>& masks) const override;
  // Keras 2 config (see Layer::get_config): the shared keys, then the
  // cell's own (add_cell_config).
  nlohmann::json get_config() const override;

  // Weights (valid once built).
  Param& kernel() { return *kernel_; }
  Param& recurrent_kernel() { return *recurrent_kernel_; }
  // The time-major copies of the inputs, the gate pre-activations and the
  // states of every step; in training also their gradients.
  double working_bytes(const std::vector<Shape>& input_shapes, bool training) const override;
  Param* bias() { return bias_; }

 protected:
  Recurrent(std::string class_name, RecurrentConfig config, const std::string& name);

  std::vector<Shape> infer_shapes(const std::vector<Shape>& in) const override;
  void build(const std::vector<Shape>& in) override;
  std::vector<Tensor> forward_impl(const std::vector<Tensor>& in, const CallArgs& args, Cache* cache) override;
  std::vector<Tensor> backward_impl(const std::vector<Tensor>& dout, Cache& cache) override;

  // Cell hooks. add_cell_config: writes the config keys only this cell has.
  virtual void add_cell_config(nlohmann::json& config) const = 0;
  // The keys every gated cell writes: recurrent_activation and Keras's
  // implementation (2).
  void add_gate_config(nlohmann::json& config) const;
  // bias_shape: the bias weight's shape. input_bias: the part of
  // the bias added to the input projections (G*H floats) or null.
  virtual Shape bias_shape() const;
  virtual const float* input_bias() const { return bias_ != nullptr ? bias_->value.data() : nullptr; }
  // Extra per-call buffers the cell needs (allocated outside the loop).
  virtual void prepare(RecurrentCache& c) const = 0;

  // The time loop (seqnet/detail/ops/step_product.hpp). A step is cut into
  // blocks of ops::kPanelWidth units that threads share; a cell's step is
  // forward_phases() phases, each ending at a barrier across the threads,
  // and phase `phase` of step s for units [u0, u1) is one call of
  // step_forward. It reads the whole previous state and writes only its
  // units' gates and states.
  virtual int forward_phases() const { return 1; }
  virtual void step_forward(RecurrentCache& c, int64_t s, int phase, int64_t u0, int64_t u1) = 0;
  // Backward runs s = T-1 down to -1. Phase `phase` of step s for units
  // [u0, u1) first receives its units' share of the next step's gradient
  // through the recurrent weights (dh[:, u0:u1] += dgates(s+1) . U^T, when
  // s + 1 < T), then, when s >= 0, writes the step's gate gradients for its
  // units, leaving in dh what does not go through the recurrent weights.
  // After s = -1, dh (and dc) hold the initial states' gradients. `dout` is
  // the gradient of the sequence output at step s (rows dout_ld apart,
  // pointing at unit 0) or null.
  virtual int backward_phases() const { return 1; }
  virtual void step_backward(RecurrentCache& c, int64_t s, int phase, int64_t u0, int64_t u1, const float* dout,
                             int64_t dout_ld) = 0;
  // Packs the recurrent kernel for the loop, once per call: forward, one
  // PanelMatrix per gate in c.Wf (U's columns of that gate); backward, U^T
  // in c.Wb[0]. A cell whose products differ overrides it.
  virtual void pack_weights(RecurrentCache& c, bool backward) const;
  // Z[s][:, gate g, u0:u1] = X[s] . kernel[:, gate g, u0:u1] (+ input bias)
  // for every gate: the input projection of step s for one thread's units,
  // when c.fused_projection (few rows in all).
  static void project_step(RecurrentCache& c, int64_t s, int64_t u0, int64_t u1, const float* input_bias);
  // Weight gradients after the reverse loop. Default: dkernel += X^T dZ,
  // drecurrent += Hop^T dZ, dbias += colsum(dZ).
  virtual void weight_gradients(RecurrentCache& c);

  // dh[:, u0:u1] += (dg . W)[:, u0:u1] for the GEMM operand h' (through
  // the recurrent dropout mask when active). `dg` is (B, W.K), rows ldg
  // apart; W is U^T packed (or part of it).
  void add_recurrent_grad(RecurrentCache& c, const float* dg, int64_t ldg, const ops::PanelMatrix& W, int64_t u0,
                          int64_t u1);

  RecurrentConfig config_;
  ops::Act act_ = ops::Act::Tanh;
  ops::Act rec_act_ = ops::Act::Sigmoid;
  Param* kernel_ = nullptr;            // (I, G*H)
  Param* recurrent_kernel_ = nullptr;  // (H, G*H)
  Param* bias_ = nullptr;              // bias_shape() or null

 private:
  std::vector<Tensor> states_;  // kept states of a stateful layer
  std::unique_ptr<Cache> inference_cache_;  // workspaces of calls without a cache
};

}  // namespace layers
}  // namespace seqnet
