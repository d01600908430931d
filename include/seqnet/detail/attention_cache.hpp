#pragma once
// The per-call buffers of Keras's Attention and AdditiveAttention (what
// BaseDenseAttention's score hooks read and write). Library internals.

#include <cstdint>

#include "seqnet/layers/attention.hpp"
#include "seqnet/tensor.hpp"

namespace seqnet::layers {

// Per-call buffers. Letters: B batch, Tq query steps, Tv value steps, D
// query/key features, Dv value features.
struct DenseAttentionCache : Cache {
  int64_t B = 0, Tq = 0, Tv = 0, D = 0, Dv = 0;
  bool has_qmask = false, has_drop = false;
  Tensor allowed;  // (B, Tq, Tv) 1 where a value step may be attended
  Tensor qmask;    // (B, Tq) query mask
  Tensor S;        // (B, Tq, Tv) raw scores -> their gradient in backward
  Tensor QK;       // (B, Tq, Tv) q . k before the scale (dot with use_scale)
  Tensor Th;       // (B, Tq, Tv, D) tanh terms (concat, additive)
  Tensor A;        // (B, Tq, Tv) softmax weights
  Tensor Ad;       // (B, Tq, Tv) weights after dropout (== A without dropout)
  Tensor drop;     // (B, Tq, Tv) dropout multipliers 0 or 1 / (1 - rate)
};

}  // namespace seqnet::layers
