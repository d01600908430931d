#pragma once
// Activation kernels and their derivatives, on contiguous float arrays
// (library internals; the names and the Act enum are in seqnet/activations.hpp).
//
// Every derivative is computed from the activation's *output* y (not its
// input), so a layer only has to keep its activated values for backward:
//   tanh' = 1 - y^2            sigmoid' = y (1 - y)
//   hard_sigmoid' = 0.2 for 0 < y < 1, else 0   (Keras 2: clip(0.2 x + 0.5, 0, 1))
//   keras3_hard_sigmoid' = 1/6 for 0 < y < 1, else 0   (Keras 3: relu6(x + 3) / 6)
//   relu' = [y > 0]            elu' = 1 for y > 0, else y + 1
//   selu' = scale for y > 0, else y + scale*alpha
//   softplus' = 1 - exp(-y)    softsign' = (1 - |y|)^2      linear' = 1
//   softmax (along rows): dx = y * (dy - sum(dy * y))

#include <cstdint>
#include <string>
#include <string_view>

#include "seqnet/activations.hpp"
#include "seqnet/tensor.hpp"

namespace seqnet::ops {

// y = f(x) on n contiguous elements; x and y may alias.
// REQUIRES: is_elementwise(a).
void activate(Act a, const float* x, float* y, int64_t n);
// dx = dy * f'(y) on n contiguous elements; any of y, dy, dx may alias.
// REQUIRES: is_elementwise(a).
void activate_backward(Act a, const float* y, const float* dy, float* dx, int64_t n);

// In place over a strided block: `rows` rows of `cols` floats, row r at
// data + r * ld (one gate's columns of a (B, G*H) pre-activation block).
// REQUIRES: is_elementwise(a).
void activate_rows(Act a, float* data, int64_t rows, int64_t cols, int64_t ld);

// Softmax of each row of a (rows, cols) row-major array; x and y may alias.
void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols);
// dx = y * (dy - rowsum(dy * y)) for each row; dy and dx may alias.
void softmax_rows_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols);

// Any activation over a whole tensor; softmax acts along the last axis.
// y and x may be the same tensor.
void activate(Act a, const Tensor& x, Tensor& y);
// dx = dy * f'(y) (softmax: along the last axis). dx may alias dy.
void activate_backward(Act a, const Tensor& y, const Tensor& dy, Tensor& dx);

}  // namespace seqnet::ops
