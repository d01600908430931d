#include "seqnet/detail/ops/step_product.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SEQNET_X86 1
#endif

#include "seqnet/detail/ops/gemm.hpp"
#include "seqnet/error.hpp"
#include "seqnet/mixed_precision.hpp"

namespace seqnet::ops {

// ---------------------------------------------------------------- packing

uint16_t bf16_bits(float f) {
  uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7f800000u) == 0) return static_cast<uint16_t>((u >> 16) & 0x8000u);  // zero, subnormal
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);  // NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

float bf16_round(float f) { return std::bit_cast<float>(static_cast<uint32_t>(bf16_bits(f)) << 16); }

namespace {

bool cpu_has_avx512_bf16() { return mixed_precision::hardware_bfloat16(); }

bool emulation_forced = false;

PanelFormat format_for_thread() {
  if (compute_precision() != Precision::BFloat16) return PanelFormat::Float32;
  return cpu_has_avx512_bf16() && !emulation_forced ? PanelFormat::BFloat16Pairs : PanelFormat::BFloat16Emulated;
}

int64_t rows_for(PanelFormat f, int64_t k) {
  switch (f) {
    case PanelFormat::Float32: return k;
    case PanelFormat::BFloat16Pairs: return (k + 1) / 2;
    case PanelFormat::BFloat16Emulated: return 2 * ((k + 1) / 2);
  }
  return k;
}

// ---- rows of floats to bfloat16 (the same bits as bf16_bits, vectorized)

#ifdef SEQNET_X86
bool cpu_has_avx2_fma();
#endif

#ifdef SEQNET_X86
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"))) void bf16_row_avx512(const float* src, int64_t n,
                                                                            uint16_t* dst) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256bh v = _mm512_cvtneps_pbh(_mm512_loadu_ps(src + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), (__m256i)v);
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1u);
    const __m256bh v = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + i));
    _mm256_mask_storeu_epi16(dst + i, m, (__m256i)v);
  }
}

// The 16-bit results in 32-bit lanes.
__attribute__((target("avx2"))) inline __m256i bf16_bits_avx2(__m256i u) {
  const __m256i exp_mask = _mm256_set1_epi32(0x7f800000), abs_mask = _mm256_set1_epi32(0x7fffffff);
  const __m256i high = _mm256_srli_epi32(u, 16);
  const __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, abs_mask), exp_mask);
  const __m256i is_tiny = _mm256_cmpeq_epi32(_mm256_and_si256(u, exp_mask), _mm256_setzero_si256());
  const __m256i lsb = _mm256_and_si256(high, _mm256_set1_epi32(1));
  __m256i r = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), lsb), 16);
  r = _mm256_blendv_epi8(r, _mm256_or_si256(high, _mm256_set1_epi32(0x40)), is_nan);
  return _mm256_blendv_epi8(r, _mm256_and_si256(high, _mm256_set1_epi32(0x8000)), is_tiny);
}

__attribute__((target("avx2"))) void bf16_row_avx2(const float* src, int64_t n, uint16_t* dst) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a = bf16_bits_avx2(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i)));
    const __m256i b = bf16_bits_avx2(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 8)));
    // packus interleaves the 128-bit lanes: a0 b0 a1 b1 -> a0 a1 b0 b1.
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xd8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), packed);
  }
  for (; i < n; ++i) dst[i] = bf16_bits(src[i]);
}

__attribute__((target("avx2"))) void bf16_round_row_avx2(const float* src, int64_t n, float* dst, bool swap) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i r = bf16_bits_avx2(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i)));
    __m256 v = _mm256_castsi256_ps(_mm256_slli_epi32(r, 16));
    if (swap) v = _mm256_permute_ps(v, 0xb1);  // 1 0 3 2 in each half
    _mm256_storeu_ps(dst + i, v);
  }
  for (; i < n; ++i) dst[swap ? i ^ 1 : i] = bf16_round(src[i]);
}
#endif

// dst[i] = bf16_bits(src[i]) for i < n.
void bf16_row(const float* src, int64_t n, uint16_t* dst) {
#ifdef SEQNET_X86
  if (cpu_has_avx512_bf16()) return bf16_row_avx512(src, n, dst);
  if (cpu_has_avx2_fma()) return bf16_row_avx2(src, n, dst);
#endif
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_bits(src[i]);
}

// dst[i] = bf16_round(src[i]) for i < n, or with `swap` dst[i ^ 1] (the
// emulated format's order; then n must be even).
void bf16_round_row(const float* src, int64_t n, float* dst, bool swap) {
#ifdef SEQNET_X86
  if (cpu_has_avx2_fma()) return bf16_round_row_avx2(src, n, dst, swap);
#endif
  for (int64_t i = 0; i < n; ++i) dst[swap ? i ^ 1 : i] = bf16_round(src[i]);
}

// Per-thread scratch rows for packing (grown once).
thread_local std::vector<float> scratch_f;
thread_local std::vector<uint16_t> scratch_lo, scratch_hi;

template <class T>
T* scratch(std::vector<T>& v, int64_t n) {
  if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
  return v.data();
}

// Columns [col0, col0 + width) of rows [0, K) of row-major `src`.
void pack_bf16_columns(const PanelMatrix& W, float* dst, const float* src, int64_t ld_src, int64_t col0,
                       int64_t width) {
  const int64_t panels = panel_count(width), R = W.panel_rows, K = W.K, padded = panels * kPanelWidth;
  if (W.format == PanelFormat::BFloat16Pairs) {
    uint16_t* lo = scratch(scratch_lo, padded);
    uint16_t* hi = scratch(scratch_hi, padded);
    std::fill(lo + width, lo + padded, uint16_t{0});
    for (int64_t q = 0; q < R; ++q) {
      bf16_row(src + 2 * q * ld_src + col0, width, lo);
      if (2 * q + 1 < K) {
        bf16_row(src + (2 * q + 1) * ld_src + col0, width, hi);
        std::fill(hi + width, hi + padded, uint16_t{0});
      } else {
        std::fill(hi, hi + padded, uint16_t{0});
      }
      auto* d = reinterpret_cast<uint32_t*>(dst);
      for (int64_t p = 0; p < panels; ++p) {
        uint32_t* row = d + (p * R + q) * kPanelWidth;
        for (int64_t j = 0; j < kPanelWidth; ++j) {
          const int64_t c = p * kPanelWidth + j;
          row[j] = static_cast<uint32_t>(lo[c]) | static_cast<uint32_t>(hi[c]) << 16;
        }
      }
    }
    return;
  }
  // Emulated: row k goes to panel row k ^ 1, rounded.
  float* r = scratch(scratch_f, padded);
  std::fill(r + width, r + padded, 0.0f);
  for (int64_t k = 0; k < R; ++k) {
    if (k < K) {
      bf16_round_row(src + k * ld_src + col0, width, r, false);
    } else {
      std::fill(r, r + width, 0.0f);
    }
    for (int64_t p = 0; p < panels; ++p) {
      std::memcpy(dst + (p * R + (k ^ 1)) * kPanelWidth, r + p * kPanelWidth, kPanelWidth * sizeof(float));
    }
  }
}

// The transpose of rows [0, width) and columns [col0, col0 + K) of `src`.
void pack_bf16_transposed(const PanelMatrix& W, float* dst, const float* src, int64_t ld_src, int64_t col0,
                          int64_t width) {
  const int64_t panels = panel_count(width), R = W.panel_rows, K = W.K;
  for (int64_t c = 0; c < panels * kPanelWidth; ++c) {
    const int64_t p = c / kPanelWidth, j = c % kPanelWidth;
    if (W.format == PanelFormat::BFloat16Pairs) {
      uint16_t* row = scratch(scratch_lo, 2 * R);
      if (c < width) {
        bf16_row(src + c * ld_src + col0, K, row);
        if (K % 2 != 0) row[K] = 0;
      } else {
        std::fill(row, row + 2 * R, uint16_t{0});
      }
      uint32_t word;
      auto* d = reinterpret_cast<uint32_t*>(dst);
      for (int64_t q = 0; q < R; ++q) {
        std::memcpy(&word, row + 2 * q, sizeof word);
        d[(p * R + q) * kPanelWidth + j] = word;
      }
    } else {
      float* row = scratch(scratch_f, R);
      if (c < width) {
        if (K % 2 != 0) {
          bf16_round_row(src + c * ld_src + col0, K - 1, row, true);
          row[K] = bf16_round(src[c * ld_src + col0 + K - 1]);  // k = K - 1 (even) goes to K
          row[K - 1] = 0.0f;
        } else {
          bf16_round_row(src + c * ld_src + col0, K, row, true);
        }
      } else {
        std::fill(row, row + R, 0.0f);
      }
      for (int64_t k = 0; k < R; ++k) dst[(p * R + k) * kPanelWidth + j] = row[k];
    }
  }
}

}  // namespace

bool panel_product_bf16_hardware() { return cpu_has_avx512_bf16(); }
void bf16_convert(const float* src, int64_t n, uint16_t* dst) { bf16_row(src, n, dst); }
void force_bf16_emulation(bool on) { emulation_forced = on; }

float* PanelMatrix::packed_storage(int64_t k_rows, int64_t width) {
  K = k_rows;
  N = width;
  packed = true;
  base = nullptr;
  ld = 0;
  format = format_for_thread();
  panel_rows = rows_for(format, K);
  ensure_shape(storage, {panel_count(width), panel_rows, kPanelWidth});
  return storage.data();
}

void PanelMatrix::pack_columns(const float* src, int64_t ld_src, int64_t k_rows, int64_t col0, int64_t width) {
  float* dst = packed_storage(k_rows, width);
  if (format != PanelFormat::Float32) {
    pack_bf16_columns(*this, dst, src, ld_src, col0, width);
    return;
  }
  const int64_t panels = panel_count(width);
  for (int64_t p = 0; p < panels; ++p) {
    const int64_t c = col0 + p * kPanelWidth, w = std::min(kPanelWidth, width - p * kPanelWidth);
    for (int64_t k = 0; k < K; ++k) {
      float* d = dst + (p * K + k) * kPanelWidth;
      std::memcpy(d, src + k * ld_src + c, static_cast<size_t>(w) * sizeof(float));
      std::fill(d + w, d + kPanelWidth, 0.0f);
    }
  }
}

void PanelMatrix::pack_transposed(const float* src, int64_t ld_src, int64_t width, int64_t col0, int64_t k) {
  float* dst = packed_storage(k, width);
  if (format != PanelFormat::Float32) {
    pack_bf16_transposed(*this, dst, src, ld_src, col0, width);
    return;
  }
  const int64_t panels = panel_count(width);
  for (int64_t p = 0; p < panels; ++p) {
    const int64_t w = std::min(kPanelWidth, width - p * kPanelWidth);
    float* d = dst + p * K * kPanelWidth;
    for (int64_t j = 0; j < kPanelWidth; ++j) {
      if (j >= w) {
        for (int64_t kk = 0; kk < K; ++kk) d[kk * kPanelWidth + j] = 0.0f;
        continue;
      }
      const float* s = src + (p * kPanelWidth + j) * ld_src + col0;
      for (int64_t kk = 0; kk < K; ++kk) d[kk * kPanelWidth + j] = s[kk];
    }
  }
}

void PanelMatrix::view_columns(const float* src, int64_t ld_src, int64_t k_rows, int64_t col0, int64_t width) {
  if (format_for_thread() != PanelFormat::Float32) {
    pack_columns(src, ld_src, k_rows, col0, width);  // bfloat16 needs its own copy
    return;
  }
  K = k_rows;
  N = width;
  packed = false;
  format = PanelFormat::Float32;
  panel_rows = K;
  base = src + col0;
  ld = ld_src;
}

// ---------------------------------------------------------------- kernels

namespace {

constexpr int kRows = static_cast<int>(kTileRows);

// Portable kernel: the same order of operations per element (a sum over k
// from zero, then added to C); the compiler may or may not fuse the
// multiply-adds, so its bits can differ from the AVX2 kernel's.
template <int MR>
void tile_portable(int64_t K, const float* A, int64_t lda, int64_t aks, const float* P, int64_t ldp, int width, float* C,
                   int64_t ldc, bool accumulate) {
  float acc[MR][kPanelWidth] = {};
  for (int64_t k = 0; k < K; ++k) {
    const float* p = P + k * ldp;
    for (int r = 0; r < MR; ++r) {
      const float a = A[r * lda + k * aks];
      for (int j = 0; j < width; ++j) acc[r][j] += a * p[j];
    }
  }
  for (int r = 0; r < MR; ++r) {
    float* c = C + r * ldc;
    for (int j = 0; j < width; ++j) c[j] = accumulate ? c[j] + acc[r][j] : acc[r][j];
  }
}

#ifdef SEQNET_X86
// AVX2 + FMA: 2 x MR accumulators of 8 floats. With MaskedLoad the panel
// is a view whose last columns lie outside it (an unpacked tail).
template <int MR, bool MaskedLoad>
__attribute__((target("avx2,fma"))) void tile_avx2(int64_t K, const float* A, int64_t lda, int64_t aks, const float* P,
                                                    int64_t ldp, int width, float* C, int64_t ldc, bool accumulate) {
  __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    c0[r] = _mm256_setzero_ps();
    c1[r] = _mm256_setzero_ps();
  }
  // C's rows are read only at the end: fetch them while the sum runs.
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc + kPanelWidth - 1), _MM_HINT_T0);
  }
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(width), lanes);
  const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(width - 8), lanes);
  for (int64_t k = 0; k < K; ++k) {
    const float* p = P + k * ldp;
    const __m256 b0 = MaskedLoad ? _mm256_maskload_ps(p, m0) : _mm256_loadu_ps(p);
    const __m256 b1 = MaskedLoad ? _mm256_maskload_ps(p + 8, m1) : _mm256_loadu_ps(p + 8);
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      const __m256 a = _mm256_broadcast_ss(A + r * lda + k * aks);
      c0[r] = _mm256_fmadd_ps(a, b0, c0[r]);
      c1[r] = _mm256_fmadd_ps(a, b1, c1[r]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    float* c = C + r * ldc;
    if (width == kPanelWidth) {
      if (accumulate) {
        _mm256_storeu_ps(c, _mm256_add_ps(_mm256_loadu_ps(c), c0[r]));
        _mm256_storeu_ps(c + 8, _mm256_add_ps(_mm256_loadu_ps(c + 8), c1[r]));
      } else {
        _mm256_storeu_ps(c, c0[r]);
        _mm256_storeu_ps(c + 8, c1[r]);
      }
    } else {
      __m256 v0 = c0[r], v1 = c1[r];
      if (accumulate) {
        v0 = _mm256_add_ps(_mm256_maskload_ps(c, m0), v0);
        v1 = _mm256_add_ps(_mm256_maskload_ps(c + 8, m1), v1);
      }
      _mm256_maskstore_ps(c, m0, v0);
      _mm256_maskstore_ps(c + 8, m1, v1);
    }
  }
}

bool cpu_has_avx2_fma();

// A few rows (M < kRows) against NP full panels at once: more independent
// sums in flight (a single row's two accumulators would wait on the FMA
// latency). Every element is still one sum over k in order.
template <int MR, int NP>
__attribute__((target("avx2,fma"))) void wide_avx2(int64_t K, const float* A, int64_t lda, int64_t aks, const float* P,
                                                    int64_t ldp, int64_t pstride, float* C, int64_t ldc,
                                                    bool accumulate) {
  __m256 acc[MR][2 * NP];
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 12
    for (int q = 0; q < 2 * NP; ++q) acc[r][q] = _mm256_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    // MR broadcasts, then one panel half at a time: MR + 2 NP MR + 1
    // registers, at most 16.
    __m256 a[MR];
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) a[r] = _mm256_broadcast_ss(A + r * lda + k * aks);
#pragma GCC unroll 12
    for (int q = 0; q < 2 * NP; ++q) {
      const __m256 b = _mm256_loadu_ps(P + (q / 2) * pstride + k * ldp + (q % 2) * 8);
#pragma GCC unroll 12
      for (int r = 0; r < MR; ++r) acc[r][q] = _mm256_fmadd_ps(a[r], b, acc[r][q]);
    }
  }
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 12
    for (int q = 0; q < 2 * NP; ++q) {
      float* c = C + r * ldc + q * 8;
      _mm256_storeu_ps(c, accumulate ? _mm256_add_ps(_mm256_loadu_ps(c), acc[r][q]) : acc[r][q]);
    }
}

using WideFn = void (*)(int64_t, const float*, int64_t, int64_t, const float*, int64_t, int64_t, float*, int64_t, bool);

// The most panels a few-row kernel takes at once (MR + 2 NP MR + 1 <= 16
// registers), by row count.
constexpr int kWidePanels[kRows] = {0, 6, 3, 2, 0, 0};

template <int MR>
WideFn wide_panels(int np) {
  switch (np) {
    case 1: return &wide_avx2<MR, 1>;
    case 2: return &wide_avx2<MR, 2>;
    case 3: if constexpr (MR <= 2) return &wide_avx2<MR, 3>; break;
    case 4: if constexpr (MR == 1) return &wide_avx2<MR, 4>; break;
    case 5: if constexpr (MR == 1) return &wide_avx2<MR, 5>; break;
    case 6: if constexpr (MR == 1) return &wide_avx2<MR, 6>; break;
    default: break;
  }
  return nullptr;
}

// The kernel for M < kRows rows and at most `left` full panels, and its
// panel count (null: none). Tails get a narrower kernel of the same kind
// rather than the row tile, whose two sums per row wait on the FMA latency.
WideFn wide_for(int64_t rows, int64_t left, int& panels) {
  if (!cpu_has_avx2_fma() || rows <= 0 || rows >= kRows || left <= 0) return nullptr;
  panels = static_cast<int>(std::min<int64_t>(kWidePanels[rows], left));
  if (panels == 0) return nullptr;
  switch (rows) {
    case 1: return wide_panels<1>(panels);
    case 2: return wide_panels<2>(panels);
    case 3: return wide_panels<3>(panels);
    default: return nullptr;
  }
}

bool cpu_has_avx2_fma() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return yes;
}
#endif

using TileFn = void (*)(int64_t, const float*, int64_t, int64_t, const float*, int64_t, int, float*, int64_t, bool);

template <int MR>
TileFn pick_tile(bool masked_load) {
#ifdef SEQNET_X86
  if (cpu_has_avx2_fma()) return masked_load ? &tile_avx2<MR, true> : &tile_avx2<MR, false>;
#endif
  (void)masked_load;
  return &tile_portable<MR>;
}

TileFn tile_for(int rows, bool masked_load) {
  switch (rows) {
    case 6: return pick_tile<6>(masked_load);
    case 5: return pick_tile<5>(masked_load);
    case 4: return pick_tile<4>(masked_load);
    case 3: return pick_tile<3>(masked_load);
    case 2: return pick_tile<2>(masked_load);
    default: return pick_tile<1>(masked_load);
  }
}

}  // namespace

bool panel_product_vectorized() {
#ifdef SEQNET_X86
  return cpu_has_avx2_fma();
#else
  return false;
#endif
}

namespace {

// The float32 product on panels (packed: `panels`, K x kPanelWidth each; or
// the row-major matrix `base` with row stride ld).
void f32_product(int64_t M, const float* A, int64_t lda, int64_t aks, int64_t K, bool packed, const float* panels,
                 const float* base, int64_t ld, int64_t c0, int64_t c1, float* C, int64_t ldc, bool accumulate) {
  int64_t col = c0;
#ifdef SEQNET_X86
  // 1-3 rows left below the full row tiles (a batch of 32 leaves 2): they
  // go to the few-row kernels across panels, whose sums keep more
  // accumulators busy than a short row tile's.
  if (const int64_t rem = M % kRows; M > kRows && rem < 4 && rem > 0 && cpu_has_avx2_fma()) {
    const int64_t full = M - rem;
    f32_product(full, A, lda, aks, K, packed, panels, base, ld, c0, c1, C, ldc, accumulate);
    f32_product(rem, A + full * lda, lda, aks, K, packed, panels, base, ld, c0, c1, C + full * ldc, ldc, accumulate);
    return;
  }
  if (M < kRows) {
    const int64_t pstride = packed ? K * kPanelWidth : kPanelWidth;
    int group = 0;
    // Full panels only: the kernel writes all 16 columns of each (a last
    // narrower panel goes to the row tile below).
    while (const WideFn wide = wide_for(M, (c1 - col) / kPanelWidth, group)) {
      const float* P = packed ? panels + (col / kPanelWidth) * K * kPanelWidth : base + col;
      wide(K, A, lda, aks, P, packed ? kPanelWidth : ld, pstride, C + (col - c0), ldc, accumulate);
      col += group * kPanelWidth;
    }
  }
#endif
  for (; col < c1; col += kPanelWidth) {
    const int width = static_cast<int>(std::min(kPanelWidth, c1 - col));
    const float* P;
    int64_t ldp;
    bool masked_load = false;
    if (packed) {
      P = panels + (col / kPanelWidth) * K * kPanelWidth;
      ldp = kPanelWidth;
    } else {
      P = base + col;
      ldp = ld;
      masked_load = width < kPanelWidth;
    }
    float* Cc = C + (col - c0);
    int64_t r = 0;
    const TileFn full = tile_for(kRows, masked_load);
    for (; r + kRows <= M; r += kRows) full(K, A + r * lda, lda, aks, P, ldp, width, Cc + r * ldc, ldc, accumulate);
    if (r < M) {
      tile_for(static_cast<int>(M - r), masked_load)(K, A + r * lda, lda, aks, P, ldp, width, Cc + r * ldc, ldc,
                                                      accumulate);
    }
  }
}

// ------------------------------------------------------------ bfloat16

// The rows of A as the panels want them (see PanelFormat): a thread's own
// buffer, grown once (no allocation in a time loop after its first step).
thread_local std::vector<float> bf16_operand;

const float* convert_operand(PanelFormat f, int64_t M, const float* A, int64_t lda, int64_t aks, int64_t K) {
  const int64_t R = rows_for(f, K);
  if (bf16_operand.size() < static_cast<size_t>(M * R)) bf16_operand.resize(static_cast<size_t>(M * R));
  float* out = bf16_operand.data();
  for (int64_t r = 0; r < M; ++r) {
    const float* a = A + r * lda;
    float* o = out + r * R;
    if (aks == 1 && f == PanelFormat::BFloat16Pairs) {
      // Consecutive bfloat16 values are the pairs, low half first.
      auto* h = reinterpret_cast<uint16_t*>(o);
      bf16_row(a, K, h);
      if (K % 2 != 0) h[K] = 0;
      continue;
    }
    if (aks == 1 && K % 2 == 0) {
      bf16_round_row(a, K, o, true);
      continue;
    }
    for (int64_t q = 0; q < (K + 1) / 2; ++q) {
      const float lo = a[2 * q * aks], hi = 2 * q + 1 < K ? a[(2 * q + 1) * aks] : 0.0f;
      if (f == PanelFormat::BFloat16Pairs) {
        o[q] = std::bit_cast<float>(static_cast<uint32_t>(bf16_bits(lo)) | static_cast<uint32_t>(bf16_bits(hi)) << 16);
      } else {
        o[2 * q] = bf16_round(hi);
        o[2 * q + 1] = bf16_round(lo);
      }
    }
  }
  return out;
}

#ifdef SEQNET_X86
// AVX512_BF16: MR rows x NP panels of 16 columns, MR * NP accumulators of
// 16 floats; per pair of k one VDPBF16PS each. Each element is a sum over
// the pairs in order, from zero, then added to C (or stored). The last
// panel's `width` columns (1..16) are written.
template <int MR, int NP>
__attribute__((target("avx512f,avx512bf16"))) void tile_bf16(int64_t Q, const float* A, int64_t lda, const float* P,
                                                              int64_t pstride, int width, float* C, int64_t ldc,
                                                              bool accumulate) {
  __m512 acc[MR][NP];
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int p = 0; p < NP; ++p) acc[r][p] = _mm512_setzero_ps();
  for (int64_t q = 0; q < Q; ++q) {
    __m512i b[NP];
#pragma GCC unroll 4
    for (int p = 0; p < NP; ++p) b[p] = _mm512_loadu_si512(P + p * pstride + q * kPanelWidth);
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) {
      const __m512i a = _mm512_set1_epi32(std::bit_cast<int32_t>(A[r * lda + q]));
#pragma GCC unroll 4
      for (int p = 0; p < NP; ++p) acc[r][p] = _mm512_dpbf16_ps(acc[r][p], (__m512bh)a, (__m512bh)b[p]);
    }
  }
  const __mmask16 last = width >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << width) - 1u);
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int p = 0; p < NP; ++p) {
      float* c = C + r * ldc + p * kPanelWidth;
      const __mmask16 m = p == NP - 1 ? last : static_cast<__mmask16>(0xffff);
      __m512 v = acc[r][p];
      if (accumulate) v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, c), v);
      _mm512_mask_storeu_ps(c, m, v);
    }
}

using Bf16Fn = void (*)(int64_t, const float*, int64_t, const float*, int64_t, int, float*, int64_t, bool);

template <int NP>
Bf16Fn bf16_rows(int mr) {
  switch (mr) {
    case 1: return &tile_bf16<1, NP>;
    case 2: return &tile_bf16<2, NP>;
    case 3: return &tile_bf16<3, NP>;
    case 4: return &tile_bf16<4, NP>;
    case 5: return &tile_bf16<5, NP>;
    case 6: return &tile_bf16<6, NP>;
    case 7: if constexpr (NP <= 2) return &tile_bf16<7, NP>; break;
    case 8: if constexpr (NP <= 2) return &tile_bf16<8, NP>; break;
    case 9: if constexpr (NP == 1) return &tile_bf16<9, NP>; break;
    case 10: if constexpr (NP == 1) return &tile_bf16<10, NP>; break;
    case 11: if constexpr (NP == 1) return &tile_bf16<11, NP>; break;
    case 12: if constexpr (NP == 1) return &tile_bf16<12, NP>; break;
    default: break;
  }
  return nullptr;
}

// Row tile height for NP panels at once: 12, 8 or 6 rows (12-24
// accumulators of the 32 registers).
constexpr int bf16_tile_rows(int np) { return np == 1 ? 12 : np == 2 ? 8 : 6; }

Bf16Fn bf16_kernel(int mr, int np) {
  switch (np) {
    case 1: return bf16_rows<1>(mr);
    case 2: return bf16_rows<2>(mr);
    default: return bf16_rows<4>(mr);
  }
}

void bf16_hw_product(int64_t M, const float* A, int64_t R, const float* panels, int64_t c0, int64_t c1, float* C,
                     int64_t ldc, bool accumulate) {
  const int64_t pstride = R * kPanelWidth;
  for (int64_t col = c0; col < c1;) {
    const int64_t left = panel_count(c1 - col);
    const int np = left >= 4 ? 4 : left >= 2 ? 2 : 1;
    const int width = static_cast<int>(std::min(kPanelWidth, c1 - (col + (np - 1) * kPanelWidth)));
    const float* P = panels + (col / kPanelWidth) * pstride;
    const int rows = bf16_tile_rows(np);
    const Bf16Fn full = bf16_kernel(rows, np);
    int64_t r = 0;
    for (; r + rows <= M; r += rows) full(R, A + r * R, R, P, pstride, width, C + r * ldc + (col - c0), ldc, accumulate);
    if (r < M) {
      bf16_kernel(static_cast<int>(M - r), np)(R, A + r * R, R, P, pstride, width, C + r * ldc + (col - c0), ldc,
                                               accumulate);
    }
    col += np * kPanelWidth;
  }
}
#endif

}  // namespace

void panel_product(int64_t M, const float* A, int64_t lda, const PanelMatrix& W, int64_t c0, int64_t c1, float* C,
                   int64_t ldc, bool accumulate, int64_t a_k_stride) {
  if (M <= 0 || c1 <= c0) return;
  const int64_t K = W.K;
  if (K == 0) {
    if (!accumulate)
      for (int64_t r = 0; r < M; ++r) std::fill(C + r * ldc, C + r * ldc + (c1 - c0), 0.0f);
    return;
  }
  switch (W.format) {
    case PanelFormat::Float32:
      f32_product(M, A, lda, a_k_stride, K, W.packed, W.packed ? W.storage.data() : nullptr, W.base, W.ld, c0, c1, C,
                  ldc, accumulate);
      return;
    case PanelFormat::BFloat16Emulated: {
      const float* a = convert_operand(W.format, M, A, lda, a_k_stride, K);
      f32_product(M, a, W.panel_rows, 1, W.panel_rows, true, W.storage.data(), nullptr, 0, c0, c1, C, ldc,
                  accumulate);
      return;
    }
    case PanelFormat::BFloat16Pairs: {
#ifdef SEQNET_X86
      const float* a = convert_operand(W.format, M, A, lda, a_k_stride, K);
      bf16_hw_product(M, a, W.panel_rows, W.storage.data(), c0, c1, C, ldc, accumulate);
      return;
#else
      break;
#endif
    }
  }
  throw Error("panel_product: bfloat16 pairs packed on a CPU without AVX512_BF16");
}

// ---------------------------------------------------------------- the team

namespace {

// Steps below this much work run on the calling thread: a barrier costs
// about a microsecond, and waking the helper more.
constexpr double kMinTeamStepFlops = 4.0e5;

// How long a waiting thread spins before it sleeps: inside a time loop the
// other thread arrives within microseconds; between loops the helper stays
// ready for the next layer's call a little longer.
constexpr auto kBarrierSpin = std::chrono::microseconds(200);
constexpr auto kIdleSpin = std::chrono::microseconds(500);

inline void cpu_relax() {
#ifdef SEQNET_X86
  _mm_pause();
#endif
}

// Waits until `word` differs from `seen`: spins for `spin`, then sleeps on
// the word (C++20 atomic wait); `sleepers` tells the waker to notify.
void wait_change(const std::atomic<uint32_t>& word, uint32_t seen, std::atomic<int>& sleepers,
                 std::chrono::microseconds spin) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0;; ++i) {
    if (word.load(std::memory_order_acquire) != seen) return;
    cpu_relax();
    if ((i & 255) == 255 && std::chrono::steady_clock::now() - start > spin) break;
  }
  sleepers.fetch_add(1, std::memory_order_seq_cst);
  while (word.load(std::memory_order_seq_cst) == seen) word.wait(seen, std::memory_order_seq_cst);
  sleepers.fetch_sub(1, std::memory_order_seq_cst);
}

void bump(std::atomic<uint32_t>& word, const std::atomic<int>& sleepers) {
  word.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers.load(std::memory_order_seq_cst) > 0) word.notify_all();
}

struct Job {
  int64_t steps = 0;
  int phases = 0;
  int64_t blocks = 0;
  int threads = 0;
  const std::function<void(int64_t, int, int64_t, int64_t)>* body = nullptr;
};

class Team {
 public:
  static Team& instance() {
    static Team* team = [] {
      auto* t = new Team();  // never destroyed: helpers may still sleep at exit
      pthread_atfork(nullptr, nullptr, [] { instance().after_fork_in_child(); });
      return t;
    }();
    return *team;
  }

  // Runs `job` on job.threads threads (the caller is thread 0, helper i is
  // thread i). False when another thread is using the team.
  bool run(Job& job) {
    std::unique_lock<std::mutex> lock(busy_, std::try_to_lock);
    if (!lock.owns_lock()) return false;
    while (static_cast<int>(helpers_.size()) < job.threads - 1) {
      helpers_.push_back(std::make_unique<Helper>());
      Helper* h = helpers_.back().get();
      const int index = static_cast<int>(helpers_.size());
      const uint32_t seen = h->start.load();
      std::thread([this, h, index, seen] { helper_loop(*h, index, seen); }).detach();
    }
    job_ = &job;
    arrived_.store(0, std::memory_order_relaxed);
    finished_.store(0, std::memory_order_relaxed);
    for (int i = 0; i < job.threads - 1; ++i) bump(helpers_[i]->start, helpers_[i]->sleepers);
    work(job, 0);
    // The helpers leave the job before it goes out of scope.
    while (finished_.load(std::memory_order_acquire) != job.threads - 1) cpu_relax();
    job_ = nullptr;
    return true;
  }

 private:
  struct Helper {
    std::atomic<uint32_t> start{0};  // bumped to hand this helper a job
    std::atomic<int> sleepers{0};
  };

  void helper_loop(Helper& h, int index, uint32_t seen) {
    for (;;) {
      wait_change(h.start, seen, h.sleepers, kIdleSpin);
      seen = h.start.load(std::memory_order_acquire);
      work(*job_, index);
      finished_.fetch_add(1, std::memory_order_release);
    }
  }

  void barrier(int threads) {
    const uint32_t gen = phase_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) == threads - 1) {
      arrived_.store(0, std::memory_order_relaxed);
      bump(phase_, phase_sleepers_);
    } else {
      wait_change(phase_, gen, phase_sleepers_, kBarrierSpin);
    }
  }

  void work(const Job& job, int index) {
    const int64_t b0 = job.blocks * index / job.threads, b1 = job.blocks * (index + 1) / job.threads;
    for (int64_t s = 0; s < job.steps; ++s) {
      for (int p = 0; p < job.phases; ++p) {
        if (b0 < b1) (*job.body)(s, p, b0, b1);
        barrier(job.threads);
      }
    }
  }

  void after_fork_in_child() {
    // The helpers did not survive the fork: forget them (new ones start on
    // demand).
    helpers_.clear();
    new (&busy_) std::mutex();
  }

  std::mutex busy_;
  std::vector<std::unique_ptr<Helper>> helpers_;
  Job* job_ = nullptr;
  std::atomic<uint32_t> phase_{0};
  std::atomic<int> phase_sleepers_{0};
  std::atomic<int> arrived_{0};
  std::atomic<int> finished_{0};
};

}  // namespace

double step_work(int64_t rows, int64_t k, int64_t n) {
  const double weights = static_cast<double>(k) * static_cast<double>(n);
  return std::max(2.0 * static_cast<double>(rows) * weights, 6.0 * weights);
}

void run_blocked_steps(int64_t steps, int phases, int64_t blocks, double step_flops,
                       const std::function<void(int64_t s, int phase, int64_t b0, int64_t b1)>& body) {
  if (steps <= 0 || phases <= 0 || blocks <= 0) return;
  const int threads = static_cast<int>(std::min<int64_t>(num_threads(), blocks));
  if (threads > 1 && step_flops >= kMinTeamStepFlops) {
    Job job;
    job.steps = steps;
    job.phases = phases;
    job.blocks = blocks;
    job.threads = threads;
    job.body = &body;
    if (Team::instance().run(job)) return;
  }
  for (int64_t s = 0; s < steps; ++s)
    for (int p = 0; p < phases; ++p) body(s, p, 0, blocks);
}

}  // namespace seqnet::ops
