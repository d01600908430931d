#include "seqnet/data/encoding.hpp"

#include <fmt/format.h>

#include <cmath>

#include "seqnet/error.hpp"

namespace seqnet::data {

Tensor one_hot_encode(const std::vector<std::vector<int64_t>>& sequences, int64_t n_features) {
  if (n_features <= 0) throw ValueError(fmt::format("one_hot_encode: n_features must be positive, got {}", n_features));
  const auto n = static_cast<int64_t>(sequences.size());
  const auto T = n == 0 ? int64_t{0} : static_cast<int64_t>(sequences[0].size());
  Tensor x({n, T, n_features});
  for (int64_t i = 0; i < n; ++i) {
    if (static_cast<int64_t>(sequences[i].size()) != T) {
      throw ValueError(fmt::format("one_hot_encode: sequence {} has length {}, sequence 0 has {}; pad them first",
                                   i, sequences[i].size(), T));
    }
    for (int64_t t = 0; t < T; ++t) {
      const int64_t v = sequences[i][t];
      if (v < 0 || v >= n_features) {
        throw ValueError(fmt::format("one_hot_encode: value {} at sequence {} step {} is outside [0, {})", v, i, t,
                                     n_features));
      }
      x.at(i, t, v) = 1.0f;
    }
  }
  return x;
}

Tensor one_hot_encode(const std::vector<int64_t>& sequence, int64_t n_features) {
  Tensor x = one_hot_encode(std::vector<std::vector<int64_t>>{sequence}, n_features);
  return x.reshape({static_cast<int64_t>(sequence.size()), n_features});
}

std::vector<int64_t> argmax_last(const Tensor& t) {
  if (t.rank() < 1) throw ShapeError("argmax_last: expected a tensor with at least one axis");
  const int64_t cols = t.dim(-1);
  const int64_t rows = cols == 0 ? 0 : t.size() / cols;
  std::vector<int64_t> out(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const float* v = t.data() + r * cols;
    int64_t best = 0;
    for (int64_t k = 1; k < cols; ++k)
      if (v[k] > v[best]) best = k;
    out[r] = best;
  }
  return out;
}

std::vector<int64_t> one_hot_decode(const Tensor& encoded) {
  if (encoded.rank() != 2) {
    throw ShapeError(fmt::format("one_hot_decode: expected a (time, features) tensor, got {}",
                                 shape_str(encoded.shape())));
  }
  return argmax_last(encoded);
}

Tensor to_categorical(const Tensor& ids, int64_t num_classes) {
  int64_t max_id = -1;
  for (int64_t i = 0; i < ids.size(); ++i) {
    const float v = ids[i];
    if (!(v >= 0.0f) || v != std::floor(v) || v > 16777216.0f) {
      throw ValueError(fmt::format("to_categorical: value {} at position {} is not a class id", v, i));
    }
    max_id = std::max(max_id, static_cast<int64_t>(v));
  }
  if (num_classes <= 0) num_classes = max_id + 1;
  if (max_id >= num_classes) {
    throw ValueError(fmt::format("to_categorical: class id {} is not below num_classes = {}", max_id, num_classes));
  }
  Shape s = ids.shape();
  s.push_back(num_classes);
  Tensor out(s);
  for (int64_t i = 0; i < ids.size(); ++i) out[i * num_classes + static_cast<int64_t>(ids[i])] = 1.0f;
  return out;
}

}  // namespace seqnet::data
