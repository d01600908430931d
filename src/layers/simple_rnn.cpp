#include "seqnet/layers/simple_rnn.hpp"
#include "seqnet/detail/recurrent_cache.hpp"

#include "layers/recurrent_config.hpp"

#include "seqnet/detail/ops/gemm.hpp"
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

void SimpleRNN::step_forward(RecurrentCache& c, int64_t s) {
  const int64_t B = c.B, H = c.H, BH = B * H;
  float* z = c.Z.data() + s * BH;
  ops::gemm(false, false, B, H, H, 1.0f, c.h_operand(s), H, recurrent_kernel_->value.data(), H, 1.0f, z, H);
  ops::RNNStepForward a;
  a.B = B;
  a.H = H;
  a.act = act_;
  a.z = z;
  a.h_prev = c.Hs.data() + s * BH;
  a.h = c.Hs.data() + (s + 1) * BH;
  a.mask = c.mask_at(s);
  if (c.rec_drop) {
    a.rec_mask = c.rec_mask.data();
    a.h_dropped = c.Hop.data() + (s + 1) * BH;
  }
  ops::rnn_step_forward(a);
}

void SimpleRNN::step_backward(RecurrentCache& c, int64_t s, const float* dout, int64_t dout_ld) {
  const int64_t B = c.B, H = c.H, BH = B * H;
  ops::RNNStepBackward a;
  a.B = B;
  a.H = H;
  a.act = act_;
  a.h = c.Hs.data() + (s + 1) * BH;
  a.mask = c.mask_at(s);
  a.dout = dout;
  a.dout_ld = dout_ld;
  a.dh = c.dh.data();
  a.dz = c.dZ.data() + s * BH;
  ops::rnn_step_backward(a);
  add_recurrent_grad(c, a.dz, *recurrent_kernel_, 0, H);
}

}  // namespace seqnet::layers
