#include "seqnet/layers/gru.hpp"
#include "seqnet/detail/recurrent_cache.hpp"

#include "layers/recurrent_config.hpp"

#include "seqnet/detail/ops/elementwise.hpp"
#include "seqnet/detail/ops/gemm.hpp"
#include "seqnet/detail/ops/recurrent_kernels.hpp"

namespace seqnet::layers {

GRU::GRU(int64_t units, const GRUOptions& options)
    : Recurrent("GRU", gated_recurrent_config(units, options), options.name), options_(options) {}

std::shared_ptr<Recurrent> GRU::clone_with(std::string name, bool go_backwards, bool zero_output_for_mask) const {
  return clone_cell<GRU>(config_.units, options_, std::move(name), go_backwards, zero_output_for_mask);
}

void GRU::add_cell_config(nlohmann::json& c) const {
  add_gate_config(c);
  c["reset_after"] = options_.reset_after;
}

std::shared_ptr<Layer> GRU::from_config(const ConfigReader& r) {
  GRUOptions o;
  const int64_t units = read_gated_recurrent_config(r, o);
  o.reset_after = r.get_bool("reset_after", o.reset_after);
  return std::make_shared<GRU>(units, o);
}
SEQNET_REGISTER_LAYER(GRU);

Shape GRU::bias_shape() const {
  const int64_t GH = 3 * config_.units;
  return options_.reset_after ? Shape{2, GH} : Shape{GH};
}

const float* GRU::input_bias() const { return bias_ != nullptr ? bias_->value.data() : nullptr; }

void GRU::prepare(RecurrentCache& c) const {
  ensure_shape(c.Aux, {c.T, c.B, c.H});
  ensure_shape(c.Rec, {c.B, 3 * c.H});
  if (c.training && options_.reset_after) ensure_shape(c.dR, {c.T, c.B, 3 * c.H});
}

void GRU::step_forward(RecurrentCache& c, int64_t s) {
  const int64_t B = c.B, H = c.H, BH = B * H, GH = 3 * H;
  float* x = c.Z.data() + s * B * GH;
  const float* U = recurrent_kernel_->value.data();
  if (options_.reset_after) {
    ops::gemm(false, false, B, GH, H, 1.0f, c.h_operand(s), H, U, GH, 0.0f, c.Rec.data(), GH);
    ops::GRUStepForward a;
    a.B = B;
    a.H = H;
    a.act = act_;
    a.rec_act = rec_act_;
    a.x = x;
    a.inner = c.Rec.data();
    a.rec_bias = bias_ != nullptr ? bias_->value.data() + GH : nullptr;
    a.inner_h = c.Aux.data() + s * BH;
    a.h_prev = c.Hs.data() + s * BH;
    a.h = c.Hs.data() + (s + 1) * BH;
    a.mask = c.mask_at(s);
    if (c.rec_drop) {
      a.rec_mask = c.rec_mask.data();
      a.h_dropped = c.Hop.data() + (s + 1) * BH;
    }
    ops::gru_step_forward(a);
    return;
  }
  // reset_after = false: x[:, :2H] += h' U_zr; stage 1; x[:, 2H:] += (r h') U_h; stage 2.
  ops::gemm(false, false, B, 2 * H, H, 1.0f, c.h_operand(s), H, U, GH, 1.0f, x, GH);
  ops::GRUV1StepForward a;
  a.B = B;
  a.H = H;
  a.act = act_;
  a.rec_act = rec_act_;
  a.x = x;
  a.h_prev = c.Hs.data() + s * BH;
  a.h_operand = c.h_operand(s);
  a.rh = c.Aux.data() + s * BH;
  a.h = c.Hs.data() + (s + 1) * BH;
  a.mask = c.mask_at(s);
  if (c.rec_drop) {
    a.rec_mask = c.rec_mask.data();
    a.h_dropped = c.Hop.data() + (s + 1) * BH;
  }
  ops::gru_v1_step_forward_stage1(a);
  ops::gemm(false, false, B, H, H, 1.0f, a.rh, H, U + 2 * H, GH, 1.0f, x + 2 * H, GH);
  ops::gru_v1_step_forward_stage2(a);
}

void GRU::step_backward(RecurrentCache& c, int64_t s, const float* dout, int64_t dout_ld) {
  const int64_t B = c.B, H = c.H, BH = B * H, GH = 3 * H;
  float* dx = c.dZ.data() + s * B * GH;
  if (options_.reset_after) {
    ops::GRUStepBackward a;
    a.B = B;
    a.H = H;
    a.act = act_;
    a.rec_act = rec_act_;
    a.x = c.Z.data() + s * B * GH;
    a.inner_h = c.Aux.data() + s * BH;
    a.h_prev = c.Hs.data() + s * BH;
    a.mask = c.mask_at(s);
    a.dout = dout;
    a.dout_ld = dout_ld;
    a.dh = c.dh.data();
    a.dx = dx;
    a.dinner = c.dR.data() + s * B * GH;
    ops::gru_step_backward(a);
    add_recurrent_grad(c, a.dinner, *recurrent_kernel_, 0, GH);
    return;
  }
  const float* U = recurrent_kernel_->value.data();
  ops::GRUV1StepBackward a;
  a.B = B;
  a.H = H;
  a.act = act_;
  a.rec_act = rec_act_;
  a.x = c.Z.data() + s * B * GH;
  a.h_prev = c.Hs.data() + s * BH;
  a.h_operand = c.h_operand(s);
  a.mask = c.mask_at(s);
  a.dout = dout;
  a.dout_ld = dout_ld;
  a.dh = c.dh.data();
  a.dx = dx;
  ops::gru_v1_step_backward_stage1(a);
  // drh = dx_h . U_h^T
  ops::gemm(false, true, B, H, H, 1.0f, dx + 2 * H, GH, U + 2 * H, GH, 0.0f, c.dtmp.data(), H);
  a.drh = c.dtmp.data();
  a.dh_operand = c.Rec.data();  // (B, H) scratch
  ops::gru_v1_step_backward_stage2(a);
  // dh' += dx_zr . U_zr^T, then into dh through the recurrent dropout mask.
  ops::gemm(false, true, B, H, 2 * H, 1.0f, dx, GH, U, GH, 1.0f, a.dh_operand, H);
  if (c.rec_drop) {
    for (int64_t i = 0; i < BH; ++i) c.dh[i] += a.dh_operand[i] * c.rec_mask[i];
  } else {
    ops::axpy(BH, 1.0f, a.dh_operand, c.dh.data());
  }
}

void GRU::weight_gradients(RecurrentCache& c) {
  const int64_t B = c.B, T = c.T, I = c.I, H = c.H, GH = 3 * H;
  ops::gemm(true, false, I, GH, T * B, 1.0f, c.X.data(), I, c.dZ.data(), GH, 1.0f, kernel_->grad.data(), GH);
  float* dU = recurrent_kernel_->grad.data();
  if (options_.reset_after) {
    ops::gemm(true, false, H, GH, T * B, 1.0f, c.h_operand(0), H, c.dR.data(), GH, 1.0f, dU, GH);
    if (bias_ != nullptr) {
      ops::add_column_sums(c.dZ.data(), T * B, GH, GH, bias_->grad.data());
      ops::add_column_sums(c.dR.data(), T * B, GH, GH, bias_->grad.data() + GH);
    }
    return;
  }
  ops::gemm(true, false, H, 2 * H, T * B, 1.0f, c.h_operand(0), H, c.dZ.data(), GH, 1.0f, dU, GH);
  ops::gemm(true, false, H, H, T * B, 1.0f, c.Aux.data(), H, c.dZ.data() + 2 * H, GH, 1.0f, dU + 2 * H, GH);
  if (bias_ != nullptr) ops::add_column_sums(c.dZ.data(), T * B, GH, GH, bias_->grad.data());
}

}  // namespace seqnet::layers
