// ops::panel_product and ops::run_blocked_steps: the products and the
// threads of the recurrent time loop. Products against a double-precision
// reference for every tile height, odd widths, packed and unpacked weights,
// transposed packing, store and accumulate; the same bits whichever way the
// weight is laid out; the loop visits every (step, phase, block) once, in
// order, with each phase finished before the next starts.

#include <gtest/gtest.h>
#include <seqnet/detail/ops/step_product.hpp>
#include <seqnet/seqnet.hpp>

#include <atomic>
#include <cmath>
#include <cstring>
#include <vector>

#include "support/gradcheck.hpp"

using namespace seqnet;

namespace {

Tensor uniform(const Shape& shape, uint64_t seed) { return seqnet::testing::random_tensor(shape, seed); }

// The product sum_k a(i, k) w(k, j) in double, and sum_k |a w| (the scale of
// its rounding), for M x N outputs.
template <class AFn, class WFn>
void reference(int64_t M, int64_t N, int64_t K, AFn a, WFn w, std::vector<double>& prod,
               std::vector<double>& scale) {
  prod.assign(M * N, 0.0);
  scale.assign(M * N, 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      for (int64_t k = 0; k < K; ++k) {
        const double t = double(a(i, k)) * w(k, j);
        prod[i * N + j] += t;
        scale[i * N + j] += std::fabs(t);
      }
}

// |got - want| within a bound scaled by the sum of |terms| (float rounding of
// a K-term sum).
void expect_close(const float* got, int64_t ldg, const std::vector<double>& want, const std::vector<double>& scale,
                  int64_t M, int64_t N, int64_t K) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      const double tol = 2e-7 * static_cast<double>(K + 2) * (scale[i * N + j] + 1e-3);
      ASSERT_NEAR(got[i * ldg + j], want[i * N + j], tol) << "row " << i << " col " << j;
    }
}

}  // namespace

TEST(StepProduct, MatchesReferenceForEveryTileHeightAndWidth) {
  for (const int64_t M : {1, 2, 3, 4, 5, 6, 7, 11, 13, 64}) {
    for (const int64_t N : {1, 7, 16, 17, 40, 100}) {
      for (const int64_t K : {1, 9, 64}) {
        SCOPED_TRACE(::testing::Message() << "M=" << M << " N=" << N << " K=" << K);
        const int64_t ldw = N + 5, lda = K + 3, ldc = N + 2, col0 = 3;
        const Tensor W = uniform({K, ldw}, 1), A = uniform({M, lda}, 2), C0 = uniform({M, ldc}, 3);
        std::vector<double> prod, scale;
        reference(
            M, N, K, [&](int64_t i, int64_t k) { return A[i * lda + k]; },
            [&](int64_t k, int64_t j) { return W[k * ldw + col0 + j]; }, prod, scale);
        ops::PanelMatrix packed, view;
        packed.pack_columns(W.data(), ldw, K, col0, N);
        view.view_columns(W.data(), ldw, K, col0, N);
        for (const bool accumulate : {false, true}) {
          std::vector<double> want = prod, bound = scale;
          if (accumulate)
            for (int64_t i = 0; i < M; ++i)
              for (int64_t j = 0; j < N; ++j) {
                want[i * N + j] += C0[i * ldc + j];
                bound[i * N + j] += std::fabs(C0[i * ldc + j]);
              }
          Tensor c1 = C0.clone(), c2 = C0.clone();
          ops::panel_product(M, A.data(), lda, packed, 0, N, c1.data(), ldc, accumulate);
          ops::panel_product(M, A.data(), lda, view, 0, N, c2.data(), ldc, accumulate);
          expect_close(c1.data(), ldc, want, bound, M, N, K);
          // Packing changes no bit, and nothing outside the columns is written.
          ASSERT_EQ(std::memcmp(c1.data(), c2.data(), sizeof(float) * c1.size()), 0);
          for (int64_t i = 0; i < M; ++i)
            for (int64_t j = N; j < ldc; ++j) ASSERT_EQ(c1[i * ldc + j], C0[i * ldc + j]);
        }
      }
    }
  }
}

TEST(StepProduct, ColumnRangesGiveTheSameBitsAsTheWholeProduct) {
  // A block of units computed alone equals the same columns of the whole
  // product: what lets threads split a step.
  const int64_t M = 20, K = 48, N = 70;
  const Tensor W = uniform({K, N}, 4), A = uniform({M, K}, 5);
  ops::PanelMatrix P;
  P.pack_columns(W.data(), N, K, 0, N);
  Tensor whole({M, N}), parts({M, N});
  ops::panel_product(M, A.data(), K, P, 0, N, whole.data(), N, false);
  for (int64_t c0 = 0; c0 < N; c0 += ops::kPanelWidth) {
    const int64_t c1 = std::min(N, c0 + ops::kPanelWidth);
    ops::panel_product(M, A.data(), K, P, c0, c1, parts.data() + c0, N, false);
  }
  EXPECT_EQ(std::memcmp(whole.data(), parts.data(), sizeof(float) * whole.size()), 0);
  // Rows computed in another tile grouping give the same bits too.
  Tensor rows({M, N});
  for (int64_t r = 0; r < M; r += 7) {
    const int64_t m = std::min<int64_t>(7, M - r);
    ops::panel_product(m, A.data() + r * K, K, P, 0, N, rows.data() + r * N, N, false);
  }
  EXPECT_EQ(std::memcmp(whole.data(), rows.data(), sizeof(float) * whole.size()), 0);
}

TEST(StepProduct, TransposedPackingIsTheTranspose) {
  // C = A . U[0:width, col0:col0+k]^T
  const int64_t M = 9, width = 37, k = 50, ldu = 80, col0 = 20;
  const Tensor U = uniform({width, ldu}, 6), A = uniform({M, k}, 7);
  ops::PanelMatrix P;
  P.pack_transposed(U.data(), ldu, width, col0, k);
  ASSERT_EQ(P.K, k);
  Tensor C({M, width});
  ops::panel_product(M, A.data(), k, P, 0, width, C.data(), width, false);
  std::vector<double> want, scale;
  reference(
      M, width, k, [&](int64_t i, int64_t kk) { return A[i * k + kk]; },
      [&](int64_t kk, int64_t j) { return U[j * ldu + col0 + kk]; }, want, scale);
  expect_close(C.data(), width, want, scale, M, width, k);
}

TEST(StepProduct, BlockedStepsRunEveryBlockOncePerPhaseInOrder) {
  const int64_t steps = 50, blocks = 13;
  const int phases = 3;
  for (const int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    set_num_threads(threads);
    // done[b] counts the (step, phase) pairs block b has completed; a block
    // may start phase p of step s only when every block has finished the
    // one before.
    std::vector<std::atomic<int64_t>> done(blocks);
    for (auto& d : done) d = 0;
    std::atomic<int> errors{0};
    ops::run_blocked_steps(steps, phases, blocks, 1e9, [&](int64_t s, int p, int64_t b0, int64_t b1) {
      const int64_t index = s * phases + p;
      for (int64_t b = 0; b < blocks; ++b) {
        const int64_t d = done[b].load();
        const bool mine = b >= b0 && b < b1;
        // Others are at this phase (not finished) or have finished it.
        if (d < index || d > index + 1 || (mine && d != index)) ++errors;
      }
      for (int64_t b = b0; b < b1; ++b) done[b].fetch_add(1);
    });
    set_num_threads(0);
    EXPECT_EQ(errors.load(), 0);
    for (auto& d : done) EXPECT_EQ(d.load(), steps * phases);
  }
}

TEST(StepProduct, SmallStepsStayOnTheCallingThread) {
  set_num_threads(2);
  std::atomic<int> calls{0};
  ops::run_blocked_steps(4, 1, 8, 10.0, [&](int64_t, int, int64_t b0, int64_t b1) {
    EXPECT_EQ(b0, 0);
    EXPECT_EQ(b1, 8);
    ++calls;
  });
  set_num_threads(0);
  EXPECT_EQ(calls.load(), 4);
}
