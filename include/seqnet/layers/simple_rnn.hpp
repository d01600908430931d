#pragma once
// SimpleRNN (Elman): h_t = act(x_t W + h_{t-1} U + b).
//   kernel (I, H), recurrent_kernel (H, H), bias (H,).
// Parameters: H(I + H + 1); SimpleRNN(32) on 32 features: 2080.

#include <string>

#include "seqnet/layers/recurrent.hpp"

namespace seqnet {

// Keras SimpleRNN keyword arguments, in Keras's order. Example:
//   SimpleRNN(32, {.activation = "relu", .return_sequences = true})
struct SimpleRNNOptions {
  // Default: "tanh".
  std::string activation = "tanh";
  // Default: true.
  bool use_bias = true;
  // Default: glorot_uniform.
  Initializer kernel_initializer = "glorot_uniform";
  // Default: orthogonal.
  Initializer recurrent_initializer = "orthogonal";
  // Default: zeros.
  Initializer bias_initializer = "zeros";
  // Default: none.
  Regularizer kernel_regularizer{};
  // Default: none.
  Regularizer recurrent_regularizer{};
  // Default: none.
  Regularizer bias_regularizer{};
  // Default: 0.
  float dropout = 0.0f;
  // Default: 0.
  float recurrent_dropout = 0.0f;
  // Default: false.
  bool return_sequences = false;
  // Default: false.
  bool return_state = false;
  // Default: false.
  bool go_backwards = false;
  // Default: false.
  bool stateful = false;
  // Default: false (see LSTMOptions).
  bool zero_output_for_mask = false;
  // Default: unique "simple_rnn", "simple_rnn_1", ...
  std::string name{};
};

namespace layers {

class SimpleRNN : public Recurrent {
 public:
  // Reads get_config()'s form back (see seqnet/layers/serialization.hpp).
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
  explicit SimpleRNN(int64_t units, const SimpleRNNOptions& options = {});
  const SimpleRNNOptions& options() const { return options_; }
  int num_states() const override { return 1; }
  int gates() const override { return 1; }
  std::shared_ptr<Recurrent> clone_with(std::string name, bool go_backwards, bool zero_output_for_mask) const override;

 protected:
  void add_cell_config(nlohmann::json& config) const override;
  void prepare(RecurrentCache& c) const override;
  void step_forward(RecurrentCache& c, int64_t s, int phase, int64_t u0, int64_t u1) override;
  void step_backward(RecurrentCache& c, int64_t s, int phase, int64_t u0, int64_t u1, const float* dout,
                     int64_t dout_ld) override;

 private:
  SimpleRNNOptions options_;
};

}  // namespace layers
}  // namespace seqnet
