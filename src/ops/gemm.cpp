#include "seqnet/ops/gemm.hpp"

#include <cblas.h>
#include <fmt/format.h>

#include <climits>
#include <thread>

#include "seqnet/error.hpp"

extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}

namespace seqnet::ops {

namespace {

int to_int(int64_t v, const char* what) {
  if (v < 0 || v > INT_MAX) throw ShapeError(fmt::format("gemm: {} = {} is outside the BLAS range", what, v));
  return static_cast<int>(v);
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    for (int64_t i = 0; i < M; ++i) {
      float* c = C + i * ldc;
      for (int64_t j = 0; j < N; ++j) c[j] = beta == 0.0f ? 0.0f : beta * c[j];
    }
    return;
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              to_int(M, "M"), to_int(N, "N"), to_int(K, "K"), alpha, A, to_int(lda, "lda"), B, to_int(ldb, "ldb"),
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
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  openblas_set_num_threads(n);
}

int num_threads() { return openblas_get_num_threads(); }

}  // namespace seqnet::ops
