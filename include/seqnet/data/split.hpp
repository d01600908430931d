#pragma once
// Train / validation / test splitting of aligned samples, by fractions,
// optionally shuffled with a seeded Generator.

#include <cstdint>
#include <vector>

#include "seqnet/random.hpp"
#include "seqnet/tensor.hpp"

namespace seqnet::data {

struct SplitOptions {
  // Fraction of the samples held out for validation, in [0, 1). Default: 0.
  double validation = 0.0;
  // Fraction held out for testing, in [0, 1). Default: 0.
  double test = 0.0;
  // Shuffle before splitting. Without shuffling the order is kept: train
  // first, then validation, then test (so validation = 0.1 alone takes the
  // last 10% like Keras's validation_split). Default: true.
  bool shuffle = true;
  // Generator used to shuffle; nullptr uses the global one (set_seed).
  // Default: nullptr.
  Generator* generator = nullptr;
};

// Sample indices of each part. Every index in [0, n) is in exactly one part.
struct SplitIndices {
  std::vector<int64_t> train, validation, test;
};

// Splits n samples. The validation and test parts get ceil(fraction * n)
// samples each (n = 10, validation = 0.25 -> 3), the training part the rest.
// Shuffled parts keep the permutation's order.
// Throws ValueError for n < 0, a fraction outside [0, 1), or fractions that
// leave no training sample when n > 0.
SplitIndices split_indices(int64_t n, const SplitOptions& options = {});

// The rows `indices` of t along axis 0, in that order, as a new tensor
// (NumPy's t[indices]). Throws ShapeError for a scalar or empty() tensor and
// ValueError for an index outside [0, t.dim(0)).
Tensor take_rows(const Tensor& t, const std::vector<int64_t>& indices);

// Aligned tensors split the same way: train[k], validation[k] and test[k]
// are parts of tensors[k].
struct Split {
  std::vector<Tensor> train, validation, test;
};

// Splits several tensors that share their first dimension (e.g. {x, y}) with
// one split_indices(n, options). Throws ShapeError when the tensors' first
// dimensions differ (the message lists their shapes), ValueError when no
// tensor is given, and as split_indices.
Split train_test_split(const std::vector<Tensor>& tensors, const SplitOptions& options = {});

}  // namespace seqnet::data
