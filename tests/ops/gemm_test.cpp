// ops::gemm: every transpose combination, alpha/beta, strided views, edge
// sizes, shape errors.

#include <gtest/gtest.h>
#include <seqnet/detail/ops/block_gemm.hpp>
#include <seqnet/detail/ops/gemm.hpp>
#include <seqnet/seqnet.hpp>

#include <cmath>
#include <limits>
#include <tuple>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::random_tensor;

namespace {

// C = alpha op(A) op(B) + beta C in double, on strided row-major storage.
void ref_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, double beta, std::vector<double>& C, const float* C0, int64_t ldc) {
  C.assign(M * N, 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double a = ta ? A[k * lda + i] : A[i * lda + k];
        const double b = tb ? B[j * ldb + k] : B[k * ldb + j];
        s += a * b;
      }
      C[i * N + j] = alpha * s + (beta == 0.0 ? 0.0 : beta * C0[i * ldc + j]);
    }
}

// A, At, ... for the (transpose A, transpose B) parameters.
std::string transposes_name(const ::testing::TestParamInfo<std::tuple<bool, bool>>& i) {
  return std::string(std::get<0>(i.param) ? "At" : "A") + (std::get<1>(i.param) ? "Bt" : "B");
}

}  // namespace

class Gemm : public ::testing::TestWithParam<std::tuple<bool, bool>> {};
INSTANTIATE_TEST_SUITE_P(Ops, Gemm, ::testing::Combine(::testing::Bool(), ::testing::Bool()), transposes_name);

TEST_P(Gemm, StridedWithAlphaBeta) {
  const auto [ta, tb] = GetParam();
  const int64_t M = 7, N = 5, K = 9;
  // Stored shapes with extra columns (leading dimension > row length).
  const int64_t ar = ta ? K : M, ac = ta ? M : K, lda = ac + 3;
  const int64_t br = tb ? N : K, bc = tb ? K : N, ldb = bc + 2;
  const int64_t ldc = N + 4;
  const Tensor A = random_tensor({ar, lda}, 1), B = random_tensor({br, ldb}, 2);
  Tensor C = random_tensor({M, ldc}, 3);
  const Tensor C0 = C.clone();
  std::vector<double> want;
  ref_gemm(ta, tb, M, N, K, 0.7, A.data(), lda, B.data(), ldb, -1.3, want, C0.data(), ldc);
  ops::gemm(ta, tb, M, N, K, 0.7f, A.data(), lda, B.data(), ldb, -1.3f, C.data(), ldc);
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) EXPECT_NEAR(C[i * ldc + j], want[i * N + j], 1e-5) << i << "," << j;
    for (int64_t j = N; j < ldc; ++j) EXPECT_EQ(C[i * ldc + j], C0[i * ldc + j]) << "padding column touched";
  }
  (void)ar;
  (void)br;
}

TEST_P(Gemm, MatViewForm) {
  const auto [ta, tb] = GetParam();
  const int64_t M = 4, N = 3, K = 6;
  const Tensor A = random_tensor({ta ? K : M, ta ? M : K}, 4), B = random_tensor({tb ? N : K, tb ? K : N}, 5);
  Tensor C({M, N});
  ops::gemm(ta, tb, 1.0f, A.matrix(), B.matrix(), 0.0f, C.matrix());
  std::vector<double> want;
  ref_gemm(ta, tb, M, N, K, 1.0, A.data(), A.dim(1), B.data(), B.dim(1), 0.0, want, C.data(), N);
  for (int64_t i = 0; i < M * N; ++i) EXPECT_NEAR(C[i], want[i], 1e-5);
}

TEST(GemmOps, TimeSliceViews) {
  // C[:, t, :] = X[:, t, :] . W for every t of a (B, T, F) tensor.
  const Tensor X = random_tensor({3, 4, 5}, 6), W = random_tensor({5, 2}, 7);
  Tensor Y({3, 4, 2});
  for (int64_t t = 0; t < 4; ++t) ops::gemm(false, false, 1.0f, X.time_slice(t), W.matrix(), 0.0f, Y.time_slice(t));
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t t = 0; t < 4; ++t)
      for (int64_t j = 0; j < 2; ++j) {
        double s = 0;
        for (int64_t f = 0; f < 5; ++f) s += static_cast<double>(X.at(b, t, f)) * W.at(f, j);
        EXPECT_NEAR(Y.at(b, t, j), s, 1e-5);
      }
}

TEST(GemmOps, BetaZeroIgnoresGarbageInC) {
  const Tensor A = random_tensor({2, 3}, 8), B = random_tensor({3, 2}, 9);
  Tensor C({2, 2}, std::numeric_limits<float>::quiet_NaN());
  ops::gemm(false, false, 2, 2, 3, 1.0f, A.data(), 3, B.data(), 2, 0.0f, C.data(), 2);
  for (float v : C) EXPECT_TRUE(std::isfinite(v));
}

TEST(GemmOps, EdgeSizes) {
  Tensor C({2, 2}, 3.0f);
  const float dummy = 0.0f;
  ops::gemm(false, false, 2, 2, 0, 1.0f, &dummy, 1, &dummy, 2, 0.5f, C.data(), 2);  // K = 0: C = beta C
  for (float v : C) EXPECT_EQ(v, 1.5f);
  ops::gemm(false, false, 2, 2, 0, 1.0f, &dummy, 1, &dummy, 2, 0.0f, C.data(), 2);
  for (float v : C) EXPECT_EQ(v, 0.0f);
  ops::gemm(false, false, 0, 2, 3, 1.0f, &dummy, 3, &dummy, 2, 0.0f, C.data(), 2);  // M = 0: nothing
  ops::gemm(false, false, 2, 0, 3, 1.0f, &dummy, 3, &dummy, 1, 0.0f, C.data(), 2);  // N = 0: nothing
  // 1x1x1.
  const float a = 2.0f, b = 3.0f;
  float c = 1.0f;
  ops::gemm(true, true, 1, 1, 1, 1.0f, &a, 1, &b, 1, 1.0f, &c, 1);
  EXPECT_EQ(c, 7.0f);
}

TEST(GemmOps, MismatchedViewsThrow) {
  const Tensor A({2, 3}), B({4, 2});
  Tensor C({2, 2});
  EXPECT_THROW_MSG(ops::gemm(false, false, 1.0f, A.matrix(), B.matrix(), 0.0f, C.matrix()), ShapeError, "gemm",
                   "(2, 3)", "(4, 2)");
  const Tensor B2({3, 5});
  EXPECT_THROW_MSG(ops::gemm(false, false, 1.0f, A.matrix(), B2.matrix(), 0.0f, C.matrix()), ShapeError, "gemm",
                   "C (2, 2)");
  EXPECT_THROW_MSG(ops::gemm(false, false, -1, 2, 2, 1.0f, A.data(), 3, B.data(), 2, 0.0f, C.data(), 2),
                   ShapeError, "gemm", "M = -1");
}

TEST(GemmOps, Threads) {
  const int before = ops::num_threads();
  EXPECT_GE(before, 1);
  ops::set_num_threads(1);
  EXPECT_EQ(ops::num_threads(), 1);
  ops::set_num_threads(0);  // default
  EXPECT_GE(ops::num_threads(), 1);
}

// The AVX-512 blocked product behind ops::gemm's large products.
class BlockGemm : public ::testing::TestWithParam<std::tuple<bool, bool>> {};
INSTANTIATE_TEST_SUITE_P(Ops, BlockGemm, ::testing::Combine(::testing::Bool(), ::testing::Bool()), transposes_name);

TEST_P(BlockGemm, MatchesTheReferenceOnEdgeSizes) {
  if (!ops::block_gemm_available()) GTEST_SKIP() << "no AVX-512 on this CPU";
  const auto [ta, tb] = GetParam();
  // Sizes off every tile and block edge (12 x 32 tiles, depth blocks of
  // 384, row blocks of 96, column blocks of 1024), strided operands.
  const int64_t sizes[][3] = {{1, 1, 1}, {13, 33, 7}, {97, 31, 385}, {12, 1025, 800}, {200, 64, 1}};
  for (const auto& s : sizes) {
    const int64_t M = s[0], N = s[1], K = s[2];
    const int64_t lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 5, ldc = N + 2;
    const Tensor A = random_tensor({ta ? K : M, lda}, 11, -1.0f, 1.0f);
    const Tensor B = random_tensor({tb ? N : K, ldb}, 12, -1.0f, 1.0f);
    for (bool accumulate : {false, true}) {
      Tensor C = random_tensor({M, ldc}, 13, -1.0f, 1.0f);
      const Tensor C0 = C.clone();
      std::vector<double> want;
      ref_gemm(ta, tb, M, N, K, 1.0, A.data(), lda, B.data(), ldb, accumulate ? 1.0 : 0.0, want, C0.data(), ldc);
      ops::block_gemm(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, C.data(), ldc, accumulate);
      for (int64_t i = 0; i < M; ++i) {
        for (int64_t j = 0; j < ldc; ++j) {
          const float got = C[i * ldc + j];
          if (j >= N) {
            ASSERT_EQ(got, C0[i * ldc + j]) << "wrote past column " << N << " in row " << i;
            continue;
          }
          const double w = want[i * N + j];
          ASSERT_NEAR(got, w, 1e-5 * (1.0 + std::sqrt(static_cast<double>(K))) * (1.0 + std::fabs(w)))
              << M << "x" << N << "x" << K << " at (" << i << ", " << j << ")";
        }
      }
    }
  }
}

TEST_P(BlockGemm, AnElementsBitsDoNotDependOnHowCIsCut) {
  if (!ops::block_gemm_available()) GTEST_SKIP() << "no AVX-512 on this CPU";
  const auto [ta, tb] = GetParam();
  const int64_t M = 61, N = 83, K = 900;  // three depth blocks
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  const Tensor A = random_tensor({ta ? K : M, lda}, 21, -1.0f, 1.0f);
  const Tensor B = random_tensor({tb ? N : K, ldb}, 22, -1.0f, 1.0f);
  Tensor whole = Tensor::zeros({M, N}), pieces = Tensor::zeros({M, N});
  ops::block_gemm(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, whole.data(), N, false);
  // Rows [0, 7), [7, M) by columns [0, 19), [19, N): other tiles, other edges.
  for (const auto& [r0, r1] : {std::pair<int64_t, int64_t>{0, 7}, {7, M}}) {
    for (const auto& [c0, c1] : {std::pair<int64_t, int64_t>{0, 19}, {19, N}}) {
      const float* a = ta ? A.data() + r0 : A.data() + r0 * lda;
      const float* b = tb ? B.data() + c0 * ldb : B.data() + c0;
      ops::block_gemm(ta, tb, r1 - r0, c1 - c0, K, a, lda, b, ldb, pieces.data() + r0 * N + c0, N, false);
    }
  }
  for (int64_t i = 0; i < M * N; ++i) ASSERT_EQ(whole[i], pieces[i]) << "element " << i;
}
