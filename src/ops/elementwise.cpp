#include "seqnet/detail/ops/elementwise.hpp"

#include <algorithm>
#include <cstring>

namespace seqnet::ops {

void add_row_vector(float* y, int64_t rows, int64_t cols, int64_t ld, const float* b) {
  for (int64_t r = 0; r < rows; ++r) {
    float* yr = y + r * ld;
    for (int64_t c = 0; c < cols; ++c) yr[c] += b[c];
  }
}

void add_column_sums(const float* m, int64_t rows, int64_t cols, int64_t ld, float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* mr = m + r * ld;
    for (int64_t c = 0; c < cols; ++c) out[c] += mr[c];
  }
}

void swap_axes01(const float* src, float* dst, int64_t A, int64_t B, int64_t F, bool reverse_a) {
  for (int64_t a = 0; a < A; ++a) {
    const int64_t sa = reverse_a ? A - 1 - a : a;
    for (int64_t b = 0; b < B; ++b) {
      std::memcpy(dst + (b * A + a) * F, src + (sa * B + b) * F, static_cast<size_t>(F) * sizeof(float));
    }
  }
}

void axpy(int64_t n, float a, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

}  // namespace seqnet::ops
