// bfloat16 products (the mixed_bfloat16 policy's kernels): the rounding of
// float32 to bfloat16; panel_product on bfloat16 panels, in hardware
// (AVX512_BF16, where the CPU has it) and emulated, against the documented
// order of operations (per pair of k: the odd product added, then the even
// one, each exact, from zero; then added to C), bit for bit; ops::gemm in
// bfloat16 for every transpose, depth blocks and alpha/beta against a
// double reference on the rounded operands, and the same bits on 1 or 2
// threads.

#include <gtest/gtest.h>
#include <seqnet/detail/ops/gemm.hpp>
#include <seqnet/detail/ops/step_product.hpp>
#include <seqnet/seqnet.hpp>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "support/gradcheck.hpp"

using namespace seqnet;

namespace {

Tensor uniform(const Shape& shape, uint64_t seed) { return seqnet::testing::random_tensor(shape, seed); }

uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }
float from_bits(uint32_t u) { return std::bit_cast<float>(u); }

TEST(Bf16Rounding, NearestEvenSubnormalsNanInfinity) {
  EXPECT_EQ(ops::bf16_bits(1.0f), 0x3f80);
  EXPECT_EQ(ops::bf16_bits(-2.0f), 0xc000);
  // Halfway cases go to the even neighbour; above halfway rounds up.
  EXPECT_EQ(ops::bf16_bits(from_bits(0x3f808000u)), 0x3f80);
  EXPECT_EQ(ops::bf16_bits(from_bits(0x3f818000u)), 0x3f82);
  EXPECT_EQ(ops::bf16_bits(from_bits(0x3f808001u)), 0x3f81);
  EXPECT_EQ(ops::bf16_bits(from_bits(0x3f807fffu)), 0x3f80);
  // Subnormals become zeros of their sign; zeros stay.
  EXPECT_EQ(ops::bf16_bits(from_bits(0x00400000u)), 0x0000);
  EXPECT_EQ(ops::bf16_bits(from_bits(0x80000001u)), 0x8000);
  EXPECT_EQ(ops::bf16_bits(-0.0f), 0x8000);
  // Overflow to infinity, infinities stay, NaN stays NaN.
  EXPECT_EQ(ops::bf16_bits(std::numeric_limits<float>::max()), 0x7f80);
  EXPECT_EQ(ops::bf16_bits(-std::numeric_limits<float>::infinity()), 0xff80);
  EXPECT_TRUE(std::isnan(ops::bf16_round(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_TRUE(std::isnan(ops::bf16_round(from_bits(0x7f800001u))));  // a signalling NaN would round to infinity
  EXPECT_EQ(ops::bf16_round(3.14159265f), 3.140625f);
}

TEST(Bf16Rounding, VectorizedRowsGiveTheScalarBits) {
  // Random values over the whole float range, halfway cases, specials.
  std::vector<float> v;
  Generator g(17);
  for (int i = 0; i < 4000; ++i) v.push_back(from_bits(static_cast<uint32_t>(g.next_u64())));
  for (uint32_t base : {0x3f800000u, 0xc1200000u, 0x00800000u, 0x7f7f0000u})
    for (uint32_t low : {0x0000u, 0x7fffu, 0x8000u, 0x8001u, 0xffffu}) v.push_back(from_bits(base | low));
  for (float f : {0.0f, -0.0f, std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                  std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::min() / 2}) {
    v.push_back(f);
  }
  for (size_t n : {v.size(), size_t{1}, size_t{15}, size_t{17}, size_t{33}}) {
    std::vector<uint16_t> got(n);
    ops::bf16_convert(v.data(), static_cast<int64_t>(n), got.data());
    for (size_t i = 0; i < n; ++i) {
      if (std::isnan(v[i])) {
        EXPECT_TRUE(std::isnan(from_bits(static_cast<uint32_t>(got[i]) << 16))) << i;
        EXPECT_EQ(got[i] & 0x8040, ops::bf16_bits(v[i]) & 0x8040) << i;  // sign and quiet bit
      } else {
        ASSERT_EQ(got[i], ops::bf16_bits(v[i])) << "value " << i << " bits " << std::hex << bits(v[i]);
      }
    }
  }
}

// C (+)= A W in the order VDPBF16PS adds: per pair q, acc += a[2q+1] w[2q+1]
// then acc += a[2q] w[2q] (products of bfloat16 values are exact in float).
std::vector<float> documented(int64_t M, int64_t N, int64_t K, const Tensor& A, const Tensor& W,
                              const std::vector<float>& C0, bool accumulate) {
  std::vector<float> out(static_cast<size_t>(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float acc = 0.0f;
      for (int64_t q = 0; q < (K + 1) / 2; ++q) {
        if (2 * q + 1 < K) acc += ops::bf16_round(A.at(i, 2 * q + 1)) * ops::bf16_round(W.at(2 * q + 1, j));
        acc += ops::bf16_round(A.at(i, 2 * q)) * ops::bf16_round(W.at(2 * q, j));
      }
      const size_t o = static_cast<size_t>(i * N + j);
      out[o] = accumulate ? C0[o] + acc : acc;
    }
  return out;
}

void check_panel_products(bool emulated) {
  ops::force_bf16_emulation(emulated);
  const ops::ScopedPrecision bf16(ops::Precision::BFloat16);
  uint64_t seed = 1;
  for (int64_t M : {1, 2, 3, 5, 6, 7, 8, 11, 12, 13, 25, 64}) {
    for (int64_t K : {1, 2, 7, 16, 33, 256}) {
      for (int64_t N : {5, 16, 31, 48, 64, 100}) {
        const Tensor A = uniform({M, K}, seed++), W = uniform({K, N}, seed++);
        const Tensor C0 = uniform({M, N}, seed++);
        for (bool transposed : {false, true}) {
          ops::PanelMatrix P;
          if (transposed) {
            Tensor t({N, K});
            for (int64_t k = 0; k < K; ++k)
              for (int64_t j = 0; j < N; ++j) t.at(j, k) = W.at(k, j);
            P.pack_transposed(t.data(), K, N, 0, K);
          } else if (M <= 6) {
            P.view_columns(W.data(), N, K, 0, N);  // bfloat16 packs instead of viewing
          } else {
            P.pack_columns(W.data(), N, K, 0, N);
          }
          ASSERT_TRUE(P.packed);
          ASSERT_EQ(P.format, emulated || !ops::panel_product_bf16_hardware() ? ops::PanelFormat::BFloat16Emulated
                                                                              : ops::PanelFormat::BFloat16Pairs);
          for (bool accumulate : {false, true}) {
            std::vector<float> C(C0.begin(), C0.end());
            ops::panel_product(M, A.data(), K, P, 0, N, C.data(), N, accumulate);
            const std::vector<float> want =
                documented(M, N, K, A, W, std::vector<float>(C0.begin(), C0.end()), accumulate);
            for (size_t e = 0; e < C.size(); ++e) {
              ASSERT_EQ(bits(C[e]), bits(want[e]))
                  << "M " << M << " K " << K << " N " << N << " element " << e << (transposed ? " transposed" : "")
                  << (accumulate ? " accumulate" : "") << (emulated ? " emulated" : " hardware") << ": " << C[e]
                  << " vs " << want[e];
            }
          }
        }
      }
    }
  }
  ops::force_bf16_emulation(false);
}

TEST(Bf16PanelProduct, EmulatedFollowsTheDocumentedOrderBitForBit) { check_panel_products(true); }

TEST(Bf16PanelProduct, HardwareFollowsTheDocumentedOrderBitForBit) {
  if (!ops::panel_product_bf16_hardware()) GTEST_SKIP() << "this CPU has no AVX512_BF16";
  check_panel_products(false);
}

TEST(Bf16PanelProduct, ColumnRangesAndStridedOperands) {
  // A block of columns [c0, c1) of a packed weight, A read with a k stride
  // (A^T in place), C with its own leading dimension.
  const ops::ScopedPrecision bf16(ops::Precision::BFloat16);
  const int64_t M = 9, K = 40, N = 80, c0 = 32, c1 = 71;
  const Tensor At = uniform({K, M}, 3), W = uniform({K, N}, 4);
  Tensor A({M, K});
  for (int64_t i = 0; i < M; ++i)
    for (int64_t k = 0; k < K; ++k) A.at(i, k) = At.at(k, i);
  ops::PanelMatrix P;
  P.pack_columns(W.data(), N, K, 0, N);
  const int64_t ldc = 50;
  std::vector<float> C(static_cast<size_t>(M * ldc), -7.0f);
  ops::panel_product(M, At.data(), 1, P, c0, c1, C.data() + 3, ldc, false, M);
  const std::vector<float> full = documented(M, N, K, A, W, std::vector<float>(M * N, 0.0f), false);
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const float got = C[static_cast<size_t>(i * ldc + j)];
      if (j >= 3 && j < 3 + (c1 - c0)) {
        ASSERT_EQ(bits(got), bits(full[static_cast<size_t>(i * N + c0 + j - 3)])) << i << ", " << j;
      } else {
        ASSERT_EQ(got, -7.0f) << "written outside the block at " << i << ", " << j;
      }
    }
  }
}

// sum_k bf(a) bf(b) in double and its scale.
void rounded_reference(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const Tensor& A, const Tensor& B,
                       std::vector<double>& prod, std::vector<double>& scale) {
  prod.assign(static_cast<size_t>(M * N), 0.0);
  scale.assign(static_cast<size_t>(M * N), 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      for (int64_t k = 0; k < K; ++k) {
        const double a = ops::bf16_round(ta ? A.at(k, i) : A.at(i, k));
        const double b = ops::bf16_round(tb ? B.at(j, k) : B.at(k, j));
        prod[static_cast<size_t>(i * N + j)] += a * b;
        scale[static_cast<size_t>(i * N + j)] += std::fabs(a * b);
      }
}

TEST(Bf16Gemm, EveryTransposeDepthBlocksAndScales) {
  for (bool emulated : {true, false}) {
    if (!emulated && !ops::panel_product_bf16_hardware()) continue;
    ops::force_bf16_emulation(emulated);
    const ops::ScopedPrecision bf16(ops::Precision::BFloat16);
    uint64_t seed = 50;
    struct Case {
      int64_t M, N, K;
    };
    for (const Case c : {Case{1, 7, 5}, Case{4, 33, 64}, Case{100, 70, 3}, Case{97, 40, 1500}, Case{13, 130, 2049}}) {
      for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb)
          for (const auto& [alpha, beta] : {std::pair{1.0f, 0.0f}, std::pair{1.0f, 1.0f}, std::pair{0.5f, -2.0f}}) {
            const Tensor A = ta ? uniform({c.K, c.M}, seed++) : uniform({c.M, c.K}, seed++);
            const Tensor B = tb ? uniform({c.N, c.K}, seed++) : uniform({c.K, c.N}, seed++);
            Tensor C = uniform({c.M, c.N}, seed++);
            const Tensor C0 = C.clone();
            ops::gemm(ta != 0, tb != 0, c.M, c.N, c.K, alpha, A.data(), ta ? c.M : c.K, B.data(), tb ? c.K : c.N, beta,
                      C.data(), c.N);
            std::vector<double> prod, scale;
            rounded_reference(ta != 0, tb != 0, c.M, c.N, c.K, A, B, prod, scale);
            for (int64_t e = 0; e < c.M * c.N; ++e) {
              const double want = alpha * prod[static_cast<size_t>(e)] + beta * C0[e];
              const double tol = 2e-6 * (std::fabs(alpha) * scale[static_cast<size_t>(e)] + std::fabs(beta * C0[e])) +
                                 1e-30;
              ASSERT_NEAR(C[e], want, tol) << "M " << c.M << " N " << c.N << " K " << c.K << " ta " << ta << " tb "
                                           << tb << " alpha " << alpha << " beta " << beta << " element " << e;
            }
          }
    }
    ops::force_bf16_emulation(false);
  }
}

TEST(Bf16Gemm, DiffersFromFloat32AndIsTheSameOnOneOrTwoThreads) {
  const int64_t M = 6400, N = 256, K = 256;
  const Tensor A = uniform({M, K}, 7), B = uniform({K, N}, 8);
  Tensor f32({M, N}), one({M, N}), two({M, N});
  ops::gemm(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, f32.data(), N);
  {
    const ops::ScopedPrecision bf16(ops::Precision::BFloat16);
    set_num_threads(1);
    ops::gemm(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, one.data(), N);
    set_num_threads(2);
    ops::gemm(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, two.data(), N);
    set_num_threads(0);
  }
  EXPECT_EQ(std::memcmp(one.data(), two.data(), static_cast<size_t>(M * N) * sizeof(float)), 0);
  double max_rel = 0;
  int64_t different = 0;
  for (int64_t e = 0; e < M * N; ++e) {
    different += one[e] != f32[e];
    max_rel = std::max(max_rel, std::fabs(double(one[e]) - f32[e]) / (std::fabs(double(f32[e])) + 1.0));
  }
  // bfloat16 operands: each product moves by up to 2^-8 of itself (about
  // 1e-3 of a product of uniform(-1, 1) values on average), so a sum of 256
  // has an error of standard deviation about 0.02; over 1.6 million sums
  // the largest is some 5 of those. (The exact rounding is checked above.)
  EXPECT_GT(different, M * N / 2);
  EXPECT_LT(max_rel, 0.12);
}

}  // namespace
