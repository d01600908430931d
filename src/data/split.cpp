#include "seqnet/data/split.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "seqnet/error.hpp"

namespace seqnet::data {

namespace {

int64_t part_size(double fraction, int64_t n) {
  // ceil, tolerant of binary rounding (0.1 * 30 = 3.0000000000000004 -> 3).
  return static_cast<int64_t>(std::ceil(fraction * static_cast<double>(n) - 1e-9));
}

}  // namespace

SplitIndices split_indices(int64_t n, const SplitOptions& o) {
  if (n < 0) throw ValueError(fmt::format("split_indices: the number of samples must be >= 0, got {}", n));
  if (!(o.validation >= 0.0 && o.validation < 1.0)) {
    throw ValueError(fmt::format("split_indices: validation fraction must be in [0, 1), got {}", o.validation));
  }
  if (!(o.test >= 0.0 && o.test < 1.0)) {
    throw ValueError(fmt::format("split_indices: test fraction must be in [0, 1), got {}", o.test));
  }
  const int64_t n_val = part_size(o.validation, n), n_test = part_size(o.test, n);
  const int64_t n_train = n - n_val - n_test;
  if (n > 0 && n_train <= 0) {
    throw ValueError(fmt::format("split_indices: validation {} and test {} of {} samples ({} + {}) leave no "
                                 "training samples",
                                 o.validation, o.test, n, n_val, n_test));
  }
  std::vector<int64_t> order;
  if (o.shuffle) {
    order = (o.generator ? *o.generator : global_generator()).permutation(n);
  } else {
    order.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) order[i] = i;
  }
  SplitIndices s;
  s.train.assign(order.begin(), order.begin() + n_train);
  s.validation.assign(order.begin() + n_train, order.begin() + n_train + n_val);
  s.test.assign(order.begin() + n_train + n_val, order.end());
  return s;
}

Tensor take_rows(const Tensor& t, const std::vector<int64_t>& indices) {
  if (t.empty() || t.rank() < 1) {
    throw ShapeError(fmt::format("take_rows: expected a tensor with at least one axis, got {}",
                                 t.empty() ? std::string("an empty tensor") : shape_str(t.shape())));
  }
  const int64_t rows = t.dim(0);
  const int64_t row_size = rows == 0 ? shape_size(Shape(t.shape().begin() + 1, t.shape().end())) : t.size() / rows;
  Shape shape = t.shape();
  shape[0] = static_cast<int64_t>(indices.size());
  Tensor out(shape);
  for (size_t k = 0; k < indices.size(); ++k) {
    const int64_t i = indices[k];
    if (i < 0 || i >= rows) {
      throw ValueError(fmt::format("take_rows: index {} (position {}) is outside [0, {}) for a tensor of shape {}", i,
                                   k, rows, shape_str(t.shape())));
    }
    if (row_size > 0) {
      std::memcpy(out.data() + static_cast<int64_t>(k) * row_size, t.data() + i * row_size,
                  static_cast<size_t>(row_size) * sizeof(float));
    }
  }
  return out;
}

Split train_test_split(const std::vector<Tensor>& tensors, const SplitOptions& options) {
  if (tensors.empty()) throw ValueError("train_test_split: no tensors to split");
  std::string shapes;
  bool aligned = true;
  for (size_t k = 0; k < tensors.size(); ++k) {
    const Tensor& t = tensors[k];
    if (t.empty() || t.rank() < 1) {
      throw ShapeError(fmt::format("train_test_split: tensor {} has no first axis ({})", k,
                                   t.empty() ? std::string("an empty tensor") : shape_str(t.shape())));
    }
    shapes += (k ? ", " : "") + shape_str(t.shape());
    if (t.dim(0) != tensors[0].dim(0)) aligned = false;
  }
  if (!aligned) {
    throw ShapeError(fmt::format("train_test_split: tensors must have the same number of samples (first "
                                 "dimension), got {}",
                                 shapes));
  }
  const SplitIndices idx = split_indices(tensors[0].dim(0), options);
  Split s;
  for (const Tensor& t : tensors) {
    s.train.push_back(take_rows(t, idx.train));
    s.validation.push_back(take_rows(t, idx.validation));
    s.test.push_back(take_rows(t, idx.test));
  }
  return s;
}

}  // namespace seqnet::data
