#pragma once
// Fused elementwise kernels of one recurrent time step. A recurrent layer's
// time loop does, per step, only the recurrent GEMM and one of these kernels
// (GRU with reset_after = false needs two GEMMs and two kernels, because its
// reset gate multiplies h before the product).
//
// Letters: B batch rows, H units. All (B, H) and (B, G*H) blocks are
// contiguous row-major. A `mask` (B) is 1 for a real step and 0 for padding:
// a padded row carries the previous states forward unchanged and its gate
// gradients are zero. `rec_mask` (B, H) is the recurrent dropout mask; when
// given, the forward kernels also write h * rec_mask, the operand of the
// next step's recurrent GEMM.
//
// Backward kernels receive in `dh` (and `dc`) the gradient with respect to
// this step's new state, add `dout` (the gradient of this step's output, a
// strided (B, H) window, or null), write the pre-activation gradients, and
// leave in `dh` the part of the previous state's gradient that does not go
// through the recurrent GEMM (the caller then adds dgates . U^T), and in `dc`
// the previous cell state's gradient.
//
// Unit blocks: with `ld` set, a kernel works on H units out of a layer of
// ld units: every (B, H) block has row stride ld, every (B, G*H) block row
// stride G*ld with its gates ld apart (and the GRU recurrent bias too), and
// the pointers point at the block's first unit. ld = 0 means ld = H.

#include <cstdint>

#include "seqnet/detail/ops/activations.hpp"

namespace seqnet::ops {

// LSTM, gate order i, f, c (candidate g), o:
//   i = ra(z_i), f = ra(z_f), g = act(z_g), o = ra(z_o)
//   c = f * c_prev + i * g;   h = o * act(c)
struct LSTMStepForward {
  int64_t B = 0, H = 0;
  int64_t ld = 0;  // see "Unit blocks" above
  Act act = Act::Tanh, rec_act = Act::Sigmoid;
  float* z = nullptr;             // (B, 4H) in: pre-activations; out: activated gates
  const float* h_prev = nullptr;  // (B, H)
  const float* c_prev = nullptr;  // (B, H)
  float* h = nullptr;             // (B, H) out
  float* c = nullptr;             // (B, H) out
  float* tc = nullptr;            // (B, H) out: act(c)
  const float* mask = nullptr;    // (B) or null
  const float* rec_mask = nullptr;  // (B, H) or null
  float* h_dropped = nullptr;       // (B, H) out when rec_mask: h * rec_mask
};
void lstm_step_forward(const LSTMStepForward& a);

struct LSTMStepBackward {
  int64_t B = 0, H = 0;
  int64_t ld = 0;  // see "Unit blocks" above
  Act act = Act::Tanh, rec_act = Act::Sigmoid;
  const float* z = nullptr;       // (B, 4H) activated gates
  const float* c_prev = nullptr;  // (B, H)
  const float* tc = nullptr;      // (B, H) act(c)
  const float* mask = nullptr;    // (B) or null
  const float* dout = nullptr;    // strided (B, H) or null
  int64_t dout_ld = 0;
  float* dh = nullptr;  // (B, H) in/out (see above)
  float* dc = nullptr;  // (B, H) in/out
  float* dz = nullptr;  // (B, 4H) out: pre-activation gradients
};
void lstm_step_backward(const LSTMStepBackward& a);

// GRU with reset_after = true (Keras 2 default, PyTorch's GRU), gates z, r, h:
//   inner = h_prev' . U + b_rec   (h_prev' = h_prev * rec_mask)
//   z = ra(x_z + inner_z), r = ra(x_r + inner_r), hh = act(x_h + r * inner_h)
//   h = z * h_prev + (1 - z) * hh
struct GRUStepForward {
  int64_t B = 0, H = 0;
  int64_t ld = 0;  // see "Unit blocks" above
  Act act = Act::Tanh, rec_act = Act::Sigmoid;
  float* x = nullptr;             // (B, 3H) in: input projections; out: activated z, r, hh
  const float* inner = nullptr;   // (B, 3H) h_prev' . U (without bias)
  const float* rec_bias = nullptr;  // (3H) or null
  float* inner_h = nullptr;       // (B, H) out: inner_h (with bias), needed by backward
  const float* h_prev = nullptr;  // (B, H)
  float* h = nullptr;             // (B, H) out
  const float* mask = nullptr;
  const float* rec_mask = nullptr;
  float* h_dropped = nullptr;
};
void gru_step_forward(const GRUStepForward& a);

struct GRUStepBackward {
  int64_t B = 0, H = 0;
  int64_t ld = 0;  // see "Unit blocks" above
  Act act = Act::Tanh, rec_act = Act::Sigmoid;
  const float* x = nullptr;        // (B, 3H) activated z, r, hh
  const float* inner_h = nullptr;  // (B, H)
  const float* h_prev = nullptr;   // (B, H)
  const float* mask = nullptr;
  const float* dout = nullptr;
  int64_t dout_ld = 0;
  float* dh = nullptr;       // (B, H) in/out
  float* dx = nullptr;       // (B, 3H) out: gradient of the input-side pre-activations
  float* dinner = nullptr;   // (B, 3H) out: gradient of inner (the recurrent GEMM output)
};
void gru_step_backward(const GRUStepBackward& a);

// GRU with reset_after = false (original Cho et al.; Keras reset_after=False):
//   z = ra(x_z + h' U_z), r = ra(x_r + h' U_r)
//   hh = act(x_h + (r * h') . U_h);  h = z * h_prev + (1 - z) * hh
// Stage 1 runs after the GEMM h' . U_zr (added into x[:, :2H]): activates
// z and r and writes rh = r * h'. Stage 2 runs after the GEMM rh . U_h
// (added into x[:, 2H:]): activates hh and writes h.
struct GRUV1StepForward {
  int64_t B = 0, H = 0;
  int64_t ld = 0;  // see "Unit blocks" above
  Act act = Act::Tanh, rec_act = Act::Sigmoid;
  float* x = nullptr;              // (B, 3H)
  const float* h_prev = nullptr;   // (B, H) state
  const float* h_operand = nullptr;  // (B, H) h' (= h_prev * rec_mask, or h_prev)
  float* rh = nullptr;             // (B, H) out (stage 1)
  float* h = nullptr;              // (B, H) out (stage 2)
  const float* mask = nullptr;
  const float* rec_mask = nullptr;
  float* h_dropped = nullptr;
};
void gru_v1_step_forward_stage1(const GRUV1StepForward& a);
void gru_v1_step_forward_stage2(const GRUV1StepForward& a);

struct GRUV1StepBackward {
  int64_t B = 0, H = 0;
  int64_t ld = 0;  // see "Unit blocks" above
  Act act = Act::Tanh, rec_act = Act::Sigmoid;
  const float* x = nullptr;          // (B, 3H) activated z, r, hh
  const float* h_prev = nullptr;     // (B, H)
  const float* h_operand = nullptr;  // (B, H) h'
  const float* mask = nullptr;
  const float* dout = nullptr;
  int64_t dout_ld = 0;
  float* dh = nullptr;       // (B, H) in/out: stage 1 leaves the direct part z * dh
  float* dx = nullptr;       // (B, 3H) out
  const float* drh = nullptr;  // (B, H) stage 2 in: gradient of rh (dx_h . U_h^T)
  float* dh_operand = nullptr;  // (B, H) stage 2 out: gradient of h' from the rh path
};
// Stage 1: dz, dhh -> dx[:, 0] and dx[:, 2H:]; dh <- z * dh_total.
void gru_v1_step_backward_stage1(const GRUV1StepBackward& a);
// Stage 2 (after drh = dx_h . U_h^T): dr -> dx[:, H:2H]; dh_operand = drh * r.
void gru_v1_step_backward_stage2(const GRUV1StepBackward& a);

// SimpleRNN: h = act(z), z = x W + b + h' U.
struct RNNStepForward {
  int64_t B = 0, H = 0;
  int64_t ld = 0;  // see "Unit blocks" above
  Act act = Act::Tanh;
  const float* z = nullptr;       // (B, H) pre-activations
  const float* h_prev = nullptr;  // (B, H)
  float* h = nullptr;             // (B, H) out
  const float* mask = nullptr;
  const float* rec_mask = nullptr;
  float* h_dropped = nullptr;
};
void rnn_step_forward(const RNNStepForward& a);

struct RNNStepBackward {
  int64_t B = 0, H = 0;
  int64_t ld = 0;  // see "Unit blocks" above
  Act act = Act::Tanh;
  const float* h = nullptr;  // (B, H) this step's output
  const float* mask = nullptr;
  const float* dout = nullptr;
  int64_t dout_ld = 0;
  float* dh = nullptr;  // (B, H) in/out
  float* dz = nullptr;  // (B, H) out
};
void rnn_step_backward(const RNNStepBackward& a);

}  // namespace seqnet::ops
