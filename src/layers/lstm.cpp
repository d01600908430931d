#include "seqnet/layers/lstm.hpp"
#include "seqnet/detail/recurrent_cache.hpp"

#include "layers/recurrent_config.hpp"

#include "seqnet/detail/ops/step_product.hpp"
#include "seqnet/detail/ops/recurrent_kernels.hpp"

namespace seqnet::layers {

LSTM::LSTM(int64_t units, const LSTMOptions& options)
    : Recurrent("LSTM", gated_recurrent_config(units, options), options.name), options_(options) {}

std::shared_ptr<Recurrent> LSTM::clone_with(std::string name, bool go_backwards, bool zero_output_for_mask) const {
  return clone_cell<LSTM>(config_.units, options_, std::move(name), go_backwards, zero_output_for_mask);
}

void LSTM::build(const std::vector<Shape>& in) {
  Recurrent::build(in);
  set_unit_forget_bias();
}

void LSTM::initialize_weights() {
  Recurrent::initialize_weights();
  set_unit_forget_bias();
}

void LSTM::set_unit_forget_bias() {
  if (bias_ != nullptr && options_.unit_forget_bias) {
    // Keras: bias = [init(H), ones(H), init(2H)].
    const int64_t H = config_.units;
    for (int64_t j = H; j < 2 * H; ++j) bias_->value[j] = 1.0f;
  }
}

void LSTM::add_cell_config(nlohmann::json& c) const {
  add_gate_config(c);
  c["unit_forget_bias"] = options_.unit_forget_bias;
}

std::shared_ptr<Layer> LSTM::from_config(const ConfigReader& r) {
  LSTMOptions o;
  const int64_t units = read_gated_recurrent_config(r, o);
  o.unit_forget_bias = r.get_bool("unit_forget_bias", o.unit_forget_bias);
  return std::make_shared<LSTM>(units, o);
}
SEQNET_REGISTER_LAYER(LSTM);

void LSTM::prepare(RecurrentCache& c) const { ensure_shape(c.Aux, {c.T, c.B, c.H}); }

void LSTM::step_forward(RecurrentCache& c, int64_t s, int, int64_t u0, int64_t u1) {
  const int64_t B = c.B, H = c.H, BH = B * H, GH = 4 * H;
  float* z = c.Z.data() + s * B * GH;  // (B, 4H)
  // z[:, gate g, u0:u1] += h' . U[:, gate g, u0:u1]
  const float* hop = c.h_operand(s);
  for (int64_t g = 0; g < 4; ++g) ops::panel_product(B, hop, H, c.Wf[g], u0, u1, z + g * H + u0, GH, true);
  ops::LSTMStepForward a;
  a.B = B;
  a.H = u1 - u0;
  a.ld = H;
  a.act = act_;
  a.rec_act = rec_act_;
  a.z = z + u0;
  a.h_prev = c.Hs.data() + s * BH + u0;
  a.c_prev = c.Cs.data() + s * BH + u0;
  a.h = c.Hs.data() + (s + 1) * BH + u0;
  a.c = c.Cs.data() + (s + 1) * BH + u0;
  a.tc = c.Aux.data() + s * BH + u0;
  a.mask = c.mask_at(s);
  if (c.rec_drop) {
    a.rec_mask = c.rec_mask.data() + u0;
    a.h_dropped = c.Hop.data() + (s + 1) * BH + u0;
  }
  ops::lstm_step_forward(a);
}

void LSTM::step_backward(RecurrentCache& c, int64_t s, int, int64_t u0, int64_t u1, const float* dout,
                         int64_t dout_ld) {
  const int64_t B = c.B, H = c.H, BH = B * H, GH = 4 * H;
  if (s + 1 < c.T) add_recurrent_grad(c, c.dZ.data() + (s + 1) * B * GH, GH, c.Wb[0], u0, u1);
  if (s < 0) return;
  ops::LSTMStepBackward a;
  a.B = B;
  a.H = u1 - u0;
  a.ld = H;
  a.act = act_;
  a.rec_act = rec_act_;
  a.z = c.Z.data() + s * B * GH + u0;
  a.c_prev = c.Cs.data() + s * BH + u0;
  a.tc = c.Aux.data() + s * BH + u0;
  a.mask = c.mask_at(s);
  a.dout = dout != nullptr ? dout + u0 : nullptr;
  a.dout_ld = dout_ld;
  a.dh = c.dh.data() + u0;
  a.dc = c.dc.data() + u0;
  a.dz = c.dZ.data() + s * B * GH + u0;
  ops::lstm_step_backward(a);
}

}  // namespace seqnet::layers
