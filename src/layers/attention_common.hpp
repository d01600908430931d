#pragma once
// Helpers shared by the attention layers (attention.cpp, luong_attention.cpp):
// masked softmax rows and the (B, Tq, Tv) table of allowed steps.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "seqnet/error.hpp"
#include "seqnet/tensor.hpp"

namespace seqnet::layers::attention_detail {

// a = softmax(s) over the entries whose allowed[j] != 0; the others get 0.
// A row with no allowed entry is all zeros. s and a may alias.
inline void masked_softmax_row(const float* s, const float* allowed, float* a, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n; ++j)
    if (allowed[j] != 0.0f) m = std::max(m, s[j]);
  if (std::isinf(m) && m < 0) {
    std::fill_n(a, n, 0.0f);
    return;
  }
  float sum = 0;
  for (int64_t j = 0; j < n; ++j) {
    const float e = allowed[j] != 0.0f ? std::exp(s[j] - m) : 0.0f;
    a[j] = e;
    sum += e;
  }
  const float inv = 1.0f / sum;
  for (int64_t j = 0; j < n; ++j) a[j] *= inv;
}

// ds = a * (da - sum(da * a)) for one row (masked entries have a = 0, so ds
// = 0 there). da and ds may alias.
inline void softmax_backward_row(const float* a, const float* da, float* ds, int64_t n) {
  float dot = 0;
  for (int64_t j = 0; j < n; ++j) dot += a[j] * da[j];
  for (int64_t j = 0; j < n; ++j) ds[j] = a[j] * (da[j] - dot);
}

// allowed (B, Tq, Tv): value_mask[b, j] (when given) and, when causal, j <= i.
inline void fill_allowed(Tensor& allowed, const Tensor& value_mask, bool causal, int64_t B, int64_t Tq,
                         int64_t Tv) {
  ensure_shape(allowed, {B, Tq, Tv});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < Tq; ++i) {
      float* row = allowed.data() + (b * Tq + i) * Tv;
      for (int64_t j = 0; j < Tv; ++j) {
        const bool v = value_mask.empty() || value_mask[b * Tv + j] != 0.0f;
        row[j] = (v && (!causal || j <= i)) ? 1.0f : 0.0f;
      }
    }
}

// AND of two optional (B, T) masks (either may be empty).
inline Tensor and_masks(const Tensor& a, const Tensor& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  Tensor m = a.clone();
  for (int64_t i = 0; i < m.size(); ++i) m[i] = (a[i] != 0.0f && b[i] != 0.0f) ? 1.0f : 0.0f;
  return m;
}

}  // namespace seqnet::layers::attention_detail
