#include "seqnet/detail/ops/recurrent_kernels.hpp"

#include <algorithm>
#include <cstring>

namespace seqnet::ops {

namespace {

inline bool masked(const float* mask, int64_t b) { return mask != nullptr && mask[b] == 0.0f; }

inline void copy_row(const float* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

// dst = dh (+ dout row); the total gradient of a step's new state.
inline void total_grad(float* dst, const float* dh, const float* dout_row, int64_t H) {
  if (dout_row != nullptr) {
    for (int64_t j = 0; j < H; ++j) dst[j] = dh[j] + dout_row[j];
  } else if (dst != dh) {
    copy_row(dh, dst, H);
  }
}

inline void write_dropped(const float* rec_mask, float* h_dropped, const float* h, int64_t b, int64_t H,
                          int64_t L) {
  if (rec_mask == nullptr) return;
  const float* m = rec_mask + b * L;
  float* d = h_dropped + b * L;
  const float* hr = h + b * L;
  for (int64_t j = 0; j < H; ++j) d[j] = hr[j] * m[j];
}

// Whether a kernel can use the fused paths with the derivatives inlined:
// the Keras defaults (tanh cell activation, sigmoid gates).
inline bool default_acts(Act act, Act rec_act) { return act == Act::Tanh && rec_act == Act::Sigmoid; }

// One LSTM row of backward with tanh/sigmoid, in a single vectorizable pass.
// (GCC 12 vectorizes this only with restrict-qualified parameters.) L is
// the gate stride.
template <bool HasDout>
void lstm_backward_row(int64_t H, int64_t L, float* __restrict dh, float* __restrict dc, float* __restrict dz,
                       const float* __restrict dout, const float* __restrict z, const float* __restrict tc,
                       const float* __restrict cp) {
  for (int64_t j = 0; j < H; ++j) {
    float d = dh[j];
    if constexpr (HasDout) d += dout[j];
    const float i = z[j], f = z[L + j], g = z[2 * L + j], o = z[3 * L + j], t = tc[j];
    const float dct = dc[j] + d * o * (1.0f - t * t);
    dz[j] = dct * g * i * (1.0f - i);
    dz[L + j] = dct * cp[j] * f * (1.0f - f);
    dz[2 * L + j] = dct * i * (1.0f - g * g);
    dz[3 * L + j] = d * t * o * (1.0f - o);
    dc[j] = dct * f;
    dh[j] = 0.0f;
  }
}

// One GRU (reset_after) row of backward with tanh/sigmoid.
template <bool HasDout>
void gru_backward_row(int64_t H, int64_t L, float* __restrict dh, float* __restrict dx, float* __restrict di,
                      const float* __restrict dout, const float* __restrict x, const float* __restrict ih,
                      const float* __restrict hp) {
  for (int64_t j = 0; j < H; ++j) {
    float d = dh[j];
    if constexpr (HasDout) d += dout[j];
    const float zz = x[j], r = x[L + j], hh = x[2 * L + j];
    const float dz = d * (hp[j] - hh) * zz * (1.0f - zz);
    const float dhh = d * (1.0f - zz) * (1.0f - hh * hh);
    const float dr = dhh * ih[j] * r * (1.0f - r);
    dx[j] = dz;
    dx[L + j] = dr;
    dx[2 * L + j] = dhh;
    di[j] = dz;
    di[L + j] = dr;
    di[2 * L + j] = dhh * r;
    dh[j] = d * zz;
  }
}

}  // namespace

// Every kernel works on H units whose rows lie L = stride(a) floats apart
// (the gates of a (B, G*H) block also L apart): a block of a layer's units
// when a.ld is set, the whole layer (L = H) otherwise.
template <class Args>
inline int64_t stride(const Args& a) {
  return a.ld > 0 ? a.ld : a.H;
}

void lstm_step_forward(const LSTMStepForward& a) {
  const int64_t H = a.H, L = stride(a), G = 4 * L;
  if (a.mask == nullptr) {
    // Whole-block passes: gate activations over all rows, then the cell.
    const int64_t B = a.B;
    activate_rows(a.rec_act, a.z, B, L == H ? 2 * H : H, G);  // i (and f when adjacent)
    if (L != H) activate_rows(a.rec_act, a.z + L, B, H, G);   // f
    activate_rows(a.act, a.z + 2 * L, B, H, G);               // g
    activate_rows(a.rec_act, a.z + 3 * L, B, H, G);           // o
    for (int64_t b = 0; b < B; ++b) {
      const float* __restrict z = a.z + b * G;
      const float* __restrict cp = a.c_prev + b * L;
      float* __restrict c = a.c + b * L;
      for (int64_t j = 0; j < H; ++j) c[j] = z[L + j] * cp[j] + z[j] * z[2 * L + j];
    }
    if (L == H) {
      activate(a.act, a.c, a.tc, B * H);
    } else {
      for (int64_t b = 0; b < B; ++b) activate(a.act, a.c + b * L, a.tc + b * L, H);
    }
    for (int64_t b = 0; b < B; ++b) {
      const float* __restrict zo = a.z + b * G + 3 * L;
      const float* __restrict tc = a.tc + b * L;
      float* __restrict h = a.h + b * L;
      for (int64_t j = 0; j < H; ++j) h[j] = zo[j] * tc[j];
      write_dropped(a.rec_mask, a.h_dropped, a.h, b, H, L);
    }
    return;
  }
  for (int64_t b = 0; b < a.B; ++b) {
    const float* cp = a.c_prev + b * L;
    float* h = a.h + b * L;
    float* c = a.c + b * L;
    float* tc = a.tc + b * L;
    if (masked(a.mask, b)) {
      copy_row(a.h_prev + b * L, h, H);
      copy_row(cp, c, H);
      std::fill_n(tc, H, 0.0f);
    } else {
      float* z = a.z + b * G;
      activate(a.rec_act, z, z, H);                  // i
      activate(a.rec_act, z + L, z + L, H);          // f
      activate(a.act, z + 2 * L, z + 2 * L, H);      // g
      activate(a.rec_act, z + 3 * L, z + 3 * L, H);  // o
      const float* zi = z;
      const float* zf = z + L;
      const float* zg = z + 2 * L;
      for (int64_t j = 0; j < H; ++j) c[j] = zf[j] * cp[j] + zi[j] * zg[j];
      activate(a.act, c, tc, H);
      const float* zo = z + 3 * L;
      for (int64_t j = 0; j < H; ++j) h[j] = zo[j] * tc[j];
    }
    write_dropped(a.rec_mask, a.h_dropped, a.h, b, H, L);
  }
}

void lstm_step_backward(const LSTMStepBackward& a) {
  const int64_t H = a.H, L = stride(a), G = 4 * L;
  for (int64_t b = 0; b < a.B; ++b) {
    float* dh = a.dh + b * L;
    float* dc = a.dc + b * L;
    float* dz = a.dz + b * G;
    const float* dout_row = a.dout != nullptr ? a.dout + b * a.dout_ld : nullptr;
    if (!masked(a.mask, b) && default_acts(a.act, a.rec_act)) {
      const float* z = a.z + b * G;
      if (dout_row != nullptr) {
        lstm_backward_row<true>(H, L, dh, dc, dz, dout_row, z, a.tc + b * L, a.c_prev + b * L);
      } else {
        lstm_backward_row<false>(H, L, dh, dc, dz, nullptr, z, a.tc + b * L, a.c_prev + b * L);
      }
      continue;
    }
    total_grad(dh, dh, dout_row, H);
    if (masked(a.mask, b)) {
      // State carried unchanged: dh and dc pass to the previous step as they are.
      for (int k = 0; k < 4; ++k) std::fill_n(dz + k * L, H, 0.0f);
      continue;
    }
    const float* z = a.z + b * G;
    const float* zi = z;
    const float* zf = z + L;
    const float* zg = z + 2 * L;
    const float* zo = z + 3 * L;
    const float* tc = a.tc + b * L;
    const float* cp = a.c_prev + b * L;
    float* dzi = dz;
    float* dzf = dz + L;
    float* dzg = dz + 2 * L;
    float* dzo = dz + 3 * L;
    // do = dh * act(c) (into dzo, activated below); dtc = dh * o (into dzg scratch).
    for (int64_t j = 0; j < H; ++j) {
      dzo[j] = dh[j] * tc[j];
      dzg[j] = dh[j] * zo[j];
    }
    activate_backward(a.act, tc, dzg, dzg, H);  // d act(c) -> d c
    for (int64_t j = 0; j < H; ++j) {
      const float dct = dc[j] + dzg[j];
      dzi[j] = dct * zg[j];
      dzg[j] = dct * zi[j];
      dzf[j] = dct * cp[j];
      dc[j] = dct * zf[j];
      dh[j] = 0.0f;
    }
    activate_backward(a.rec_act, zi, dzi, dzi, H);  // i
    activate_backward(a.rec_act, zf, dzf, dzf, H);  // f
    activate_backward(a.act, zg, dzg, dzg, H);
    activate_backward(a.rec_act, zo, dzo, dzo, H);
  }
}

void gru_step_forward(const GRUStepForward& a) {
  const int64_t H = a.H, L = stride(a), G = 3 * L;
  // The recurrent bias of these units (its gates also L apart).
  const int64_t RL = L;
  const float* rb = a.rec_bias;
  auto add_inner = [&](float* __restrict x, const float* __restrict in, float* __restrict ih) {
    if (rb != nullptr) {
      for (int64_t j = 0; j < H; ++j) x[j] += in[j] + rb[j];
      for (int64_t j = 0; j < H; ++j) x[L + j] += in[L + j] + rb[RL + j];
      for (int64_t j = 0; j < H; ++j) ih[j] = in[2 * L + j] + rb[2 * RL + j];
    } else {
      for (int64_t j = 0; j < H; ++j) x[j] += in[j];
      for (int64_t j = 0; j < H; ++j) x[L + j] += in[L + j];
      for (int64_t j = 0; j < H; ++j) ih[j] = in[2 * L + j];
    }
  };
  if (a.mask == nullptr) {
    const int64_t B = a.B;
    for (int64_t b = 0; b < B; ++b) add_inner(a.x + b * G, a.inner + b * G, a.inner_h + b * L);
    activate_rows(a.rec_act, a.x, B, L == H ? 2 * H : H, G);  // z (and r when adjacent)
    if (L != H) activate_rows(a.rec_act, a.x + L, B, H, G);   // r
    for (int64_t b = 0; b < B; ++b) {
      float* __restrict x = a.x + b * G;
      const float* __restrict ih = a.inner_h + b * L;
      for (int64_t j = 0; j < H; ++j) x[2 * L + j] += x[L + j] * ih[j];
    }
    activate_rows(a.act, a.x + 2 * L, B, H, G);  // hh
    for (int64_t b = 0; b < B; ++b) {
      const float* __restrict x = a.x + b * G;
      const float* __restrict hp = a.h_prev + b * L;
      float* __restrict h = a.h + b * L;
      for (int64_t j = 0; j < H; ++j) h[j] = x[j] * hp[j] + (1.0f - x[j]) * x[2 * L + j];
      write_dropped(a.rec_mask, a.h_dropped, a.h, b, H, L);
    }
    return;
  }
  for (int64_t b = 0; b < a.B; ++b) {
    const float* hp = a.h_prev + b * L;
    float* h = a.h + b * L;
    if (masked(a.mask, b)) {
      copy_row(hp, h, H);
      std::fill_n(a.inner_h + b * L, H, 0.0f);
    } else {
      float* x = a.x + b * G;
      float* ih = a.inner_h + b * L;
      add_inner(x, a.inner + b * G, ih);
      activate(a.rec_act, x, x, H);          // z
      activate(a.rec_act, x + L, x + L, H);  // r
      float* zz = x;
      float* r = x + L;
      float* hh = x + 2 * L;
      for (int64_t j = 0; j < H; ++j) hh[j] += r[j] * ih[j];
      activate(a.act, hh, hh, H);
      for (int64_t j = 0; j < H; ++j) h[j] = zz[j] * hp[j] + (1.0f - zz[j]) * hh[j];
    }
    write_dropped(a.rec_mask, a.h_dropped, a.h, b, H, L);
  }
}

void gru_step_backward(const GRUStepBackward& a) {
  const int64_t H = a.H, L = stride(a), G = 3 * L;
  for (int64_t b = 0; b < a.B; ++b) {
    float* dh = a.dh + b * L;
    float* dx = a.dx + b * G;
    float* di = a.dinner + b * G;
    const float* dout_row = a.dout != nullptr ? a.dout + b * a.dout_ld : nullptr;
    if (!masked(a.mask, b) && default_acts(a.act, a.rec_act)) {
      const float* x = a.x + b * G;
      if (dout_row != nullptr) {
        gru_backward_row<true>(H, L, dh, dx, di, dout_row, x, a.inner_h + b * L, a.h_prev + b * L);
      } else {
        gru_backward_row<false>(H, L, dh, dx, di, nullptr, x, a.inner_h + b * L, a.h_prev + b * L);
      }
      continue;
    }
    total_grad(dh, dh, dout_row, H);
    if (masked(a.mask, b)) {
      for (int k = 0; k < 3; ++k) {
        std::fill_n(dx + k * L, H, 0.0f);
        std::fill_n(di + k * L, H, 0.0f);
      }
      continue;
    }
    const float* x = a.x + b * G;
    const float* zz = x;
    const float* r = x + L;
    const float* hh = x + 2 * L;
    const float* ih = a.inner_h + b * L;
    const float* hp = a.h_prev + b * L;
    float* dz = dx;
    float* dr = dx + L;
    float* dhh = dx + 2 * L;
    for (int64_t j = 0; j < H; ++j) {
      dz[j] = dh[j] * (hp[j] - hh[j]);
      dhh[j] = dh[j] * (1.0f - zz[j]);
      dh[j] = dh[j] * zz[j];
    }
    activate_backward(a.act, hh, dhh, dhh, H);
    for (int64_t j = 0; j < H; ++j) {
      dr[j] = dhh[j] * ih[j];
      di[2 * L + j] = dhh[j] * r[j];
    }
    activate_backward(a.rec_act, zz, dz, dz, H);  // z
    activate_backward(a.rec_act, r, dr, dr, H);   // r
    copy_row(dz, di, H);
    copy_row(dr, di + L, H);
  }
}

void gru_v1_step_forward_stage1(const GRUV1StepForward& a) {
  const int64_t H = a.H, L = stride(a), G = 3 * L;
  for (int64_t b = 0; b < a.B; ++b) {
    float* rh = a.rh + b * L;
    if (masked(a.mask, b)) {
      std::fill_n(rh, H, 0.0f);
      continue;
    }
    float* x = a.x + b * G;
    activate(a.rec_act, x, x, H);
    activate(a.rec_act, x + L, x + L, H);
    const float* r = x + L;
    const float* ho = a.h_operand + b * L;
    for (int64_t j = 0; j < H; ++j) rh[j] = r[j] * ho[j];
  }
}

void gru_v1_step_forward_stage2(const GRUV1StepForward& a) {
  const int64_t H = a.H, L = stride(a), G = 3 * L;
  for (int64_t b = 0; b < a.B; ++b) {
    const float* hp = a.h_prev + b * L;
    float* h = a.h + b * L;
    if (masked(a.mask, b)) {
      copy_row(hp, h, H);
    } else {
      float* x = a.x + b * G;
      float* hh = x + 2 * L;
      activate(a.act, hh, hh, H);
      const float* zz = x;
      for (int64_t j = 0; j < H; ++j) h[j] = zz[j] * hp[j] + (1.0f - zz[j]) * hh[j];
    }
    write_dropped(a.rec_mask, a.h_dropped, a.h, b, H, L);
  }
}

void gru_v1_step_backward_stage1(const GRUV1StepBackward& a) {
  const int64_t H = a.H, L = stride(a), G = 3 * L;
  for (int64_t b = 0; b < a.B; ++b) {
    float* dh = a.dh + b * L;
    float* dx = a.dx + b * G;
    const float* dout_row = a.dout != nullptr ? a.dout + b * a.dout_ld : nullptr;
    total_grad(dh, dh, dout_row, H);
    if (masked(a.mask, b)) {
      for (int k = 0; k < 3; ++k) std::fill_n(dx + k * L, H, 0.0f);
      continue;
    }
    const float* x = a.x + b * G;
    const float* zz = x;
    const float* hh = x + 2 * L;
    const float* hp = a.h_prev + b * L;
    float* dz = dx;
    float* dhh = dx + 2 * L;
    for (int64_t j = 0; j < H; ++j) {
      dz[j] = dh[j] * (hp[j] - hh[j]);
      dhh[j] = dh[j] * (1.0f - zz[j]);
      dh[j] = dh[j] * zz[j];
    }
    activate_backward(a.rec_act, zz, dz, dz, H);
    activate_backward(a.act, hh, dhh, dhh, H);
  }
}

void gru_v1_step_backward_stage2(const GRUV1StepBackward& a) {
  const int64_t H = a.H, L = stride(a), G = 3 * L;
  for (int64_t b = 0; b < a.B; ++b) {
    float* dr = a.dx + b * G + L;
    float* dho = a.dh_operand + b * L;
    if (masked(a.mask, b)) {
      std::fill_n(dr, H, 0.0f);
      std::fill_n(dho, H, 0.0f);
      continue;
    }
    const float* r = a.x + b * G + L;
    const float* drh = a.drh + b * L;
    const float* ho = a.h_operand + b * L;
    for (int64_t j = 0; j < H; ++j) {
      dr[j] = drh[j] * ho[j];
      dho[j] = drh[j] * r[j];
    }
    activate_backward(a.rec_act, r, dr, dr, H);
  }
}

void rnn_step_forward(const RNNStepForward& a) {
  const int64_t H = a.H, L = stride(a);
  if (a.mask == nullptr && L == H) {
    activate(a.act, a.z, a.h, a.B * H);
    if (a.rec_mask != nullptr)
      for (int64_t b = 0; b < a.B; ++b) write_dropped(a.rec_mask, a.h_dropped, a.h, b, H, L);
    return;
  }
  for (int64_t b = 0; b < a.B; ++b) {
    float* h = a.h + b * L;
    if (masked(a.mask, b)) {
      copy_row(a.h_prev + b * L, h, H);
    } else {
      activate(a.act, a.z + b * L, h, H);
    }
    write_dropped(a.rec_mask, a.h_dropped, a.h, b, H, L);
  }
}

void rnn_step_backward(const RNNStepBackward& a) {
  const int64_t H = a.H, L = stride(a);
  for (int64_t b = 0; b < a.B; ++b) {
    float* dh = a.dh + b * L;
    float* dz = a.dz + b * L;
    const float* dout_row = a.dout != nullptr ? a.dout + b * a.dout_ld : nullptr;
    total_grad(dh, dh, dout_row, H);
    if (masked(a.mask, b)) {
      std::fill_n(dz, H, 0.0f);
      continue;
    }
    activate_backward(a.act, a.h + b * L, dh, dz, H);
    std::fill_n(dh, H, 0.0f);
  }
}

}  // namespace seqnet::ops
