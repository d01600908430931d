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

inline void write_dropped(const float* rec_mask, float* h_dropped, const float* h, int64_t b, int64_t H) {
  if (rec_mask == nullptr) return;
  const float* m = rec_mask + b * H;
  float* d = h_dropped + b * H;
  const float* hr = h + b * H;
  for (int64_t j = 0; j < H; ++j) d[j] = hr[j] * m[j];
}

// Whether a kernel can use the fused paths with the derivatives inlined:
// the Keras defaults (tanh cell activation, sigmoid gates).
inline bool default_acts(Act act, Act rec_act) { return act == Act::Tanh && rec_act == Act::Sigmoid; }

// One LSTM row of backward with tanh/sigmoid, in a single vectorizable pass.
// (GCC 12 vectorizes this only with restrict-qualified parameters.)
template <bool HasDout>
void lstm_backward_row(int64_t H, float* __restrict dh, float* __restrict dc, float* __restrict dz,
                       const float* __restrict dout, const float* __restrict z, const float* __restrict tc,
                       const float* __restrict cp) {
  for (int64_t j = 0; j < H; ++j) {
    float d = dh[j];
    if constexpr (HasDout) d += dout[j];
    const float i = z[j], f = z[H + j], g = z[2 * H + j], o = z[3 * H + j], t = tc[j];
    const float dct = dc[j] + d * o * (1.0f - t * t);
    dz[j] = dct * g * i * (1.0f - i);
    dz[H + j] = dct * cp[j] * f * (1.0f - f);
    dz[2 * H + j] = dct * i * (1.0f - g * g);
    dz[3 * H + j] = d * t * o * (1.0f - o);
    dc[j] = dct * f;
    dh[j] = 0.0f;
  }
}

// One GRU (reset_after) row of backward with tanh/sigmoid.
template <bool HasDout>
void gru_backward_row(int64_t H, float* __restrict dh, float* __restrict dx, float* __restrict di,
                      const float* __restrict dout, const float* __restrict x, const float* __restrict ih,
                      const float* __restrict hp) {
  for (int64_t j = 0; j < H; ++j) {
    float d = dh[j];
    if constexpr (HasDout) d += dout[j];
    const float zz = x[j], r = x[H + j], hh = x[2 * H + j];
    const float dz = d * (hp[j] - hh) * zz * (1.0f - zz);
    const float dhh = d * (1.0f - zz) * (1.0f - hh * hh);
    const float dr = dhh * ih[j] * r * (1.0f - r);
    dx[j] = dz;
    dx[H + j] = dr;
    dx[2 * H + j] = dhh;
    di[j] = dz;
    di[H + j] = dr;
    di[2 * H + j] = dhh * r;
    dh[j] = d * zz;
  }
}

}  // namespace

void lstm_step_forward(const LSTMStepForward& a) {
  const int64_t H = a.H;
  if (a.mask == nullptr) {
    // Whole-block passes: gate activations over all rows, then the cell.
    const int64_t B = a.B, G = 4 * H;
    activate_rows(a.rec_act, a.z, B, 2 * H, G);          // i, f
    activate_rows(a.act, a.z + 2 * H, B, H, G);          // g
    activate_rows(a.rec_act, a.z + 3 * H, B, H, G);      // o
    for (int64_t b = 0; b < B; ++b) {
      const float* __restrict z = a.z + b * G;
      const float* __restrict cp = a.c_prev + b * H;
      float* __restrict c = a.c + b * H;
      for (int64_t j = 0; j < H; ++j) c[j] = z[H + j] * cp[j] + z[j] * z[2 * H + j];
    }
    activate(a.act, a.c, a.tc, B * H);
    for (int64_t b = 0; b < B; ++b) {
      const float* __restrict zo = a.z + b * G + 3 * H;
      const float* __restrict tc = a.tc + b * H;
      float* __restrict h = a.h + b * H;
      for (int64_t j = 0; j < H; ++j) h[j] = zo[j] * tc[j];
      write_dropped(a.rec_mask, a.h_dropped, a.h, b, H);
    }
    return;
  }
  for (int64_t b = 0; b < a.B; ++b) {
    const float* cp = a.c_prev + b * H;
    float* h = a.h + b * H;
    float* c = a.c + b * H;
    float* tc = a.tc + b * H;
    if (masked(a.mask, b)) {
      copy_row(a.h_prev + b * H, h, H);
      copy_row(cp, c, H);
      std::fill_n(tc, H, 0.0f);
    } else {
      float* z = a.z + b * 4 * H;
      activate(a.rec_act, z, z, 2 * H);          // i, f
      activate(a.act, z + 2 * H, z + 2 * H, H);  // g
      activate(a.rec_act, z + 3 * H, z + 3 * H, H);  // o
      const float* zi = z;
      const float* zf = z + H;
      const float* zg = z + 2 * H;
      for (int64_t j = 0; j < H; ++j) c[j] = zf[j] * cp[j] + zi[j] * zg[j];
      activate(a.act, c, tc, H);
      const float* zo = z + 3 * H;
      for (int64_t j = 0; j < H; ++j) h[j] = zo[j] * tc[j];
    }
    write_dropped(a.rec_mask, a.h_dropped, a.h, b, H);
  }
}

void lstm_step_backward(const LSTMStepBackward& a) {
  const int64_t H = a.H;
  for (int64_t b = 0; b < a.B; ++b) {
    float* dh = a.dh + b * H;
    float* dc = a.dc + b * H;
    float* dz = a.dz + b * 4 * H;
    const float* dout_row = a.dout != nullptr ? a.dout + b * a.dout_ld : nullptr;
    if (!masked(a.mask, b) && default_acts(a.act, a.rec_act)) {
      const float* z = a.z + b * 4 * H;
      if (dout_row != nullptr) {
        lstm_backward_row<true>(H, dh, dc, dz, dout_row, z, a.tc + b * H, a.c_prev + b * H);
      } else {
        lstm_backward_row<false>(H, dh, dc, dz, nullptr, z, a.tc + b * H, a.c_prev + b * H);
      }
      continue;
    }
    total_grad(dh, dh, dout_row, H);
    if (masked(a.mask, b)) {
      // State carried unchanged: dh and dc pass to the previous step as they are.
      std::fill_n(dz, 4 * H, 0.0f);
      continue;
    }
    const float* z = a.z + b * 4 * H;
    const float* zi = z;
    const float* zf = z + H;
    const float* zg = z + 2 * H;
    const float* zo = z + 3 * H;
    const float* tc = a.tc + b * H;
    const float* cp = a.c_prev + b * H;
    float* dzi = dz;
    float* dzf = dz + H;
    float* dzg = dz + 2 * H;
    float* dzo = dz + 3 * H;
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
    activate_backward(a.rec_act, zi, dzi, dzi, 2 * H);  // i, f
    activate_backward(a.act, zg, dzg, dzg, H);
    activate_backward(a.rec_act, zo, dzo, dzo, H);
  }
}

void gru_step_forward(const GRUStepForward& a) {
  const int64_t H = a.H;
  if (a.mask == nullptr) {
    const int64_t B = a.B, G = 3 * H;
    for (int64_t b = 0; b < B; ++b) {
      float* __restrict x = a.x + b * G;
      const float* __restrict in = a.inner + b * G;
      float* __restrict ih = a.inner_h + b * H;
      if (a.rec_bias != nullptr) {
        const float* __restrict rb = a.rec_bias;
        for (int64_t j = 0; j < 2 * H; ++j) x[j] += in[j] + rb[j];
        for (int64_t j = 0; j < H; ++j) ih[j] = in[2 * H + j] + rb[2 * H + j];
      } else {
        for (int64_t j = 0; j < 2 * H; ++j) x[j] += in[j];
        for (int64_t j = 0; j < H; ++j) ih[j] = in[2 * H + j];
      }
    }
    activate_rows(a.rec_act, a.x, B, 2 * H, G);  // z, r
    for (int64_t b = 0; b < B; ++b) {
      float* __restrict x = a.x + b * G;
      const float* __restrict ih = a.inner_h + b * H;
      for (int64_t j = 0; j < H; ++j) x[2 * H + j] += x[H + j] * ih[j];
    }
    activate_rows(a.act, a.x + 2 * H, B, H, G);  // hh
    for (int64_t b = 0; b < B; ++b) {
      const float* __restrict x = a.x + b * G;
      const float* __restrict hp = a.h_prev + b * H;
      float* __restrict h = a.h + b * H;
      for (int64_t j = 0; j < H; ++j) h[j] = x[j] * hp[j] + (1.0f - x[j]) * x[2 * H + j];
      write_dropped(a.rec_mask, a.h_dropped, a.h, b, H);
    }
    return;
  }
  for (int64_t b = 0; b < a.B; ++b) {
    const float* hp = a.h_prev + b * H;
    float* h = a.h + b * H;
    if (masked(a.mask, b)) {
      copy_row(hp, h, H);
      std::fill_n(a.inner_h + b * H, H, 0.0f);
    } else {
      float* x = a.x + b * 3 * H;
      const float* in = a.inner + b * 3 * H;
      float* ih = a.inner_h + b * H;
      if (a.rec_bias != nullptr) {
        for (int64_t j = 0; j < 2 * H; ++j) x[j] += in[j] + a.rec_bias[j];
        for (int64_t j = 0; j < H; ++j) ih[j] = in[2 * H + j] + a.rec_bias[2 * H + j];
      } else {
        for (int64_t j = 0; j < 2 * H; ++j) x[j] += in[j];
        copy_row(in + 2 * H, ih, H);
      }
      activate(a.rec_act, x, x, 2 * H);  // z, r
      float* zz = x;
      float* r = x + H;
      float* hh = x + 2 * H;
      for (int64_t j = 0; j < H; ++j) hh[j] += r[j] * ih[j];
      activate(a.act, hh, hh, H);
      for (int64_t j = 0; j < H; ++j) h[j] = zz[j] * hp[j] + (1.0f - zz[j]) * hh[j];
    }
    write_dropped(a.rec_mask, a.h_dropped, a.h, b, H);
  }
}

void gru_step_backward(const GRUStepBackward& a) {
  const int64_t H = a.H;
  for (int64_t b = 0; b < a.B; ++b) {
    float* dh = a.dh + b * H;
    float* dx = a.dx + b * 3 * H;
    float* di = a.dinner + b * 3 * H;
    const float* dout_row = a.dout != nullptr ? a.dout + b * a.dout_ld : nullptr;
    if (!masked(a.mask, b) && default_acts(a.act, a.rec_act)) {
      const float* x = a.x + b * 3 * H;
      if (dout_row != nullptr) {
        gru_backward_row<true>(H, dh, dx, di, dout_row, x, a.inner_h + b * H, a.h_prev + b * H);
      } else {
        gru_backward_row<false>(H, dh, dx, di, nullptr, x, a.inner_h + b * H, a.h_prev + b * H);
      }
      continue;
    }
    total_grad(dh, dh, dout_row, H);
    if (masked(a.mask, b)) {
      std::fill_n(dx, 3 * H, 0.0f);
      std::fill_n(di, 3 * H, 0.0f);
      continue;
    }
    const float* x = a.x + b * 3 * H;
    const float* zz = x;
    const float* r = x + H;
    const float* hh = x + 2 * H;
    const float* ih = a.inner_h + b * H;
    const float* hp = a.h_prev + b * H;
    float* dz = dx;
    float* dr = dx + H;
    float* dhh = dx + 2 * H;
    for (int64_t j = 0; j < H; ++j) {
      dz[j] = dh[j] * (hp[j] - hh[j]);
      dhh[j] = dh[j] * (1.0f - zz[j]);
      dh[j] = dh[j] * zz[j];
    }
    activate_backward(a.act, hh, dhh, dhh, H);
    for (int64_t j = 0; j < H; ++j) {
      dr[j] = dhh[j] * ih[j];
      di[2 * H + j] = dhh[j] * r[j];
    }
    activate_backward(a.rec_act, zz, dz, dz, 2 * H);  // z, r
    copy_row(dx, di, 2 * H);
  }
}

void gru_v1_step_forward_stage1(const GRUV1StepForward& a) {
  const int64_t H = a.H;
  for (int64_t b = 0; b < a.B; ++b) {
    float* rh = a.rh + b * H;
    if (masked(a.mask, b)) {
      std::fill_n(rh, H, 0.0f);
      continue;
    }
    float* x = a.x + b * 3 * H;
    activate(a.rec_act, x, x, 2 * H);
    const float* r = x + H;
    const float* ho = a.h_operand + b * H;
    for (int64_t j = 0; j < H; ++j) rh[j] = r[j] * ho[j];
  }
}

void gru_v1_step_forward_stage2(const GRUV1StepForward& a) {
  const int64_t H = a.H;
  for (int64_t b = 0; b < a.B; ++b) {
    const float* hp = a.h_prev + b * H;
    float* h = a.h + b * H;
    if (masked(a.mask, b)) {
      copy_row(hp, h, H);
    } else {
      float* x = a.x + b * 3 * H;
      float* hh = x + 2 * H;
      activate(a.act, hh, hh, H);
      const float* zz = x;
      for (int64_t j = 0; j < H; ++j) h[j] = zz[j] * hp[j] + (1.0f - zz[j]) * hh[j];
    }
    write_dropped(a.rec_mask, a.h_dropped, a.h, b, H);
  }
}

void gru_v1_step_backward_stage1(const GRUV1StepBackward& a) {
  const int64_t H = a.H;
  for (int64_t b = 0; b < a.B; ++b) {
    float* dh = a.dh + b * H;
    float* dx = a.dx + b * 3 * H;
    const float* dout_row = a.dout != nullptr ? a.dout + b * a.dout_ld : nullptr;
    total_grad(dh, dh, dout_row, H);
    if (masked(a.mask, b)) {
      std::fill_n(dx, 3 * H, 0.0f);
      continue;
    }
    const float* x = a.x + b * 3 * H;
    const float* zz = x;
    const float* hh = x + 2 * H;
    const float* hp = a.h_prev + b * H;
    float* dz = dx;
    float* dhh = dx + 2 * H;
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
  const int64_t H = a.H;
  for (int64_t b = 0; b < a.B; ++b) {
    float* dr = a.dx + b * 3 * H + H;
    float* dho = a.dh_operand + b * H;
    if (masked(a.mask, b)) {
      std::fill_n(dr, H, 0.0f);
      std::fill_n(dho, H, 0.0f);
      continue;
    }
    const float* r = a.x + b * 3 * H + H;
    const float* drh = a.drh + b * H;
    const float* ho = a.h_operand + b * H;
    for (int64_t j = 0; j < H; ++j) {
      dr[j] = drh[j] * ho[j];
      dho[j] = drh[j] * r[j];
    }
    activate_backward(a.rec_act, r, dr, dr, H);
  }
}

void rnn_step_forward(const RNNStepForward& a) {
  const int64_t H = a.H;
  if (a.mask == nullptr) {
    activate(a.act, a.z, a.h, a.B * H);
    if (a.rec_mask != nullptr)
      for (int64_t b = 0; b < a.B; ++b) write_dropped(a.rec_mask, a.h_dropped, a.h, b, H);
    return;
  }
  for (int64_t b = 0; b < a.B; ++b) {
    float* h = a.h + b * H;
    if (masked(a.mask, b)) {
      copy_row(a.h_prev + b * H, h, H);
    } else {
      activate(a.act, a.z + b * H, h, H);
    }
    write_dropped(a.rec_mask, a.h_dropped, a.h, b, H);
  }
}

void rnn_step_backward(const RNNStepBackward& a) {
  const int64_t H = a.H;
  for (int64_t b = 0; b < a.B; ++b) {
    float* dh = a.dh + b * H;
    float* dz = a.dz + b * H;
    const float* dout_row = a.dout != nullptr ? a.dout + b * a.dout_ld : nullptr;
    total_grad(dh, dh, dout_row, H);
    if (masked(a.mask, b)) {
      std::fill_n(dz, H, 0.0f);
      continue;
    }
    activate_backward(a.act, a.h + b * H, dh, dz, H);
    std::fill_n(dh, H, 0.0f);
  }
}

}  // namespace seqnet::ops
