#include "seqnet/layers/simple_rnn.hpp"
#include "seqnet/detail/recurrent_cache.hpp"

#include "layers/recurrent_config.hpp"

#include "seqnet/detail/ops/step_product.hpp"
#include "seqnet/detail/ops/recurrent_kernels.hpp"

namespace seqnet::layers {

SimpleRNN::SimpleRNN(int64_t units, const SimpleRNNOptions& options)
    : Recurrent("SimpleRNN", common_recurrent_config(units, options), options.name), options_(options) {}

void SimpleRNN::add_cell_config(nlohmann::json&) const {}

std::shared_ptr<Layer> SimpleRNN::from_config(const ConfigReader& r) {
  SimpleRNNOptions o;
  const int64_t units = read_recurrent_config(r, o);
  return std::make_shared<SimpleRNN>(units, o);
}
SEQNET_REGISTER_LAYER(SimpleRNN);

std::shared_ptr<Recurrent> SimpleRNN::clone_with(std::string name, bool go_backwards, bool zero_output_for_mask) const {
  return clone_cell<SimpleRNN>(config_.units, options_, std::move(name), go_backwards, zero_output_for_mask);
}

void SimpleRNN::prepare(RecurrentCache&) const {}

void SimpleRNN::step_forward(RecurrentCache& c, int64_t s, int, int64_t u0, int64_t u1) {
  const int64_t B = c.B, H = c.H, BH = B * H;
  float* z = c.Z.data() + s * BH;
  ops::panel_product(B, c.h_operand(s), H, c.Wf[0], u0, u1, z + u0, H, true);
  ops::RNNStepForward a;
  a.B = B;
  a.H = u1 - u0;
  a.ld = H;
  a.act = act_;
  a.z = z + u0;
  a.h_prev = c.Hs.data() + s * BH + u0;
  a.h = c.Hs.data() + (s + 1) * BH + u0;
  a.mask = c.mask_at(s);
  if (c.rec_drop) {
    a.rec_mask = c.rec_mask.data() + u0;
    a.h_dropped = c.Hop.data() + (s + 1) * BH + u0;
  }
  ops::rnn_step_forward(a);
}

void SimpleRNN::step_backward(RecurrentCache& c, int64_t s, int, int64_t u0, int64_t u1, const float* dout,
                              int64_t dout_ld) {
  const int64_t B = c.B, H = c.H, BH = B * H;
  if (s + 1 < c.T) add_recurrent_grad(c, c.dZ.data() + (s + 1) * BH, H, c.Wb[0], u0, u1);
  if (s < 0) return;
  ops::RNNStepBackward a;
  a.B = B;
  a.H = u1 - u0;
  a.ld = H;
  a.act = act_;
  a.h = c.Hs.data() + (s + 1) * BH + u0;
  a.mask = c.mask_at(s);
  a.dout = dout != nullptr ? dout + u0 : nullptr;
  a.dout_ld = dout_ld;
  a.dh = c.dh.data() + u0;
  a.dz = c.dZ.data() + s * BH + u0;
  ops::rnn_step_backward(a);
}

}  // namespace seqnet::layers
