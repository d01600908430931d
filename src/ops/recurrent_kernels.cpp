#include "seqnet/ops/recurrent_kernels.hpp"

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

}  // namespace

void lstm_step_forward(const LstmStepForward& a) {
  const int64_t H = a.H;
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

void lstm_step_backward(const LstmStepBackward& a) {
  const int64_t H = a.H;
  for (int64_t b = 0; b < a.B; ++b) {
    float* dh = a.dh + b * H;
    float* dc = a.dc + b * H;
    float* dz = a.dz + b * 4 * H;
    const float* dout_row = a.dout != nullptr ? a.dout + b * a.dout_ld : nullptr;
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

void gru_step_forward(const GruStepForward& a) {
  const int64_t H = a.H;
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

void gru_step_backward(const GruStepBackward& a) {
  const int64_t H = a.H;
  for (int64_t b = 0; b < a.B; ++b) {
    float* dh = a.dh + b * H;
    float* dx = a.dx + b * 3 * H;
    float* di = a.dinner + b * 3 * H;
    const float* dout_row = a.dout != nullptr ? a.dout + b * a.dout_ld : nullptr;
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

void gru_v1_step_forward_stage1(const GruV1StepForward& a) {
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

void gru_v1_step_forward_stage2(const GruV1StepForward& a) {
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

void gru_v1_step_backward_stage1(const GruV1StepBackward& a) {
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

void gru_v1_step_backward_stage2(const GruV1StepBackward& a) {
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

void rnn_step_forward(const RnnStepForward& a) {
  const int64_t H = a.H;
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

void rnn_step_backward(const RnnStepBackward& a) {
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
