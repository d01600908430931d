#pragma once
// GRU (Cho et al.), Keras semantics and weight layout, gate order z, r, h:
//   kernel (I, 3H), recurrent_kernel (H, 3H).
//   reset_after = true (Keras 2 default, = PyTorch's GRU): bias (2, 3H), row 0
//     the input bias, row 1 the recurrent bias;
//     hh = act(x W_h + b_in_h + r * (h U_h + b_rec_h))
//   reset_after = false: bias (3H,); hh = act(x W_h + (r * h) U_h + b_h)
//   z = ra(...), r = ra(...), h_t = z * h_{t-1} + (1 - z) * hh
// Parameters: 3H(I + H + 2) with reset_after, 3H(I + H + 1) without.

#include <string>

#include "seqnet/layers/recurrent.hpp"

namespace seqnet {

// Keras GRU keyword arguments, in Keras's order. Example:
//   GRU(32, {.dropout = 0.2f, .return_sequences = true})
struct GRUOptions {
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
  // Apply the reset gate after the recurrent product. Default: true.
  bool reset_after = true;
  // Default: false (see LSTMOptions).
  bool zero_output_for_mask = false;
  // Default: unique "gru", "gru_1", ...
  std::string name{};
};

namespace layers {

class GRU : public Recurrent {
 public:
  // Reads get_config()'s form back (see seqnet/layers/serialization.hpp).
  static std::shared_ptr<Layer> from_config(const ConfigReader& config);
  explicit GRU(int64_t units, const GRUOptions& options = {});
  const GRUOptions& options() const { return options_; }
  int num_states() const override { return 1; }
  int gates() const override { return 3; }
  bool reset_after() const { return options_.reset_after; }
  std::shared_ptr<Recurrent> clone_with(std::string name, bool go_backwards, bool zero_output_for_mask) const override;

 protected:
  void add_cell_config(nlohmann::json& config) const override;
  Shape bias_shape() const override;
  const float* input_bias() const override;
  void prepare(RecurrentCache& c) const override;
  // reset_after = false needs two products per step, the second on r * h'.
  int forward_phases() const override { return options_.reset_after ? 1 : 2; }
  int backward_phases() const override { return options_.reset_after ? 1 : 2; }
  void step_forward(RecurrentCache& c, int64_t s, int phase, int64_t u0, int64_t u1) override;
  void step_backward(RecurrentCache& c, int64_t s, int phase, int64_t u0, int64_t u1, const float* dout,
                     int64_t dout_ld) override;
  void pack_weights(RecurrentCache& c, bool backward) const override;
  void weight_gradients(RecurrentCache& c) override;

 private:
  GRUOptions options_;
};

}  // namespace layers
}  // namespace seqnet
