#pragma once
// LSTM (Hochreiter & Schmidhuber), Keras semantics and weight layout:
//   kernel (I, 4H), recurrent_kernel (H, 4H), bias (4H,), gate order i, f, c, o.
//   i = ra(x W_i + h U_i + b_i)   f = ra(...)   g = act(...)   o = ra(...)
//   c_t = f * c_{t-1} + i * g     h_t = o * act(c_t)
// Outputs: [output] or, with return_state, [output, h, c] (see recurrent.hpp).
// Parameters: 4 * units * (I + units + 1); LSTM(16) on 10 features: 1728.

#include <string>

#include "seqnet/layers/recurrent.hpp"

namespace seqnet {

// Keras LSTM keyword arguments, in Keras's order (designated initializers
// must keep it). Example:
//   LSTM(16, {.return_sequences = true, .return_state = true})
struct LSTMOptions {
  // Default: "tanh".
  std::string activation = "tanh";
  // Default: "sigmoid".
  std::string recurrent_activation = "sigmoid";
  // Default: true.
  bool use_bias = true;
  // Default: glorot_uniform.
  Initializer kernel_initializer = "glorot_uniform";
  // Default: orthogonal.
  Initializer recurrent_initializer = "orthogonal";
  // Default: zeros.
  Initializer bias_initializer = "zeros";
  // Initialize the forget gate's bias to 1 (Jozefowicz et al.). Default: true.
  bool unit_forget_bias = true;
  // Default: none.
  Regularizer kernel_regularizer{};
  // Default: none.
  Regularizer recurrent_regularizer{};
  // Default: none.
  Regularizer bias_regularizer{};
  // Fraction of the inputs dropped in training, one mask per sequence. Default: 0.
  float dropout = 0.0f;
  // Fraction of the recurrent state dropped in training. Default: 0.
  float recurrent_dropout = 0.0f;
  // Return the whole output sequence instead of the last output. Default: false.
  bool return_sequences = false;
  // Also return the final states h and c. Default: false.
  bool return_state = false;
  // Process the sequence backwards (and return it reversed). Default: false.
  bool go_backwards = false;
  // Keep the final states as the next call's initial states. Default: false.
  bool stateful = false;
  // Zero the outputs of masked steps instead of repeating the previous
  // output (Keras's hidden argument; Bidirectional sets it). Default: false.
  bool zero_output_for_mask = false;
  // Default: unique "lstm", "lstm_1", ...
  std::string name{};
};

namespace layers {

class LSTM : public Recurrent {
 public:
  // Reads get_config()'s form back (see seqnet/layers/serialization.hpp).
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
  // Throws ValueError for units <= 0, dropout outside [0, 1), unknown
  // activations or initializers.
  explicit LSTM(int64_t units, const LSTMOptions& options = {});
  const LSTMOptions& options() const { return options_; }
  int num_states() const override { return 2; }
  int gates() const override { return 4; }
  std::shared_ptr<Recurrent> clone_with(std::string name, bool go_backwards, bool zero_output_for_mask) const override;
  void initialize_weights() override;

 protected:
  void add_cell_config(nlohmann::json& config) const override;
  void build(const std::vector<Shape>& in) override;
  void prepare(RecurrentCache& c) const override;
  void step_forward(RecurrentCache& c, int64_t s, int phase, int64_t u0, int64_t u1) override;
  void step_backward(RecurrentCache& c, int64_t s, int phase, int64_t u0, int64_t u1, const float* dout,
                     int64_t dout_ld) override;

 private:
  void set_unit_forget_bias();
  LSTMOptions options_;
};

}  // namespace layers
}  // namespace seqnet
