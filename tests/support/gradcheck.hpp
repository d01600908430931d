#pragma once
// Finite-difference gradient checks for layers.
//
// The scalar loss is L = sum_k sum(outputs[k] * P[k]) with fixed random
// projections P[k], so every output element gets a distinct gradient. Each
// input element and each weight element x is perturbed by +-eps and
// (L(x+eps) - L(x-eps)) / (2 eps), computed in double from float outputs, is
// compared with the analytic gradient from backward():
//   |analytic - numeric| <= atol + rtol * |numeric|   for every element.
// Randomness inside the layer (dropout masks) is made identical in every
// evaluation by reseeding the global generator before each forward pass.
//
// How to add a check for a new layer (template):
//   auto layer = std::make_shared<layers::MyLayer>(...);
//   std::vector<Tensor> in = {random_tensor({2, 3, 4}, 1)};
//   expect_gradients_match(*layer, in, {.training = true});

#include <seqnet/layers/layer.hpp>

#include <string>
#include <vector>

namespace seqnet::testing {

struct GradCheckOptions {
  double eps = 1e-2;
  double rtol = 2e-2;
  double atol = 2e-3;
  // Inputs to check (indices); empty = all inputs whose gradient is not empty.
  std::vector<int> inputs{};
  bool check_weights = true;
  // Which outputs enter the loss; empty = all.
  std::vector<int> outputs{};
  uint64_t seed = 1234;
};

// A tensor of the given shape with uniform values in [lo, hi).
Tensor random_tensor(const Shape& shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f);

// Runs the check; reports every mismatch with GoogleTest's ADD_FAILURE,
// naming the input or weight and the element. Returns the worst ratio
// |a - n| / (atol + rtol |n|) seen (<= 1 means pass).
double expect_gradients_match(Layer& layer, const std::vector<Tensor>& inputs, const CallArgs& args,
                              const GradCheckOptions& options = {});

}  // namespace seqnet::testing
