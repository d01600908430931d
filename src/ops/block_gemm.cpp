// The large products (whole-sequence input projections, input and weight
// gradients) on an AVX-512 register-tile kernel: Goto's blocking, with both
// operands packed per block into the layout the kernel reads.
//
// - C is cut into tiles of kMR rows x kNR columns; a tile's 24 accumulators
//   (kMR rows x 2 vectors of 16) stay in registers over a depth block of
//   kKC, each k one broadcast of A per row and two loads of B (a tail of at
//   most 16 columns: one vector a row).
// - Loop order: column blocks of kNC, depth blocks of kKC (op(B) packed,
//   kKC x kNC: 1.5 MB, in L2 and L3), row blocks of kMC (op(A) packed), then
//   for each micro-panel of A (kMR x kKC: 18 KB, in L1) every micro-panel of
//   B (kKC x kNR: 48 KB, from L2). The constants were chosen by measuring
//   the benchmark shapes' products.
// - Every element of C is C (or 0) + the sum over the first depth block,
//   + the sum over the second, ..., each sum in ascending k from zero: the
//   bits depend on K and kKC only, never on where the element lies, the
//   blocks or how the caller cuts C between threads.
// - Partial tiles: packed panels are zero-padded; stores are masked.

#include "seqnet/detail/ops/block_gemm.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define SEQNET_X86 1
#endif

namespace seqnet::ops {

namespace {

constexpr int64_t kMR = 12;
constexpr int64_t kNR = 32;
constexpr int64_t kKC = 384;
constexpr int64_t kMC = 96;  // a multiple of kMR
constexpr int64_t kNC = 1024;  // a multiple of kNR

// A thread's packing buffers, 64-byte aligned, allocated on its first
// product and kept (1.6 MB a thread).
struct PackBuffer {
  std::unique_ptr<float, decltype(&std::free)> data{nullptr, &std::free};
  size_t size = 0;
  // Null when the memory cannot be had.
  float* get(size_t n) {
    if (n > size) {
      const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
      data.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
      size = data ? n : 0;
    }
    return data.get();
  }
};

thread_local PackBuffer a_buffer;
thread_local PackBuffer b_buffer;

#ifdef SEQNET_X86

bool cpu_has_avx512f() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return has;
}

// The first n lanes (n clamped to 0..16) of a vector of 16.
constexpr __mmask16 lane_mask(int64_t n) {
  return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1u);
}

// Packing. Contiguous runs are copied with AVX-512 masked loads and stores,
// transposed operands through 16 x 16 register transposes; the short tails
// are scalar loops, kept from the auto-vectorizer (GCC 12 miscompiles some
// auto-vectorized AVX-512 code, see CMakeLists.txt).

// x[i] = row i of a 16 x 16 block; afterwards x[k] = its column k.
__attribute__((target("avx512f"), always_inline)) inline void transpose16(__m512 x[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(x[2 * i], x[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(x[2 * i], x[2 * i + 1]);
  }
  // u[4g + c], 128-bit lane L: rows 4g..4g+3 of column 4L + c.
  for (int g = 0; g < 4; ++g) {
    u[4 * g + 0] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
    u[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
    u[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
    u[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) {
    // Lanes 0-1 (lo) or 2-3 (hi) of rows 0-7 (p) and of rows 8-15 (q).
    const __m512 p_lo = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44);
    const __m512 q_lo = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44);
    const __m512 p_hi = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE);
    const __m512 q_hi = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
    x[c] = _mm512_shuffle_f32x4(p_lo, q_lo, 0x88);
    x[4 + c] = _mm512_shuffle_f32x4(p_lo, q_lo, 0xDD);
    x[8 + c] = _mm512_shuffle_f32x4(p_hi, q_hi, 0x88);
    x[12 + c] = _mm512_shuffle_f32x4(p_hi, q_hi, 0xDD);
  }
}

// op(A)[i][k] for rows i0.., depth k0..: micro-panels of kMR rows, k-major
// (kMR values per k), rows past mc zero.
__attribute__((target("avx512f"), optimize("no-tree-vectorize"))) void pack_a(bool ta, const float* A, int64_t lda,
                                                                               int64_t i0, int64_t mc, int64_t k0,
                                                                               int64_t kc, float* out) {
  for (int64_t ir = 0; ir < mc; ir += kMR) {
    const int64_t rows = std::min(kMR, mc - ir);
    float* p = out + ir * kc;
    if (ta) {
      // op(A)[i][k] = A[k * lda + i]: kMR contiguous values per k.
      const __mmask16 load = lane_mask(rows), store = lane_mask(kMR);
      const float* src = A + k0 * lda + i0 + ir;
      for (int64_t k = 0; k < kc; ++k) {
        _mm512_mask_storeu_ps(p + k * kMR, store, _mm512_maskz_loadu_ps(load, src + k * lda));
      }
    } else {
      // op(A)[i][k] = A[i * lda + k]: 16 values of each row at a time,
      // transposed in registers (rows past `rows` zero).
      const float* src = A + (i0 + ir) * lda + k0;
      const __mmask16 store = lane_mask(kMR);
      int64_t k = 0;
      for (; k + 16 <= kc; k += 16) {
        __m512 x[16];
        for (int r = 0; r < 16; ++r) x[r] = r < rows ? _mm512_loadu_ps(src + r * lda + k) : _mm512_setzero_ps();
        transpose16(x);
        for (int j = 0; j < 16; ++j) _mm512_mask_storeu_ps(p + (k + j) * kMR, store, x[j]);
      }
      for (; k < kc; ++k)
        for (int64_t r = 0; r < kMR; ++r) p[k * kMR + r] = r < rows ? src[r * lda + k] : 0.0f;
    }
  }
}

// op(B)[k][j] for depth k0.., columns j0..: micro-panels of kNR columns,
// k-major (kNR values per k), columns past nc zero.
__attribute__((target("avx512f"), optimize("no-tree-vectorize"))) void pack_b(bool tb, const float* B, int64_t ldb,
                                                                               int64_t k0, int64_t kc, int64_t j0,
                                                                               int64_t nc, float* out) {
  if (tb) {
    // op(B)[k][j] = B[j * ldb + k]: 16 columns x 16 k at a time, transposed
    // in registers (columns past nc zero).
    for (int64_t jr = 0; jr < nc; jr += kNR) {
      float* p = out + jr * kc;
      for (int64_t half = 0; half < kNR; half += 16) {
        const int64_t cols = std::clamp<int64_t>(nc - jr - half, 0, 16);
        const float* src = B + (j0 + jr + half) * ldb + k0;
        int64_t k = 0;
        for (; k + 16 <= kc; k += 16) {
          __m512 x[16];
          for (int c = 0; c < 16; ++c) x[c] = c < cols ? _mm512_loadu_ps(src + c * ldb + k) : _mm512_setzero_ps();
          transpose16(x);
          for (int j = 0; j < 16; ++j) _mm512_store_ps(p + (k + j) * kNR + half, x[j]);
        }
        for (; k < kc; ++k)
          for (int64_t c = 0; c < 16; ++c) p[k * kNR + half + c] = c < cols ? src[c * ldb + k] : 0.0f;
      }
    }
    return;
  }
  // Row by row of the source (sequential reads), each into every panel.
  for (int64_t k = 0; k < kc; ++k) {
    const float* src = B + (k0 + k) * ldb + j0;
    for (int64_t jr = 0; jr < nc; jr += kNR) {
      const int64_t cols = nc - jr;
      float* dst = out + jr * kc + k * kNR;
      _mm512_store_ps(dst, _mm512_maskz_loadu_ps(lane_mask(cols), src + jr));
      _mm512_store_ps(dst + 16, _mm512_maskz_loadu_ps(lane_mask(cols - 16), src + jr + 16));
    }
  }
}

// C[0..rows)[0..cols) (+)= Ap . Bp over kc: Ap kMR x kc, k-major (kMR values
// per k), Bp kc x kNR. NV vectors of 16 columns: 1 for a tail of at most 16
// columns (the same sums, half the work).
template <int NV>
__attribute__((target("avx512f"))) void kernel_12xNV(int64_t kc, const float* __restrict Ap,
                                                      const float* __restrict Bp, float* C, int64_t ldc,
                                                      bool accumulate, int64_t rows, int64_t cols) {
  __m512 acc[kMR][NV];
#pragma GCC unroll 12
  for (int r = 0; r < kMR; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
  // The tile of C comes to L2 while the sums run (it is read at the end).
  if (accumulate) {
    for (int64_t r = 0; r < rows; ++r) {
      _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc + NV * 16 - 1), _MM_HINT_T1);
    }
  }
  for (int64_t k = 0; k < kc; ++k) {
    __m512 b[NV];
    for (int v = 0; v < NV; ++v) b[v] = _mm512_load_ps(Bp + k * kNR + 16 * v);
    const float* a = Ap + k * kMR;
#pragma GCC unroll 12
    for (int r = 0; r < kMR; ++r) {
      const __m512 av = _mm512_set1_ps(a[r]);
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(av, b[v], acc[r][v]);
    }
  }
  const __mmask16 masks[2] = {lane_mask(cols), lane_mask(cols - 16)};
#pragma GCC unroll 12
  for (int r = 0; r < kMR; ++r) {
    if (r >= rows) break;
    float* c = C + r * ldc;
    for (int v = 0; v < NV; ++v) {
      __m512 x = acc[r][v];
      if (accumulate) x = _mm512_add_ps(_mm512_maskz_loadu_ps(masks[v], c + 16 * v), x);
      _mm512_mask_storeu_ps(c + 16 * v, masks[v], x);
    }
  }
}

#endif

}  // namespace

bool block_gemm_available() {
#ifdef SEQNET_X86
  return cpu_has_avx512f();
#else
  return false;
#endif
}

bool block_gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate) {
#ifdef SEQNET_X86
  if (!cpu_has_avx512f()) return false;
  if (M <= 0 || N <= 0) return true;
  if (K <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < M; ++i) std::fill_n(C + i * ldc, N, 0.0f);
    return true;
  }
  float* bp = b_buffer.get(static_cast<size_t>(kKC * kNC));
  float* ap = a_buffer.get(static_cast<size_t>(kMC * kKC));
  if (bp == nullptr || ap == nullptr) return false;
  for (int64_t jc = 0; jc < N; jc += kNC) {
    const int64_t nc = std::min(kNC, N - jc);
    for (int64_t pc = 0; pc < K; pc += kKC) {
      const int64_t kc = std::min(kKC, K - pc);
      const bool acc = accumulate || pc > 0;
      pack_b(trans_b, B, ldb, pc, kc, jc, nc, bp);
      for (int64_t ic = 0; ic < M; ic += kMC) {
        const int64_t mc = std::min(kMC, M - ic);
        pack_a(trans_a, A, lda, ic, mc, pc, kc, ap);
        for (int64_t ir = 0; ir < mc; ir += kMR) {
          const float* a = ap + ir * kc;
          float* c = C + (ic + ir) * ldc + jc;
          const int64_t rows = std::min(kMR, mc - ir);
          for (int64_t jr = 0; jr < nc; jr += kNR) {
            const int64_t cols = std::min(kNR, nc - jr);
            (cols > 16 ? &kernel_12xNV<2> : &kernel_12xNV<1>)(kc, a, bp + jr * kc, c + jr, ldc, acc, rows, cols);
          }
        }
      }
    }
  }
  return true;
#else
  (void)trans_a, (void)trans_b, (void)M, (void)N, (void)K, (void)A, (void)lda, (void)B, (void)ldb, (void)C, (void)ldc,
      (void)accumulate;
  return false;
#endif
}

}  // namespace seqnet::ops
