#pragma once
// One-hot encoding and decoding (seeds 01, 02, 05) and Keras's
// to_categorical.

#include <cstdint>
#include <vector>

#include "seqnet/tensor.hpp"

namespace seqnet::data {

// Integer sequences of equal length T -> (N, T, n_features) one-hot floats.
// Throws ValueError when lengths differ or a value is outside [0, n_features).
Tensor one_hot_encode(const std::vector<std::vector<int64_t>>& sequences, int64_t n_features);
// One sequence -> (T, n_features).
Tensor one_hot_encode(const std::vector<int64_t>& sequence, int64_t n_features);

// Argmax along the last axis of a (T, F) tensor -> T integers (seed's
// one_hot_decode). Throws ShapeError for another rank.
std::vector<int64_t> one_hot_decode(const Tensor& encoded);
// Argmax along the last axis of any tensor: one index per leading element.
std::vector<int64_t> argmax_last(const Tensor& t);

// Class ids (any shape, whole numbers in [0, num_classes)) -> one-hot with a
// new last axis of num_classes (Keras to_categorical). num_classes <= 0
// uses max id + 1. Throws ValueError for ids that are not class ids.
Tensor to_categorical(const Tensor& ids, int64_t num_classes = 0);

}  // namespace seqnet::data
