#include "seqnet/detail/ops/gemm.hpp"
#include "seqnet/threads.hpp"

#include <cblas.h>
#include <fmt/format.h>

#include <Eigen/Core>
#include <climits>

#include "seqnet/error.hpp"

extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}

namespace seqnet::ops {

namespace {

// Dispatch (measured on the benchmark shapes, see bench/):
// - at most kEigenRows rows: Eigen. OpenBLAS packs all of B on every call,
//   which dominates products of a single row (single-step inference, batch 1
//   training): 5x faster this way.
// - up to kSingleThreadWork multiply-adds: OpenBLAS on one thread. The
//   per-time-step products of recurrent layers are this size; splitting them
//   across threads costs more in synchronisation than it saves (and much
//   more on a loaded machine).
// - larger (whole-sequence input projections and weight gradients): OpenBLAS
//   on every thread allowed.
constexpr int64_t kEigenRows = 4;
constexpr int64_t kSingleThreadWork = int64_t{1} << 26;

int max_threads_setting = 0;  // 0 = all cores
int blas_threads = -1;        // what OpenBLAS is currently set to (-1 unknown)

int all_threads() {
  if (max_threads_setting > 0) return max_threads_setting;
  // OpenBLAS's own default: OPENBLAS_NUM_THREADS / OMP_NUM_THREADS or all cores.
  static const int blas_default = [] {
    const int n = openblas_get_num_threads();
    return n > 0 ? n : 1;
  }();
  return blas_default;
}

void use_blas_threads(int n) {
  if (blas_threads != n) {
    openblas_set_num_threads(n);
    blas_threads = n;
  }
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

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  const int m = to_int(M, "M"), n = to_int(N, "N"), k = to_int(K, "K");
  if (M == 0 || N == 0) return;
  if (K == 0) {
    for (int64_t i = 0; i < M; ++i) {
      float* c = C + i * ldc;
      for (int64_t j = 0; j < N; ++j) c[j] = beta == 0.0f ? 0.0f : beta * c[j];
    }
    return;
  }
  if (M <= kEigenRows) {
    eigen_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  use_blas_threads(M * N * K <= kSingleThreadWork ? 1 : all_threads());
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              m, n, k, alpha, A, to_int(lda, "lda"), B, to_int(ldb, "ldb"),
              beta, C, to_int(ldc, "ldc"));
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

int num_threads() { return all_threads(); }

}  // namespace seqnet::ops

namespace seqnet {

void set_num_threads(int n) { ops::set_num_threads(n); }
int num_threads() { return ops::num_threads(); }

}  // namespace seqnet
