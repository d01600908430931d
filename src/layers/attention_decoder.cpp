#include "seqnet/layers/attention_decoder.hpp"
#include "seqnet/detail/ops/activations.hpp"
#include "seqnet/layers/serialization.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "seqnet/detail/ops/elementwise.hpp"
#include "seqnet/detail/ops/gemm.hpp"

namespace seqnet::layers {

namespace {

// Buffers of one call; time-major (step t first). Letters: B batch, T steps,
// I input features, U units, O output_dim.
struct AttentionCache : Cache {
  int64_t B = 0, T = 0, I = 0, U = 0, O = 0;
  bool has_mask = false;
  Tensor M;    // (B, T) mask (1 = attend)
  Tensor UX;   // (B, T, U) x U_a + b_a
  Tensor S;    // (T+1, B, U) s_0 .. s_T
  Tensor Y;    // (T+1, B, O) y_0 = 0 .. y_T
  Tensor TE;   // (T, B, T, U) tanh energies
  Tensor A;    // (T, B, T) attention weights
  Tensor C;    // (T, B, I) contexts
  Tensor R, Z, P;  // (T, B, U) gates and proposal
  Tensor RS;   // (T, B, U) r * s_{t-1}
  Tensor WS;   // (B, U) scratch: s W_a
  // backward scratch
  Tensor dS, dY, dC, dO, dRp, dZp, dPp, dRS, dWS, dUX, dA, dX;
};

// C (M, N) = A (M, K) . W (K, N) + beta C, all contiguous row-major.
void mm(const float* A, const float* W, float* C, int64_t M, int64_t N, int64_t K, float beta) {
  ops::gemm(false, false, M, N, K, 1.0f, A, K, W, N, beta, C, N);
}
// dA (M, K) += D (M, N) . W (K, N)^T
void mm_bt(const float* D, const float* W, float* dA, int64_t M, int64_t N, int64_t K) {
  ops::gemm(false, true, M, K, N, 1.0f, D, N, W, N, 1.0f, dA, K);
}
// dW (K, N) += A (M, K)^T . D (M, N)
void mm_at(const float* A, const float* D, float* dW, int64_t M, int64_t N, int64_t K) {
  ops::gemm(true, false, K, N, M, 1.0f, A, K, D, N, 1.0f, dW, N);
}

void add_bias(float* y, const Param& b, int64_t rows) {
  const int64_t n = b.value.size();
  ops::add_row_vector(y, rows, n, n, b.value.data());
}

// The weights of one affine map of the step's inputs:
// pre = y W + h U + ctx C + b, with h = s (or r * s for the proposal).
struct StepWeights {
  Param *W, *U, *C, *b;
};

// All weights, by their role in the equations (see the header).
struct DecoderWeights {
  Param *V_a, *W_a, *U_a, *b_a;
  StepWeights r, z, p, o;
  Param* W_s;
};

// out (B, N) = y (B, O) W (O, N) + h (B, U) U (U, N) + ctx (B, I) C (I, N) + b (N).
void step_affine(const float* y, const float* h, const float* ctx, const StepWeights& w, float* out, int64_t B,
                 int64_t N, int64_t O, int64_t U, int64_t I) {
  mm(y, w.W->value.data(), out, B, N, O, 0.0f);
  mm(h, w.U->value.data(), out, B, N, U, 1.0f);
  mm(ctx, w.C->value.data(), out, B, N, I, 1.0f);
  add_bias(out, *w.b, B);
}

// The weight gradients of step_affine from dout (B, N): dW += y^T dout,
// dU += h^T dout, dC += ctx^T dout, db += column sums of dout.
void step_affine_weight_grads(const float* y, const float* h, const float* ctx, const float* dout,
                              const StepWeights& w, int64_t B, int64_t N, int64_t O, int64_t U, int64_t I) {
  mm_at(y, dout, w.W->grad.data(), B, N, O);
  mm_at(h, dout, w.U->grad.data(), B, N, U);
  mm_at(ctx, dout, w.C->grad.data(), B, N, I);
  ops::add_column_sums(dout, B, N, N, w.b->grad.data());
}

// ---- forward

// Records the sizes and the mask (B, T) of a call, and sizes its buffers.
void prepare_forward(AttentionCache& c, int64_t B, int64_t T, int64_t I, int64_t U, int64_t O, const Tensor& mask) {
  c.B = B;
  c.T = T;
  c.I = I;
  c.U = U;
  c.O = O;
  c.has_mask = !mask.empty();
  if (c.has_mask) c.M = mask;
  ensure_shape(c.UX, {B, T, U});
  ensure_shape(c.S, {T + 1, B, U});
  ensure_shape(c.Y, {T + 1, B, O});
  ensure_shape(c.TE, {T, B, T, U});
  ensure_shape(c.A, {T, B, T});
  ensure_shape(c.C, {T, B, I});
  ensure_shape(c.R, {T, B, U});
  ensure_shape(c.Z, {T, B, U});
  ensure_shape(c.P, {T, B, U});
  ensure_shape(c.RS, {T, B, U});
  ensure_shape(c.WS, {B, U});
}

// What the steps start from, for x (B, T, I): UX = x U_a + b_a (B, T, U),
// s_0 = tanh(x_0 W_s) (B, U) and y_0 = 0 (B, O).
void forward_start(AttentionCache& c, const float* x, const DecoderWeights& w) {
  const int64_t B = c.B, T = c.T, I = c.I, U = c.U, O = c.O;
  // Precomputed part of the alignment model: x U_a + b_a over all steps.
  mm(x, w.U_a->value.data(), c.UX.data(), B * T, U, I, 0.0f);
  add_bias(c.UX.data(), *w.b_a, B * T);
  // s_0 = tanh(x_0 W_s); y_0 = 0.
  float* s0 = c.S.data();
  ops::gemm(false, false, B, U, I, 1.0f, x, T * I, w.W_s->value.data(), U, 0.0f, s0, U);
  ops::activate(ops::Act::Tanh, s0, s0, B * U);
  std::fill_n(c.Y.data(), B * O, 0.0f);
}

// Step t's attention over x (B, T, I) from its input state s (B, U): the
// tanh energies te (B, T, U), the weights a (B, T) and the context ctx (B, I).
void attend_forward(AttentionCache& c, const float* x, const DecoderWeights& w, int64_t t) {
  const int64_t B = c.B, T = c.T, I = c.I, U = c.U;
  const float* s = c.S.data() + t * B * U;
  float* te = c.TE.data() + t * B * T * U;
  float* a = c.A.data() + t * B * T;
  float* ctx = c.C.data() + t * B * I;
  const float* Va = w.V_a->value.data();
  // Alignment: e_j = V_a . tanh(s W_a + UX_j); a = softmax(e) over unmasked j.
  mm(s, w.W_a->value.data(), c.WS.data(), B, U, U, 0.0f);
  for (int64_t b = 0; b < B; ++b) {
    const float* ws = c.WS.data() + b * U;
    float* ab = a + b * T;
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < T; ++j) {
      float* tej = te + (b * T + j) * U;
      const float* ux = c.UX.data() + (b * T + j) * U;
      for (int64_t k = 0; k < U; ++k) tej[k] = ws[k] + ux[k];
      ops::activate(ops::Act::Tanh, tej, tej, U);
      float e = 0;
      for (int64_t k = 0; k < U; ++k) e += Va[k] * tej[k];
      const bool keep = !c.has_mask || c.M[b * T + j] != 0.0f;
      ab[j] = keep ? e : -std::numeric_limits<float>::infinity();
      m = std::max(m, ab[j]);
    }
    float sum = 0;
    for (int64_t j = 0; j < T; ++j) {
      ab[j] = std::isinf(m) ? 0.0f : std::exp(ab[j] - m);
      sum += ab[j];
    }
    const float inv = sum > 0 ? 1.0f / sum : 0.0f;
    float* cb = ctx + b * I;
    std::fill_n(cb, I, 0.0f);
    for (int64_t j = 0; j < T; ++j) {
      ab[j] *= inv;
      const float* xj = x + (b * T + j) * I;
      for (int64_t k = 0; k < I; ++k) cb[k] += ab[j] * xj[k];
    }
  }
}

// Step t's recurrence from y, s and ctx: the gates r, z, rs = r * s, the
// proposal p (each (B, U)) and the next state s_{t+1} (B, U).
void state_forward(AttentionCache& c, const DecoderWeights& w, ops::Act act, int64_t t) {
  const int64_t B = c.B, I = c.I, U = c.U, O = c.O;
  const float* s = c.S.data() + t * B * U;
  const float* y = c.Y.data() + t * B * O;
  const float* ctx = c.C.data() + t * B * I;
  // Gates: r, z from y, s, c.
  float* r = c.R.data() + t * B * U;
  float* z = c.Z.data() + t * B * U;
  float* p = c.P.data() + t * B * U;
  float* rs = c.RS.data() + t * B * U;
  step_affine(y, s, ctx, w.r, r, B, U, O, U, I);
  ops::activate(ops::Act::Sigmoid, r, r, B * U);
  step_affine(y, s, ctx, w.z, z, B, U, O, U, I);
  ops::activate(ops::Act::Sigmoid, z, z, B * U);
  for (int64_t i = 0; i < B * U; ++i) rs[i] = r[i] * s[i];
  step_affine(y, rs, ctx, w.p, p, B, U, O, U, I);
  ops::activate(act, p, p, B * U);
  float* s_next = c.S.data() + (t + 1) * B * U;
  for (int64_t i = 0; i < B * U; ++i) s_next[i] = (1.0f - z[i]) * s[i] + z[i] * p[i];
}

// Step t's output y_{t+1} (B, O) = softmax(y W_o + s U_o + c C_o + b_o),
// with s = s_{t-1}.
void output_forward(AttentionCache& c, const DecoderWeights& w, int64_t t) {
  const int64_t B = c.B, I = c.I, U = c.U, O = c.O;
  const float* s = c.S.data() + t * B * U;
  const float* y = c.Y.data() + t * B * O;
  const float* ctx = c.C.data() + t * B * I;
  float* y_next = c.Y.data() + (t + 1) * B * O;
  step_affine(y, s, ctx, w.o, y_next, B, O, O, U, I);
  ops::softmax_rows(y_next, y_next, B, O);
}

// ---- backward
// Within step t, dY holds the gradient reaching y_{t+1} from step t+1 and
// dS that reaching s_{t+1}; the step accumulates d s_t in dWS, d ctx in dC
// and d a in dA, and leaves d y_t in dY.

// Sizes the backward buffers and clears the gradients that flow back
// through the steps; dUX (B, T, U) starts at zero.
void prepare_backward(AttentionCache& c) {
  const int64_t B = c.B, T = c.T, I = c.I, U = c.U, O = c.O;
  ensure_shape(c.dS, {B, U});
  ensure_shape(c.dY, {B, O});
  ensure_shape(c.dC, {B, I});
  ensure_shape(c.dO, {B, O});
  ensure_shape(c.dRp, {B, U});
  ensure_shape(c.dZp, {B, U});
  ensure_shape(c.dPp, {B, U});
  ensure_shape(c.dRS, {B, U});
  ensure_shape(c.dWS, {B, U});
  ensure_shape(c.dA, {B, T});
  c.dUX = Tensor({B, T, U});
  c.dS.fill(0.0f);
  c.dY.fill(0.0f);
}

// Step t's output y_{t+1} = softmax(o): adds the step's slice of the output
// gradient d (B, T, O) to dY (d is null when the outputs are the attention
// weights), then o = y W_o + s U_o + ctx C_o + b_o gives the weight
// gradients, d s, d ctx, and the new dY := do W_o^T.
void output_backward(AttentionCache& c, const DecoderWeights& w, const float* d, int64_t t) {
  const int64_t B = c.B, T = c.T, I = c.I, U = c.U, O = c.O;
  const float* s = c.S.data() + t * B * U;
  const float* y = c.Y.data() + t * B * O;
  const float* y_next = c.Y.data() + (t + 1) * B * O;
  const float* ctx = c.C.data() + t * B * I;
  float* ds_prev = c.dWS.data();
  float* dy_prev = c.dO.data();  // d y_t (this step's input) accumulates into dY afterwards
  if (d != nullptr) {
    for (int64_t b = 0; b < B; ++b)
      for (int64_t k = 0; k < O; ++k) c.dY[b * O + k] += d[(b * T + t) * O + k];
  }
  ops::softmax_rows_backward(y_next, c.dY.data(), dy_prev, B, O);  // dy_prev := do
  const float* dout_o = dy_prev;
  step_affine_weight_grads(y, s, ctx, dout_o, w.o, B, O, O, U, I);
  mm_bt(dout_o, w.o.U->value.data(), ds_prev, B, O, U);
  mm_bt(dout_o, w.o.C->value.data(), c.dC.data(), B, O, I);
  // new dY (gradient reaching y_t) starts with do . W_o^T
  Tensor& dYn = c.dY;  // overwrite after using dout_o
  std::fill_n(dYn.data(), B * O, 0.0f);
  mm_bt(dout_o, w.o.W->value.data(), dYn.data(), B, O, O);
}

// Step t's state s_{t+1} = (1 - z) s + z p from dS: the pre-activation
// gradients of z (dZp) and of the proposal p = act(y W_p + rs U_p + ctx C_p
// + b_p) (dPp), p's weight gradients, d y, d ctx, d s, and through
// rs = r * s the pre-activation gradient of r (dRp).
void state_backward(AttentionCache& c, const DecoderWeights& w, ops::Act act, int64_t t) {
  const int64_t B = c.B, I = c.I, U = c.U, O = c.O;
  const float* s = c.S.data() + t * B * U;
  const float* y = c.Y.data() + t * B * O;
  const float* ctx = c.C.data() + t * B * I;
  const float* r = c.R.data() + t * B * U;
  const float* z = c.Z.data() + t * B * U;
  const float* p = c.P.data() + t * B * U;
  const float* rs = c.RS.data() + t * B * U;
  float* ds_prev = c.dWS.data();
  float* dYn = c.dY.data();
  for (int64_t i = 0; i < B * U; ++i) {
    const float dsn = c.dS[i];
    c.dZp[i] = dsn * (p[i] - s[i]) * z[i] * (1.0f - z[i]);
    c.dPp[i] = dsn * z[i];
    ds_prev[i] += dsn * (1.0f - z[i]);
  }
  ops::activate_backward(act, p, c.dPp.data(), c.dPp.data(), B * U);
  // proposal: p_pre = y W_p + rs U_p + c C_p + b_p
  step_affine_weight_grads(y, rs, ctx, c.dPp.data(), w.p, B, U, O, U, I);
  mm_bt(c.dPp.data(), w.p.W->value.data(), dYn, B, U, O);
  mm_bt(c.dPp.data(), w.p.C->value.data(), c.dC.data(), B, U, I);
  std::fill_n(c.dRS.data(), B * U, 0.0f);
  mm_bt(c.dPp.data(), w.p.U->value.data(), c.dRS.data(), B, U, U);
  for (int64_t i = 0; i < B * U; ++i) {
    c.dRp[i] = c.dRS[i] * s[i] * r[i] * (1.0f - r[i]);
    ds_prev[i] += c.dRS[i] * r[i];
  }
}

// Step t's z and r gates from dZp and dRp: their weight gradients, and
// d y, d s, d ctx.
void gates_backward(AttentionCache& c, const DecoderWeights& w, int64_t t) {
  const int64_t B = c.B, I = c.I, U = c.U, O = c.O;
  const float* s = c.S.data() + t * B * U;
  const float* y = c.Y.data() + t * B * O;
  const float* ctx = c.C.data() + t * B * I;
  float* ds_prev = c.dWS.data();
  float* dYn = c.dY.data();
  const StepWeights* const gates[2] = {&w.z, &w.r};
  const float* dpre[2] = {c.dZp.data(), c.dRp.data()};
  for (int g = 0; g < 2; ++g) {
    const StepWeights& gw = *gates[g];
    step_affine_weight_grads(y, s, ctx, dpre[g], gw, B, U, O, U, I);
    mm_bt(dpre[g], gw.W->value.data(), dYn, B, U, O);
    mm_bt(dpre[g], gw.U->value.data(), ds_prev, B, U, U);
    mm_bt(dpre[g], gw.C->value.data(), c.dC.data(), B, U, I);
  }
}

// Step t's context c = sum_j a_j x_j from dC: d x into dx (B, T, I) and
// d a into dA (B, T), plus the step's slice of the output gradient d
// (B, T, T) when the outputs are the attention weights (else d is null).
void context_backward(AttentionCache& c, const float* x, float* dx, const float* d, int64_t t) {
  const int64_t B = c.B, T = c.T, I = c.I;
  const float* a = c.A.data() + t * B * T;
  for (int64_t b = 0; b < B; ++b) {
    const float* dcb = c.dC.data() + b * I;
    for (int64_t j = 0; j < T; ++j) {
      const float* xj = x + (b * T + j) * I;
      float* dxj = dx + (b * T + j) * I;
      float acc = 0;
      const float aj = a[b * T + j];
      for (int64_t k = 0; k < I; ++k) {
        acc += dcb[k] * xj[k];
        dxj[k] += aj * dcb[k];
      }
      c.dA[b * T + j] = acc;
    }
  }
  if (d != nullptr) {
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < T; ++j) c.dA[b * T + j] += d[(b * T + t) * T + j];
  }
}

// Step t's attention from dA: a = softmax(e), e_j = V_a . te_j,
// te_j = tanh(s W_a + UX_j) give dV_a, dUX, dW_a and d s.
void attend_backward(AttentionCache& c, const DecoderWeights& w, int64_t t) {
  const int64_t B = c.B, T = c.T, U = c.U;
  const float* s = c.S.data() + t * B * U;
  const float* te = c.TE.data() + t * B * T * U;
  const float* a = c.A.data() + t * B * T;
  float* ds_prev = c.dWS.data();
  float* dVa = w.V_a->grad.data();
  const float* Va = w.V_a->value.data();
  float* dws = c.dRS.data();  // reuse as d(s W_a)
  std::fill_n(dws, B * U, 0.0f);
  for (int64_t b = 0; b < B; ++b) {
    const float* ab = a + b * T;
    float* dab = c.dA.data() + b * T;
    float dot = 0;
    for (int64_t j = 0; j < T; ++j) dot += ab[j] * dab[j];
    for (int64_t j = 0; j < T; ++j) {
      const float de = ab[j] * (dab[j] - dot);
      if (de == 0.0f) continue;
      const float* tej = te + (b * T + j) * U;
      float* dux = c.dUX.data() + (b * T + j) * U;
      float* dwsb = dws + b * U;
      for (int64_t k = 0; k < U; ++k) {
        dVa[k] += de * tej[k];
        const float dpre = de * Va[k] * (1.0f - tej[k] * tej[k]);
        dux[k] += dpre;
        dwsb[k] += dpre;
      }
    }
  }
  mm_at(s, dws, w.W_a->grad.data(), B, U, U);
  mm_bt(dws, w.W_a->value.data(), ds_prev, B, U, U);
}

// After the steps, with dS = d s_0: s_0 = tanh(x_0 W_s) and
// UX = x U_a + b_a give dW_s, dU_a, db_a, and their part of dx (B, T, I).
void start_backward(AttentionCache& c, const float* x, float* dx, const DecoderWeights& w) {
  const int64_t B = c.B, T = c.T, I = c.I, U = c.U;
  // s_0 = tanh(x_0 W_s): dS now holds d s_0.
  const float* s0 = c.S.data();
  for (int64_t i = 0; i < B * U; ++i) c.dS[i] *= 1.0f - s0[i] * s0[i];
  ops::gemm(true, false, I, U, B, 1.0f, x, T * I, c.dS.data(), U, 1.0f, w.W_s->grad.data(), U);
  ops::gemm(false, true, B, I, U, 1.0f, c.dS.data(), U, w.W_s->value.data(), U, 1.0f, dx, T * I);
  // UX = x U_a + b_a
  mm_at(x, c.dUX.data(), w.U_a->grad.data(), B * T, U, I);
  ops::add_column_sums(c.dUX.data(), B * T, U, U, w.b_a->grad.data());
  mm_bt(c.dUX.data(), w.U_a->value.data(), dx, B * T, U, I);
}

}  // namespace

AttentionDecoder::AttentionDecoder(int64_t units, int64_t output_dim, AttentionDecoderOptions options)
    : Layer("AttentionDecoder", options.name), units_(units), output_dim_(output_dim), options_(std::move(options)) {
  if (units <= 0) {
    fail_value(fmt::format("received an invalid value for argument `units`, expected a positive integer, got {}",
                           units));
  }
  if (output_dim <= 0) {
    fail_value(fmt::format("received an invalid value for argument `output_dim`, expected a positive integer, got {}",
                           output_dim));
  }
  act_ = ops::parse_activation(options_.activation, describe() + ": argument `activation`");
  if (!ops::is_elementwise(act_)) fail_value("softmax cannot be the proposal activation");
  options_.kernel_initializer.validate(describe() + ": argument `kernel_initializer`");
  options_.recurrent_initializer.validate(describe() + ": argument `recurrent_initializer`");
  options_.bias_initializer.validate(describe() + ": argument `bias_initializer`");
  options_.kernel_regularizer.validate(describe() + ": argument `kernel_regularizer`");
  options_.bias_regularizer.validate(describe() + ": argument `bias_regularizer`");
}

std::unique_ptr<Cache> AttentionDecoder::make_cache() const { return std::make_unique<AttentionCache>(); }

std::vector<Shape> AttentionDecoder::infer_shapes(const std::vector<Shape>& in) const {
  expect_input_count(in.size(), 1, 1);
  const Shape& x = in[0];
  const int64_t I = U_a_ != nullptr ? U_a_->value.dim(0) : None;
  if (x.size() != 3) {
    fail_shape(fmt::format("expected input of shape (batch, time, {}), got {}",
                           I == None ? std::string("features") : std::to_string(I), shape_str(x)));
  }
  if (x[2] == None) fail_shape(fmt::format("the feature dimension of the input must be known, got {}", shape_str(x)));
  if (I != None && x[2] != I) fail_shape(fmt::format("expected input of shape (batch, time, {}), got {}", I, shape_str(x)));
  if (options_.return_probabilities) return {{x[0], x[1], x[1]}};
  return {{x[0], x[1], output_dim_}};
}

void AttentionDecoder::build(const std::vector<Shape>& in) {
  const int64_t I = in[0][2], U = units_, O = output_dim_;
  const auto& k = options_.kernel_initializer;
  const auto& r = options_.recurrent_initializer;
  const auto& b = options_.bias_initializer;
  const auto& kr = options_.kernel_regularizer;
  const auto& br = options_.bias_regularizer;
  V_a_ = &add_param("V_a", {U}, k, kr);
  W_a_ = &add_param("W_a", {U, U}, k, kr);
  U_a_ = &add_param("U_a", {I, U}, k, kr);
  b_a_ = &add_param("b_a", {U}, b, br);
  C_r_ = &add_param("C_r", {I, U}, r, kr);
  U_r_ = &add_param("U_r", {U, U}, r, kr);
  W_r_ = &add_param("W_r", {O, U}, r, kr);
  b_r_ = &add_param("b_r", {U}, b, br);
  C_z_ = &add_param("C_z", {I, U}, r, kr);
  U_z_ = &add_param("U_z", {U, U}, r, kr);
  W_z_ = &add_param("W_z", {O, U}, r, kr);
  b_z_ = &add_param("b_z", {U}, b, br);
  C_p_ = &add_param("C_p", {I, U}, r, kr);
  U_p_ = &add_param("U_p", {U, U}, r, kr);
  W_p_ = &add_param("W_p", {O, U}, r, kr);
  b_p_ = &add_param("b_p", {U}, b, br);
  C_o_ = &add_param("C_o", {I, O}, r, kr);
  U_o_ = &add_param("U_o", {U, O}, r, kr);
  W_o_ = &add_param("W_o", {O, O}, r, kr);
  b_o_ = &add_param("b_o", {O}, b, br);
  W_s_ = &add_param("W_s", {I, U}, r, kr);
}

std::vector<Tensor> AttentionDecoder::forward_impl(const std::vector<Tensor>& in, const CallArgs& args,
                                                   Cache* cache) {
  const Tensor& x = in[0];
  infer_shapes({x.shape()});
  if (cache == nullptr) {
    if (!inference_cache_) inference_cache_ = make_cache();
    cache = inference_cache_.get();
  }
  auto& c = static_cast<AttentionCache&>(*cache);
  const int64_t B = x.dim(0), T = x.dim(1), I = x.dim(2), U = units_, O = output_dim_;
  prepare_forward(c, B, T, I, U, O, args.mask);
  const DecoderWeights w{V_a_, W_a_, U_a_, b_a_, {W_r_, U_r_, C_r_, b_r_}, {W_z_, U_z_, C_z_, b_z_},
                         {W_p_, U_p_, C_p_, b_p_}, {W_o_, U_o_, C_o_, b_o_}, W_s_};
  forward_start(c, x.data(), w);
  for (int64_t t = 0; t < T; ++t) {
    attend_forward(c, x.data(), w, t);
    state_forward(c, w, act_, t);
    output_forward(c, w, t);
  }

  if (options_.return_probabilities) {
    Tensor out = Tensor::uninitialized({B, T, T});
    ops::swap_axes01(c.A.data(), out.data(), T, B, T);  // (T, B, T) -> (B, T, T)
    return {out};
  }
  Tensor out = Tensor::uninitialized({B, T, O});
  ops::swap_axes01(c.Y.data() + B * O, out.data(), T, B, O);  // (T, B, O) -> (B, T, O)
  return {out};
}

std::vector<Tensor> AttentionDecoder::backward_impl(const std::vector<Tensor>& dout, Cache& cache) {
  auto& c = static_cast<AttentionCache&>(cache);
  const Tensor& x = c.inputs[0];
  const int64_t B = c.B, T = c.T, I = c.I, U = c.U, O = c.O;
  const Shape out_shape = options_.return_probabilities ? Shape{B, T, T} : Shape{B, T, O};
  Tensor dx(x.shape());
  if (!has_grad(dout[0], out_shape, 0)) return {dx};
  const float* d = dout[0].data();
  const bool probs = options_.return_probabilities;
  prepare_backward(c);
  const DecoderWeights w{V_a_, W_a_, U_a_, b_a_, {W_r_, U_r_, C_r_, b_r_}, {W_z_, U_z_, C_z_, b_z_},
                         {W_p_, U_p_, C_p_, b_p_}, {W_o_, U_o_, C_o_, b_o_}, W_s_};
  for (int64_t t = T - 1; t >= 0; --t) {
    std::fill_n(c.dC.data(), B * I, 0.0f);
    std::fill_n(c.dA.data(), B * T, 0.0f);
    float* ds_prev = c.dWS.data();  // accumulates d s_t (this step's input state)
    std::fill_n(ds_prev, B * U, 0.0f);
    output_backward(c, w, probs ? nullptr : d, t);
    state_backward(c, w, act_, t);
    gates_backward(c, w, t);
    context_backward(c, x.data(), dx.data(), probs ? d : nullptr, t);
    attend_backward(c, w, t);
    // Hand the gradients of s_t and y_t to step t-1.
    std::copy_n(ds_prev, B * U, c.dS.data());
  }
  start_backward(c, x.data(), dx.data(), w);
  return {dx};
}

}  // namespace seqnet::layers

// ---------------------------------------------------------------- config

namespace seqnet::layers {

nlohmann::json AttentionDecoder::get_config() const {
  nlohmann::json c = base_layer_config(*this);
  c["units"] = units_;
  c["output_dim"] = output_dim_;
  c["activation"] = ops::activation_name(act_);
  c["return_probabilities"] = options_.return_probabilities;
  c["kernel_initializer"] = initializer_to_keras(options_.kernel_initializer);
  c["recurrent_initializer"] = initializer_to_keras(options_.recurrent_initializer);
  c["bias_initializer"] = initializer_to_keras(options_.bias_initializer);
  c["kernel_regularizer"] = regularizer_to_keras(options_.kernel_regularizer);
  c["bias_regularizer"] = regularizer_to_keras(options_.bias_regularizer);
  return c;
}

std::shared_ptr<Layer> AttentionDecoder::from_config(const ConfigReader& r) {
  r.expect_common();
  r.expect("go_backwards", false, "AttentionDecoder runs forwards");
  r.expect("stateful", false, "AttentionDecoder keeps no state");
  r.expect("return_state", false, "AttentionDecoder returns no states");
  r.expect_no_constraints({"kernel_constraint", "recurrent_constraint", "bias_constraint"});
  AttentionDecoderOptions o;
  o.activation = r.get_activation("activation", o.activation);
  o.return_probabilities = r.get_bool("return_probabilities", o.return_probabilities);
  o.kernel_initializer = r.get_initializer("kernel_initializer", o.kernel_initializer);
  o.recurrent_initializer = r.get_initializer("recurrent_initializer", o.recurrent_initializer);
  o.bias_initializer = r.get_initializer("bias_initializer", o.bias_initializer);
  o.kernel_regularizer = r.get_regularizer("kernel_regularizer");
  o.bias_regularizer = r.get_regularizer("bias_regularizer");
  o.name = r.name();
  return std::make_shared<AttentionDecoder>(r.get_int("units", 1, kMaxConfigDim), r.get_int("output_dim", 1, kMaxConfigDim),
                                            o);
}
SEQNET_REGISTER_LAYER(AttentionDecoder);

}  // namespace seqnet::layers
