#include "seqnet/layers/gru.hpp"
#include "seqnet/detail/recurrent_cache.hpp"

#include "layers/recurrent_config.hpp"

#include "seqnet/detail/ops/elementwise.hpp"
#include "seqnet/detail/ops/gemm.hpp"
#include "seqnet/detail/ops/step_product.hpp"
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

void GRU::pack_weights(RecurrentCache& c, bool backward) const {
  if (!backward || options_.reset_after) {
    Recurrent::pack_weights(c, backward);
    return;
  }
  // reset_after = false: dh' gets dx_zr . U_zr^T and drh = dx_h . U_h^T.
  const int64_t H = c.H, GH = 3 * H;
  const float* U = recurrent_kernel_->value.data();
  c.Wb.resize(2);
  c.Wb[0].pack_transposed(U, GH, H, 0, 2 * H);
  c.Wb[1].pack_transposed(U, GH, H, 2 * H, H);
}

void GRU::step_forward(RecurrentCache& c, int64_t s, int phase, int64_t u0, int64_t u1) {
  const int64_t B = c.B, H = c.H, BH = B * H, GH = 3 * H;
  float* x = c.Z.data() + s * B * GH;
  const float* hop = c.h_operand(s);
  if (options_.reset_after) {
    // inner[:, gate g, u0:u1] = h' . U[:, gate g, u0:u1]
    float* inner = c.Rec.data();
    for (int64_t g = 0; g < 3; ++g) ops::panel_product(B, hop, H, c.Wf[g], u0, u1, inner + g * H + u0, GH, false);
    ops::GRUStepForward a;
    a.B = B;
    a.H = u1 - u0;
    a.ld = H;
    a.act = act_;
    a.rec_act = rec_act_;
    a.x = x + u0;
    a.inner = inner + u0;
    a.rec_bias = bias_ != nullptr ? bias_->value.data() + GH + u0 : nullptr;
    a.inner_h = c.Aux.data() + s * BH + u0;
    a.h_prev = c.Hs.data() + s * BH + u0;
    a.h = c.Hs.data() + (s + 1) * BH + u0;
    a.mask = c.mask_at(s);
    if (c.rec_drop) {
      a.rec_mask = c.rec_mask.data() + u0;
      a.h_dropped = c.Hop.data() + (s + 1) * BH + u0;
    }
    ops::gru_step_forward(a);
    return;
  }
  // reset_after = false. Phase 0: x[:, z|r] += h' U_zr, stage 1 (rh = r * h').
  // Phase 1: x[:, h] += (r h') U_h, stage 2.
  ops::GRUV1StepForward a;
  a.B = B;
  a.H = u1 - u0;
  a.ld = H;
  a.act = act_;
  a.rec_act = rec_act_;
  a.x = x + u0;
  a.h_prev = c.Hs.data() + s * BH + u0;
  a.h_operand = hop + u0;
  a.rh = c.Aux.data() + s * BH + u0;
  a.h = c.Hs.data() + (s + 1) * BH + u0;
  a.mask = c.mask_at(s);
  if (c.rec_drop) {
    a.rec_mask = c.rec_mask.data() + u0;
    a.h_dropped = c.Hop.data() + (s + 1) * BH + u0;
  }
  if (phase == 0) {
    for (int64_t g = 0; g < 2; ++g) ops::panel_product(B, hop, H, c.Wf[g], u0, u1, x + g * H + u0, GH, true);
    ops::gru_v1_step_forward_stage1(a);
    return;
  }
  ops::panel_product(B, c.Aux.data() + s * BH, H, c.Wf[2], u0, u1, x + 2 * H + u0, GH, true);
  ops::gru_v1_step_forward_stage2(a);
}

void GRU::step_backward(RecurrentCache& c, int64_t s, int phase, int64_t u0, int64_t u1, const float* dout,
                        int64_t dout_ld) {
  const int64_t B = c.B, H = c.H, BH = B * H, GH = 3 * H;
  if (options_.reset_after) {
    if (s + 1 < c.T) add_recurrent_grad(c, c.dR.data() + (s + 1) * B * GH, GH, c.Wb[0], u0, u1);
    if (s < 0) return;
    ops::GRUStepBackward a;
    a.B = B;
    a.H = u1 - u0;
    a.ld = H;
    a.act = act_;
    a.rec_act = rec_act_;
    a.x = c.Z.data() + s * B * GH + u0;
    a.inner_h = c.Aux.data() + s * BH + u0;
    a.h_prev = c.Hs.data() + s * BH + u0;
    a.mask = c.mask_at(s);
    a.dout = dout != nullptr ? dout + u0 : nullptr;
    a.dout_ld = dout_ld;
    a.dh = c.dh.data() + u0;
    a.dx = c.dZ.data() + s * B * GH + u0;
    a.dinner = c.dR.data() + s * B * GH + u0;
    ops::gru_step_backward(a);
    return;
  }
  // reset_after = false. Phase 0: dh' of step s+1's units (dh_operand, from
  // its stage 2, plus dx_zr . U_zr^T) into dh through the dropout mask;
  // stage 1. Phase 1: drh = dx_h . U_h^T, stage 2.
  float* dho = c.Rec.data();  // (B, H): gradient of h' from the rh path
  if (phase == 0 && s + 1 < c.T) {
    const float* dx_next = c.dZ.data() + (s + 1) * B * GH;
    ops::panel_product(B, dx_next, GH, c.Wb[0], u0, u1, dho + u0, H, true);
    for (int64_t b = 0; b < B; ++b) {
      float* dh = c.dh.data() + b * H;
      const float* d = dho + b * H;
      const float* m = c.rec_drop ? c.rec_mask.data() + b * H : nullptr;
      for (int64_t j = u0; j < u1; ++j) dh[j] += m != nullptr ? d[j] * m[j] : d[j];
    }
  }
  if (s < 0) return;
  ops::GRUV1StepBackward a;
  a.B = B;
  a.H = u1 - u0;
  a.ld = H;
  a.act = act_;
  a.rec_act = rec_act_;
  a.x = c.Z.data() + s * B * GH + u0;
  a.h_prev = c.Hs.data() + s * BH + u0;
  a.h_operand = c.h_operand(s) + u0;
  a.mask = c.mask_at(s);
  a.dout = dout != nullptr ? dout + u0 : nullptr;
  a.dout_ld = dout_ld;
  a.dh = c.dh.data() + u0;
  a.dx = c.dZ.data() + s * B * GH + u0;
  if (phase == 0) {
    ops::gru_v1_step_backward_stage1(a);
    return;
  }
  float* drh = c.dtmp.data();
  ops::panel_product(B, c.dZ.data() + s * B * GH + 2 * H, GH, c.Wb[1], u0, u1, drh + u0, H, false);
  a.drh = drh + u0;
  a.dh_operand = dho + u0;
  ops::gru_v1_step_backward_stage2(a);
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
