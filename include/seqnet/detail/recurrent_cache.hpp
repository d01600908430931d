#pragma once
// The per-call buffers of a recurrent layer: what a cell's hooks
// (Recurrent::prepare, pack_weights, step_forward, step_backward) read and write. Library
// internals, for implementing cells; not part of <seqnet/seqnet.hpp>.

#include <cstdint>
#include <vector>

#include "seqnet/detail/ops/step_product.hpp"
#include "seqnet/layers/recurrent.hpp"
#include "seqnet/tensor.hpp"

namespace seqnet::layers {

// Per-call buffers of a recurrent layer, time-major and in processing order
// (step s reads input time t = s, or T-1-s with go_backwards).
struct RecurrentCache : Cache {
  int64_t B = 0, T = 0, I = 0, H = 0, G = 0;
  bool has_mask = false, in_drop = false, rec_drop = false;
  Tensor X;     // (T, B, I) inputs in processing order, input dropout applied
  Tensor Z;     // (T, B, G*H) input projections -> activated gates
  Tensor Hs;    // (T+1, B, H) Hs[0] = h0, Hs[s+1] = h after step s
  Tensor Hop;   // (T+1, B, H) recurrent GEMM operands h * rec_mask (rec dropout only)
  Tensor Cs;    // (T+1, B, H) LSTM cell states
  Tensor Aux;   // (T, B, H) per cell: LSTM act(c), GRU inner_h or r*h'
  Tensor Rec;   // (B, G*H) scratch for a recurrent GEMM result
  Tensor M;     // (T, B) step mask in processing order
  Tensor in_mask;   // (B, I) input dropout mask
  Tensor rec_mask;  // (B, H) recurrent dropout mask
  // backward
  Tensor dZ;    // (T, B, G*H) pre-activation gradients (input side)
  Tensor dR;    // (T, B, G*H) recurrent GEMM output gradients (GRU); else unused
  Tensor dX;     // (T, B, I) input gradient in processing order
  Tensor dh, dc;  // (B, H)
  Tensor dtmp;    // (B, H) scratch
  int num_state_inputs = 0;
  // The recurrent kernel as the loop's products read it (Recurrent::pack_weights).
  std::vector<ops::PanelMatrix> Wf, Wb;
  // Few rows in all (Recurrent::forward_impl): the input projection of each
  // step runs inside the time loop, on the kernel's gate columns Wk.
  bool fused_projection = false;
  std::vector<ops::PanelMatrix> Wk;

  // The GEMM operand of step s: Hop[s] with recurrent dropout, else Hs[s].
  const float* h_operand(int64_t s) const {
    return (rec_drop ? Hop.data() : Hs.data()) + s * B * H;
  }
  const float* mask_at(int64_t s) const { return has_mask ? M.data() + s * B : nullptr; }
};

}  // namespace seqnet::layers
