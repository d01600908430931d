#pragma once
// Small data-movement and reduction kernels shared by layers.

#include <cstdint>

#include "seqnet/tensor.hpp"

namespace seqnet::ops {

// y[r, :] += b for each of `rows` rows of length `cols` (leading dim ld).
void add_row_vector(float* y, int64_t rows, int64_t cols, int64_t ld, const float* b);
// out[:] += sum over rows of m[r, :] (m is (rows, cols) with leading dim ld).
void add_column_sums(const float* m, int64_t rows, int64_t cols, int64_t ld, float* out);

// Swaps the first two axes: src (A, B, F) -> dst (B, A, F). When `reverse_a`
// the A axis is also reversed (dst[b, a] = src[A-1-a, b]... see below).
// Exactly: dst[b][a] = src[reverse_a ? A-1-a : a][b]. dst must not alias src.
void swap_axes01(const float* src, float* dst, int64_t A, int64_t B, int64_t F, bool reverse_a = false);

// y = a * x + y over n elements.
void axpy(int64_t n, float a, const float* x, float* y);

}  // namespace seqnet::ops
