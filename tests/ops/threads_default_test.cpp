// The default thread count (src/ops/gemm.cpp) is OpenBLAS's default
// (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS, else all cores) whatever the
// process computes first. It was once read from OpenBLAS lazily, after a
// large product had already set OpenBLAS to one thread, and a program whose
// first product was large then ran every time loop on one core. CTest runs
// each test case in a process of its own, so each starts from nothing.

#include <gtest/gtest.h>
#include <seqnet/detail/ops/gemm.hpp>
#include <seqnet/threads.hpp>

#include <cstdlib>
#include <thread>
#include <vector>

using namespace seqnet;

namespace {

// What the default must be here, or 0 when the environment decides.
int expected_default() {
  if (std::getenv("OPENBLAS_NUM_THREADS") != nullptr || std::getenv("OMP_NUM_THREADS") != nullptr) return 0;
  return static_cast<int>(std::thread::hardware_concurrency());
}

}  // namespace

TEST(DefaultThreads, NotChangedByALargeFirstProduct) {
  const int expected = expected_default();
  if (expected < 2) GTEST_SKIP() << "one core, or the thread count set by the environment";
  // A product past the small-product paths first: it sets OpenBLAS to one
  // thread for its panels.
  const int64_t n = 512;
  std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n);
  ops::gemm(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
  EXPECT_FLOAT_EQ(c[0], 0.125f * n);
  EXPECT_GE(num_threads(), 2) << "the default read after OpenBLAS was set to one thread";
}

TEST(DefaultThreads, SameWhenAskedFirst) {
  const int expected = expected_default();
  if (expected < 2) GTEST_SKIP() << "one core, or the thread count set by the environment";
  EXPECT_GE(num_threads(), 2);
}
