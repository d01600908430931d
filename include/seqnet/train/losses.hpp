#pragma once
// Losses with Keras's definitions and reduction.
//
// A loss is computed per element of the output's leading axes (per sample,
// or per sample and time step for sequence outputs) and averaged: Keras's
// "sum_over_batch_size". With a mask (B, T), masked steps do not count: the
// sum runs over real steps and is divided by their number.
//   categorical_crossentropy  y_pred probabilities, y_true one-hot (or soft):
//                             -sum(y_true * log(clip(y_pred / sum(y_pred), eps, 1 - eps)))
//   sparse_categorical_crossentropy  y_true class ids (shape of y_pred without
//                             its last axis, or with a trailing 1)
//   binary_crossentropy       mean over the last axis of
//                             -(t log(p + eps) + (1 - t) log(1 - p + eps)), p = clip(p, eps, 1 - eps)
//   mse / mae                 mean over the last axis of (p - t)^2 / |p - t|
//   huber                     mean over the last axis of 0.5 x^2 (|x| <= delta), else delta (|x| - delta/2)
// eps is Keras's epsilon, 1e-7.

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "seqnet/tensor.hpp"

namespace seqnet {

class Loss {
 public:
  virtual ~Loss() = default;
  // Keras name, e.g. "categorical_crossentropy".
  virtual std::string name() const = 0;
  // The mean loss of y_pred against y_true. When `grad` is given it is set to
  // d(mean loss)/d(y_pred) (same shape as y_pred). `mask` (B, T) may be empty.
  // Throws ShapeError when y_true does not fit y_pred or the mask does not fit.
  double compute(const Tensor& y_true, const Tensor& y_pred, const Tensor& mask, Tensor* grad) const;
  // The parts of the mean: the sum of the rows' losses and the number of
  // rows that count (unmasked). `grad`, when given, is set to d(sum)/d(y_pred);
  // scale_gradient(grad, count) turns it into d(mean)/d(y_pred), as compute
  // does. Data-parallel training adds the parts across ranks before dividing.
  struct Sum {
    double total = 0, count = 0;
  };
  Sum compute_sum(const Tensor& y_true, const Tensor& y_pred, const Tensor& mask, Tensor* grad) const;
  static void scale_gradient(Tensor& grad, double count);
  // Whether y_true holds class ids rather than values shaped like y_pred.
  virtual bool sparse() const { return false; }
  // How a model file's training_config names the loss (Keras 2): the name
  // as a JSON string, or {"class_name": "Huber", "config": {"name":
  // "huber_loss", "delta": 1.0, ...}} for a loss with parameters.
  // loss_from_config (seqnet/io/config.hpp) reads it back.
  virtual nlohmann::json get_config() const;

 protected:
  // Per-row loss and gradient. A row is one element of the leading axes:
  // y_pred has `cols` values (the last axis); y_true has cols values, or one
  // class id when sparse(). Writes the row's gradient when grad != null.
  virtual double row(const float* t, const float* p, int64_t cols, float* grad) const = 0;
};

// Loss by Keras name or alias (mse / mean_squared_error, mae /
// mean_absolute_error, huber / huber_loss, categorical_crossentropy,
// sparse_categorical_crossentropy, binary_crossentropy). Throws ValueError
// listing the valid names.
std::shared_ptr<Loss> make_loss(std::string_view name);
// A loss from a Keras name or config {"class_name": ..., "config": ...}: the
// reverse of get_config(). Throws ValueError for an unknown loss or options
// that change the math (from_logits, label smoothing, another reduction).
// Include <nlohmann/json.hpp> to call it.
std::shared_ptr<Loss> loss_from_config(const nlohmann::json& config);

std::shared_ptr<Loss> CategoricalCrossentropy();
std::shared_ptr<Loss> SparseCategoricalCrossentropy();
std::shared_ptr<Loss> BinaryCrossentropy();
std::shared_ptr<Loss> MeanSquaredError();
std::shared_ptr<Loss> MeanAbsoluteError();
// Throws ValueError when delta <= 0.
std::shared_ptr<Loss> Huber(float delta = 1.0f);

}  // namespace seqnet
