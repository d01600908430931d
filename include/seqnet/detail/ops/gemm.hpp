#pragma once
// The one entry point to BLAS. Every matrix product in seqnet goes through
// ops::gemm, so another backend can replace this single function.

#include <cstdint>

#include "seqnet/tensor.hpp"

namespace seqnet::ops {

// C = alpha * op(A) * op(B) + beta * C, all row-major.
// op(A) is (M, K): A is stored (M, K) with leading dimension lda, or (K, M)
// when trans_a. op(B) is (K, N): B is stored (K, N), or (N, K) when trans_b.
// C is (M, N) with leading dimension ldc. With beta == 0, C need not be
// initialized. Sizes of zero are allowed (nothing happens, except that C is
// scaled by beta when K == 0).
// REQUIRES: the pointers cover the described windows; all sizes fit in int.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// The same on strided views: C = alpha * op(A) * op(B) + beta * C.
void gemm(bool trans_a, bool trans_b, float alpha, const MatView& A, const MatView& B, float beta, const MatView& C);

// The precision of the products the calling thread runs: float32, or
// bfloat16 operands with float32 sums (the mixed_bfloat16 policy; see
// seqnet/mixed_precision.hpp). A layer sets it around its own forward and
// backward work (Layer::forward / backward); work it hands to other threads
// carries it (packed panels keep their format; Bidirectional's second
// direction sets the scope again).
enum class Precision { Float32, BFloat16 };
Precision compute_precision();
class ScopedPrecision {
 public:
  explicit ScopedPrecision(Precision p);
  ~ScopedPrecision();
  ScopedPrecision(const ScopedPrecision&) = delete;
  ScopedPrecision& operator=(const ScopedPrecision&) = delete;

 private:
  Precision saved_;
};

// The most threads a product may use. Default: OpenBLAS's default
// (OPENBLAS_NUM_THREADS or OMP_NUM_THREADS when set, else all cores);
// n <= 0 restores it. Products of at most 4 rows run in Eigen and products of
// up to 2^26 multiply-adds on one thread (the per-step products of recurrent
// layers): splitting those across threads costs more than it saves.
// Not thread-safe: set it before training, from one thread.
void set_num_threads(int n);
int num_threads();

// While alive, the products of the calling thread use at most `n` threads
// (for work already running on its own core, such as one direction of a
// Bidirectional layer). Results do not change: products are cut into the
// same panels whatever the thread count.
class ScopedProductThreads {
 public:
  explicit ScopedProductThreads(int n);
  ~ScopedProductThreads();
  ScopedProductThreads(const ScopedProductThreads&) = delete;
  ScopedProductThreads& operator=(const ScopedProductThreads&) = delete;

 private:
  int saved_;
};

}  // namespace seqnet::ops
