#pragma once
// Finite-difference gradient checks for layers, and small helpers shared by
// the layer unit tests.
//
// The scalar loss is L = sum_k sum(outputs[k] * P[k]) with fixed random
// projections P[k], so every output element gets a distinct gradient. Each
// input element and each weight element x is perturbed by +-eps and
// (L(x+eps) - L(x-eps)) / (2 eps), computed in double from float outputs, is
// compared with the analytic gradient from backward():
//   |analytic - numeric| <= atol + rtol * |numeric|   for every element.
// Randomness inside the layer (dropout masks) is made identical in every
// evaluation by reseeding the global generator before each forward pass (the
// layer is built before the first seeding, so weight initialization does not
// shift the draws of the analytic pass).
//
// The checker also verifies the calling protocol: backward() must *add* into
// the weight gradients (they are pre-filled with known values, which are
// subtracted before the comparison), must leave the inputs and the output
// gradients untouched, and must return one gradient per input.
//
// How to add a check for a new layer (template):
//   auto layer = std::make_shared<layers::MyLayer>(...);
//   std::vector<Tensor> in = {random_tensor({2, 3, 4}, 1)};
//   expect_gradients_match(*layer, in, {.training = true});
// Keep the math away from kinks (relu at 0, hard_sigmoid at +-2.5, selu at
// 0) for the inputs and weights you use: a kink inside [x - eps, x + eps]
// makes the central difference meaningless.

#include <gtest/gtest.h>
#include <seqnet/error.hpp>
#include <seqnet/layers/layer.hpp>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace seqnet::testing {

struct GradCheckOptions {
  double eps = 1e-2;
  double rtol = 2e-2;
  double atol = 2e-3;
  // Inputs to check (indices); empty = all inputs whose gradient is not empty.
  std::vector<int> inputs{};
  bool check_weights = true;
  // Which outputs enter the loss; empty = all. The others get an empty
  // (= zero) output gradient, which exercises that path of backward().
  std::vector<int> outputs{};
  uint64_t seed = 1234;
};

// A tensor of the given shape with uniform values in [lo, hi).
Tensor random_tensor(const Shape& shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f);
// Uniform magnitudes in [lo, hi) with random signs: keeps values away from 0
// (the kink of relu and selu).
Tensor random_away_from_zero(const Shape& shape, uint64_t seed, float lo = 0.1f, float hi = 1.0f);

// Runs the check; reports every mismatch with GoogleTest's ADD_FAILURE,
// naming the input or weight and the element. Returns the worst ratio
// |a - n| / (atol + rtol |n|) seen (<= 1 means pass).
double expect_gradients_match(Layer& layer, const std::vector<Tensor>& inputs, const CallArgs& args,
                              const GradCheckOptions& options = {});

// Checks Layer::regularization_penalty() against an independent double
// computation of sum(l1 |w| + l2 w^2), and add_regularization_gradients()
// against central differences of the penalty (elements within eps of the l1
// kink at 0 are skipped). The layer must be built. Returns the penalty.
double expect_regularization_gradients_match(Layer& layer, double eps = 1e-3, double rtol = 1e-3,
                                             double atol = 1e-5);

// The weight at `path` (as visit_params names it); fails the test when there
// is none.
Param& param_at(Layer& layer, const std::string& path);
// (path, shape) of every weight in visit order.
std::vector<std::pair<std::string, Shape>> param_shapes(Layer& layer);
// Copies every weight value of `from` into `to` (same paths in the same order
// after stripping the given prefixes, same shapes). Both must be built.
void copy_params(Layer& from, Layer& to, const std::string& from_prefix = "", const std::string& to_prefix = "");
// Overwrites every weight of `layer` with uniform values in [lo, hi)
// (deterministic in seed), so tests do not depend on initializers.
void randomize_params(Layer& layer, uint64_t seed, float lo = -0.5f, float hi = 0.5f);

// All outputs of an inference call. (layer.forward({x}) with one braced
// tensor picks the single-tensor overload, which returns only output 0.)
inline std::vector<Tensor> run(Layer& layer, const std::vector<Tensor>& inputs, const CallArgs& args = {}) {
  return layer.forward(inputs, args, nullptr);
}

// Expects equal shapes and max |a - b| <= tol, printing the worst element.
void expect_near(const Tensor& got, const Tensor& want, double tol, const std::string& what);

// Double-precision reference activations (Keras definitions; hard_sigmoid is
// Keras 2's clip(0.2 x + 0.5, 0, 1)) and the distance of x to the nearest
// kink of the activation (infinity for smooth ones).
double ref_activation(std::string_view name, double x);
double kink_distance(std::string_view name, double x);

// Masks: a (B, T) mask that is 1 for t < lengths[b] (post-padding).
Tensor post_padding_mask(const std::vector<int64_t>& lengths, int64_t T);

// Compares a recurrent-style layer run on a post-padded batch with a mask
// against the same layer run on each unpadded sequence alone (batch 1):
// forward outputs (sequence outputs, rank 3, on the real steps; other outputs
// whole), the input gradient (zero on padded steps) and the weight gradients
// (the batch's equal the sum of the per-sequence ones). With
// `aligned_at_end` the real part of sequence outputs sits at the end (a
// go_backwards layer returns its sequence in processing order). Padded steps
// of sequence outputs are checked separately by the caller.
struct MaskCheckOptions {
  bool aligned_at_end = false;
  double tol = 2e-5;
};
void expect_mask_matches_unpadded(Layer& layer, const Tensor& x, const std::vector<int64_t>& lengths,
                                  const MaskCheckOptions& options = {});

// Runs `fn`, expecting it to throw an exception of type E (a seqnet::Error)
// whose what() contains every one of `parts`. Reports failures at file:line.
void check_throw_impl(const std::function<void()>& fn, const std::function<bool(const std::exception&)>& is_e,
                      const char* e_name, std::initializer_list<std::string_view> parts, const char* text,
                      const char* file, int line);
template <class E>
void check_throw(const std::function<void()>& fn, std::initializer_list<std::string_view> parts, const char* e_name,
                 const char* text, const char* file, int line) {
  static_assert(std::is_base_of_v<seqnet::Error, E>, "seqnet throws seqnet::Error and its subclasses");
  check_throw_impl(
      fn, [](const std::exception& e) { return dynamic_cast<const E*>(&e) != nullptr; }, e_name, parts, text, file,
      line);
}

// Runs fn and expects an exception of type E whose message holds each
// fragment (the function form of EXPECT_THROW_MSG, for any exception type).
template <class E, class F>
void expect_error(F&& fn, std::initializer_list<std::string> fragments) {
  try {
    fn();
    ADD_FAILURE() << "expected an exception";
  } catch (const E& e) {
    const std::string msg = e.what();
    for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << "message: " << msg << "\nmissing: " << f;
  }
}
template <class E, class F>
void expect_error(F&& fn, const std::string& fragment) {
  expect_error<E>(std::forward<F>(fn), {fragment});
}

}  // namespace seqnet::testing

// EXPECT_THROW_MSG(statement, seqnet::ShapeError, "LSTM \"lstm\"", "(2, 3)"):
// the statement must throw that exception type with every listed substring
// in its message.
#define EXPECT_THROW_MSG(statement, E, ...)                                                                  \
  ::seqnet::testing::check_throw<E>([&]() { (void)(statement); }, {__VA_ARGS__}, #E, #statement, __FILE__, \
                                    __LINE__)
