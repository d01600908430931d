#include "seqnet/detail/ops/gemm.hpp"
#include "seqnet/detail/ops/block_gemm.hpp"
#include "seqnet/detail/ops/step_product.hpp"
#include "seqnet/threads.hpp"

#include <cblas.h>
#include <fmt/format.h>

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <climits>
#include <vector>

#include "seqnet/error.hpp"

extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}

namespace seqnet::ops {

namespace {

// Dispatch (measured on the benchmark shapes, see bench/):
// - at most kEigenRows rows (B not transposed), or at most kSmallWork
//   multiply-adds: the time loop's kernel (ops/step_product.hpp) when alpha
//   and beta are 1 or 0, else Eigen (few rows) or OpenBLAS. OpenBLAS packs
//   all of B on every call, which dominates products of a single row
//   (single-step inference, batch 1 training), and its fixed costs dominate
//   small products (the seeds' models).
// - larger: the blocked AVX-512 kernel (ops/block_gemm.hpp) where the CPU
//   has AVX-512 and the shape suits it (see gemm()), else OpenBLAS (also
//   for alpha, beta other than 1, 0/1); up to kSingleThreadWork
//   multiply-adds one call on the calling thread.
// - larger still (whole-sequence input projections and gradients): cut
//   into an even number of panels of at most kPanel rows or columns of C
//   (along its larger side; the last panel narrower), each thread of the
//   time loop's team (ops::run_blocked_steps) taking a contiguous share:
//   one single-threaded OpenBLAS call per panel, or one blocked-kernel call
//   for the thread's whole share (its bits do not depend on the cut). The
//   panels depend on the shape only, never on the thread count, so every
//   element of C comes out the same however many threads run: results are
//   bit-identical on 1 or 2 threads. (OpenBLAS's own threading changes the
//   rounding with the thread count, and so does its blocking for different
//   sizes, which is why the cut is fixed.)
constexpr int64_t kEigenRows = 4;
constexpr int64_t kSmallWork = int64_t{1} << 19;
constexpr int64_t kSingleThreadWork = int64_t{1} << 26;
constexpr int64_t kPanel = 512;
constexpr int64_t kBlockColumns = 192;
constexpr int64_t kBlockDepth = 64;

int max_threads_setting = 0;        // 0 = all cores
std::atomic<int> blas_threads{-1};  // what OpenBLAS is currently set to (-1 unknown)
thread_local int thread_limit = 0;  // ScopedProductThreads (0: none)

// OpenBLAS's own default: OPENBLAS_NUM_THREADS / OMP_NUM_THREADS or all
// cores, read before the first openblas_set_num_threads (after it,
// openblas_get_num_threads reports what was set).
int blas_default_threads() {
  static const int blas_default = [] {
    const int n = openblas_get_num_threads();
    return n > 0 ? n : 1;
  }();
  return blas_default;
}

int all_threads() {
  if (thread_limit > 0) return thread_limit;
  if (max_threads_setting > 0) return max_threads_setting;
  return blas_default_threads();
}

void use_blas_threads(int n) {
  (void)blas_default_threads();  // read before it is changed here
  if (blas_threads.exchange(n) != n) openblas_set_num_threads(n);
}

int to_int(int64_t v, const char* what) {
  if (v < 0 || v > INT_MAX) throw ShapeError(fmt::format("gemm: {} = {} is outside the BLAS range", what, v));
  return static_cast<int>(v);
}

void eigen_gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using ConstMap = Eigen::Map<const RowMajor, 0, Eigen::OuterStride<>>;
  using Map = Eigen::Map<RowMajor, 0, Eigen::OuterStride<>>;
  Map c(C, M, N, Eigen::OuterStride<>(ldc));
  if (beta == 0.0f) {
    c.setZero();
  } else if (beta != 1.0f) {
    c *= beta;
  }
  ConstMap a(A, trans_a ? K : M, trans_a ? M : K, Eigen::OuterStride<>(lda));
  ConstMap b(B, trans_b ? N : K, trans_b ? K : N, Eigen::OuterStride<>(ldb));
  if (!trans_a && !trans_b) {
    c.noalias() += alpha * a * b;
  } else if (!trans_a) {
    c.noalias() += alpha * a * b.transpose();
  } else if (!trans_b) {
    c.noalias() += alpha * a.transpose() * b;
  } else {
    c.noalias() += alpha * a.transpose() * b.transpose();
  }
}

thread_local Precision precision = Precision::Float32;

// bfloat16 products (the mixed_bfloat16 policy) on the time loop's panel
// kernel: op(B) packed into bfloat16 panels, C cut into blocks of
// kBf16Rows rows shared by the team, and K into blocks of kBf16Depth (a
// sum per block, added to C in order) so that a block's operands stay in
// L2. The cut depends on the shape only: the same bits on 1 or 2 threads.
constexpr int64_t kBf16Rows = 96;
constexpr int64_t kBf16Depth = 1024;

void bf16_gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  // alpha and beta other than 1 and 0/1: the product into a buffer first.
  if (alpha != 1.0f || (beta != 0.0f && beta != 1.0f)) {
    std::vector<float> tmp(static_cast<size_t>(M * N));
    bf16_gemm(trans_a, trans_b, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, tmp.data(), N);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        float& c = C[i * ldc + j];
        c = alpha * tmp[static_cast<size_t>(i * N + j)] + (beta == 0.0f ? 0.0f : beta * c);
      }
    return;
  }
  const int64_t depth_blocks = (K + kBf16Depth - 1) / kBf16Depth;
  // The thread's packed blocks, kept for the next call (a layer's products
  // repeat their shapes from batch to batch).
  static thread_local std::vector<PanelMatrix> packed_blocks;
  // A plain reference: inside the team's lambda the thread_local name would
  // mean the helper thread's own (empty) vector.
  std::vector<PanelMatrix>& panels = packed_blocks;
  if (panels.size() < static_cast<size_t>(depth_blocks)) panels.resize(static_cast<size_t>(depth_blocks));
  for (int64_t d = 0; d < depth_blocks; ++d) {
    const int64_t k0 = d * kBf16Depth, kk = std::min(kBf16Depth, K - k0);
    PanelMatrix& W = panels[static_cast<size_t>(d)];
    if (trans_b) {
      W.pack_transposed(B, ldb, N, k0, kk);
    } else {
      W.pack_columns(B + k0 * ldb, ldb, kk, 0, N);
    }
  }
  const int64_t blocks = (M + kBf16Rows - 1) / kBf16Rows;
  // The helpers need no precision of their own: the panels carry their format.
  run_blocked_steps(1, 1, blocks, 2.0 * static_cast<double>(M) * N * K, [&](int64_t, int, int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t r0 = b * kBf16Rows, rows = std::min(kBf16Rows, M - r0);
      for (int64_t d = 0; d < depth_blocks; ++d) {
        const int64_t k0 = d * kBf16Depth;
        // op(A)[r][k] = A[r * lda + k] or, transposed, A[k * lda + r].
        const float* a = trans_a ? A + k0 * lda + r0 : A + r0 * lda + k0;
        panel_product(rows, a, trans_a ? 1 : lda, panels[static_cast<size_t>(d)], 0, N, C + r0 * ldc, ldc,
                      d > 0 || beta == 1.0f, trans_a ? lda : 1);
      }
    }
  });
}

}  // namespace

Precision compute_precision() { return precision; }
ScopedPrecision::ScopedPrecision(Precision p) : saved_(precision) { precision = p; }
ScopedPrecision::~ScopedPrecision() { precision = saved_; }

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  (void)to_int(M, "M");
  (void)to_int(N, "N");
  const int k = to_int(K, "K");
  if (M == 0 || N == 0) return;
  if (K == 0) {
    for (int64_t i = 0; i < M; ++i) {
      float* c = C + i * ldc;
      for (int64_t j = 0; j < N; ++j) c[j] = beta == 0.0f ? 0.0f : beta * c[j];
    }
    return;
  }
  if (precision == Precision::BFloat16) {
    bf16_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  const bool unit_scales = alpha == 1.0f && (beta == 0.0f || beta == 1.0f);
  if (unit_scales && ((M <= kEigenRows && !trans_b) || M * N * K <= kSmallWork)) {
    // The step products' kernel: on B in place, or on B^T packed. A^T is
    // read with swapped strides.
    static thread_local PanelMatrix packed;
    PanelMatrix view;
    if (trans_b) {
      packed.pack_transposed(B, ldb, N, 0, K);
    } else {
      view.view_columns(B, ldb, K, 0, N);
    }
    panel_product(M, A, trans_a ? 1 : lda, trans_b ? packed : view, 0, N, C, ldc, beta == 1.0f, trans_a ? lda : 1);
    return;
  }
  if (M <= kEigenRows) {
    eigen_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  use_blas_threads(1);
  const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans, tb = trans_b ? CblasTrans : CblasNoTrans;
  const int ilda = to_int(lda, "lda"), ildb = to_int(ldb, "ldb"), ildc = to_int(ldc, "ldc");
  // The blocked AVX-512 kernel where the CPU has AVX-512 and it measured
  // faster than OpenBLAS (block_gemm.cpp): weight gradients (op(A)
  // transposed) at any size, other products with at least kBlockColumns
  // columns and a depth of kBlockDepth (narrower or shallower ones waste
  // its 12 x 32 tile or its packing).
  const bool block =
      unit_scales && block_gemm_available() && (trans_a || (N >= kBlockColumns && K >= kBlockDepth));
  // rows [lo, lo + w) of C, or its columns, on the calling thread.
  auto run_share = [&](bool rows, int64_t lo, int64_t w) {
    const float* a = rows ? (trans_a ? A + lo : A + lo * lda) : A;
    const float* b = rows ? B : (trans_b ? B + lo * ldb : B + lo);
    float* c = rows ? C + lo * ldc : C + lo;
    const int64_t mm = rows ? w : M, nn = rows ? N : w;
    if (block && block_gemm(trans_a, trans_b, mm, nn, K, a, lda, b, ldb, c, ldc, beta == 1.0f)) return;
    cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(mm), static_cast<int>(nn), k, alpha, a, ilda, b, ildb, beta, c,
                ildc);
  };
  if (M * N * K <= kSingleThreadWork || std::max(M, N) <= kPanel) {
    run_share(true, 0, M);
    return;
  }
  // Panels of C's rows (each takes rows of op(A)) or of its columns (each
  // takes columns of op(B)).
  const bool by_rows = M >= N;
  const int64_t extent = by_rows ? M : N;
  // An even number of panels of at most kPanel (multiples of 16 wide), so
  // that two threads get equal shares; the cut depends on the shape only.
  int64_t panels = (extent + kPanel - 1) / kPanel;
  panels += panels % 2;
  const int64_t width = ((extent + panels - 1) / panels + 15) / 16 * 16;
  panels = (extent + width - 1) / width;
  // On the time loop's threads (no thread started per call; the helper
  // that just ran a loop is still spinning, ready). The blocked kernel
  // takes a thread's panels in one call (its bits do not depend on the
  // cut), packing each block of the other operand once.
  run_blocked_steps(1, 1, panels, 2.0 * static_cast<double>(M) * N * K, [&](int64_t, int, int64_t p0, int64_t p1) {
    if (block) {
      run_share(by_rows, p0 * width, std::min(p1 * width, extent) - p0 * width);
      return;
    }
    for (int64_t p = p0; p < p1; ++p) run_share(by_rows, p * width, std::min(width, extent - p * width));
  });
}

void gemm(bool trans_a, bool trans_b, float alpha, const MatView& A, const MatView& B, float beta, const MatView& C) {
  const int64_t M = trans_a ? A.cols : A.rows;
  const int64_t K = trans_a ? A.rows : A.cols;
  const int64_t KB = trans_b ? B.cols : B.rows;
  const int64_t N = trans_b ? B.rows : B.cols;
  if (K != KB || C.rows != M || C.cols != N) {
    throw ShapeError(fmt::format("gemm: mismatched operands: op(A) ({}, {}), op(B) ({}, {}), C ({}, {})", M, K, KB, N,
                                 C.rows, C.cols));
  }
  gemm(trans_a, trans_b, M, N, K, alpha, A.data, A.ld, B.data, B.ld, beta, C.data, C.ld);
}

void set_num_threads(int n) {
  max_threads_setting = n > 0 ? n : 0;
  blas_threads = -1;  // re-apply on the next product
}

ScopedProductThreads::ScopedProductThreads(int n) : saved_(thread_limit) { thread_limit = n > 0 ? n : 0; }
ScopedProductThreads::~ScopedProductThreads() { thread_limit = saved_; }

int num_threads() { return all_threads(); }

}  // namespace seqnet::ops

namespace seqnet {

void set_num_threads(int n) { ops::set_num_threads(n); }
int num_threads() { return ops::num_threads(); }

}  // namespace seqnet
