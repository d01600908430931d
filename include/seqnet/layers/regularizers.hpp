#pragma once
// Weight regularizers (Keras's l1, l2 and l1_l2): a penalty added to the
// training loss and its gradient added to the weight's gradient.
//   penalty  = l1 * sum|w| + l2 * sum w^2
//   gradient = l1 * sign(w) + 2 * l2 * w
// Regularizers live with the layers (which own the weights they act on);
// the training loop (train/) adds their penalties to the loss.

#include <string_view>

#include "seqnet/tensor.hpp"

namespace seqnet {

struct Regularizer {
  // Coefficients; both zero means "no regularizer". Default: none.
  float l1 = 0.0f;
  float l2 = 0.0f;

  Regularizer() = default;
  // Keras names with Keras's default coefficient 0.01: "l1", "l2", "l1_l2".
  // "" and "none" mean no regularizer. Throws ValueError for other names.
  Regularizer(const char* keras_name);  // NOLINT: implicit by design

  static Regularizer L1(float l1 = 0.01f) { return make(l1, 0.0f); }
  static Regularizer L2(float l2 = 0.01f) { return make(0.0f, l2); }
  static Regularizer L1L2(float l1 = 0.01f, float l2 = 0.01f) { return make(l1, l2); }

  bool active() const { return l1 != 0.0f || l2 != 0.0f; }
  // Throws ValueError naming `context` for negative or non-finite coefficients.
  void validate(std::string_view context) const;
  double penalty(const Tensor& w) const;
  // grad += d penalty / d w.
  void add_gradient(const Tensor& w, Tensor& grad) const;

  bool operator==(const Regularizer&) const = default;

 private:
  static Regularizer make(float a, float b) {
    Regularizer r;
    r.l1 = a;
    r.l2 = b;
    return r;
  }
};

namespace regularizers {
inline Regularizer l1(float v = 0.01f) { return Regularizer::L1(v); }
inline Regularizer l2(float v = 0.01f) { return Regularizer::L2(v); }
inline Regularizer l1_l2(float a = 0.01f, float b = 0.01f) { return Regularizer::L1L2(a, b); }
}  // namespace regularizers

}  // namespace seqnet
