#include "seqnet/detail/ops/elementwise.hpp"
#include "seqnet/detail/ops/step_product.hpp"

#include <algorithm>
#include <cstring>

namespace seqnet::ops {

namespace {

// Large passes run on the time loop's team (ops::run_blocked_steps), each
// thread on a contiguous share of fixed blocks; every element is computed
// as on one thread (sums keep their order), so the bits do not change.
constexpr int64_t kTeamElements = int64_t{1} << 17;
constexpr int64_t kBlocks = 64;

// body(lo, hi) over [0, n) in kBlocks blocks, on the team when `elements`
// (the pass's size) is large; else one call.
template <class Body>
void split(int64_t n, int64_t elements, const Body& body) {
  if (elements < kTeamElements || n < 2) {
    body(int64_t{0}, n);
    return;
  }
  const int64_t blocks = std::min(kBlocks, n), width = (n + blocks - 1) / blocks;
  // A "flop" count that makes the team take the pass (a copy of this size
  // outlasts a barrier many times over).
  const double work = 16.0 * static_cast<double>(elements);
  run_blocked_steps(1, 1, (n + width - 1) / width, work, [&](int64_t, int, int64_t b0, int64_t b1) {
    body(b0 * width, std::min(n, b1 * width));
  });
}

}  // namespace

void add_row_vector(float* y, int64_t rows, int64_t cols, int64_t ld, const float* b) {
  split(rows, rows * cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* yr = y + r * ld;
      for (int64_t c = 0; c < cols; ++c) yr[c] += b[c];
    }
  });
}

void add_column_sums(const float* m, int64_t rows, int64_t cols, int64_t ld, float* out) {
  // By columns: each column's sum runs over the rows in order.
  split(cols, rows * cols, [&](int64_t c0, int64_t c1) {
    for (int64_t r = 0; r < rows; ++r) {
      const float* mr = m + r * ld;
      for (int64_t c = c0; c < c1; ++c) out[c] += mr[c];
    }
  });
}

void swap_axes01(const float* src, float* dst, int64_t A, int64_t B, int64_t F, bool reverse_a) {
  split(A, A * B * F, [&](int64_t a0, int64_t a1) {
    for (int64_t a = a0; a < a1; ++a) {
      const int64_t sa = reverse_a ? A - 1 - a : a;
      for (int64_t b = 0; b < B; ++b) {
        std::memcpy(dst + (b * A + a) * F, src + (sa * B + b) * F, static_cast<size_t>(F) * sizeof(float));
      }
    }
  });
}

void axpy(int64_t n, float a, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

}  // namespace seqnet::ops
