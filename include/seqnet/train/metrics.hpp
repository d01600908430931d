#pragma once
// Metrics: running means over the elements seen since the last reset, as
// Keras reports them per epoch. Values are per element of the output's
// leading axes (per sample, or per sample and time step), masked steps
// excluded.
//   categorical_accuracy         argmax(y_pred) == argmax(y_true)
//   sparse_categorical_accuracy  argmax(y_pred) == y_true
//   binary_accuracy              (y_pred > 0.5) == y_true, averaged over the last axis
//   mse / mae                    as the losses
// "accuracy" / "acc" resolve from the loss as Keras does: binary for
// binary_crossentropy, sparse for sparse_categorical_crossentropy,
// categorical otherwise.

#include <memory>
#include <string>
#include <string_view>

#include "seqnet/tensor.hpp"

namespace seqnet {

class Metric {
 public:
  // `display_name` is the name used in logs ("accuracy" or "acc" as the
  // user wrote it).
  explicit Metric(std::string display_name) : name_(std::move(display_name)) {}
  virtual ~Metric() = default;
  const std::string& name() const { return name_; }
  // Adds a batch. Throws ShapeError when y_true does not fit y_pred.
  void update(const Tensor& y_true, const Tensor& y_pred, const Tensor& mask) { add(accumulate(y_true, y_pred, mask)); }
  // What update adds, without adding it: the sum of the rows' values and
  // the number of rows (data-parallel training adds these across ranks).
  struct Sum {
    double total = 0, count = 0;
  };
  Sum accumulate(const Tensor& y_true, const Tensor& y_pred, const Tensor& mask) const;
  void add(const Sum& s) {
    total_ += s.total;
    count_ += s.count;
  }
  // The mean so far (0 before any update).
  double result() const { return count_ > 0 ? total_ / count_ : 0.0; }
  void reset() {
    total_ = 0;
    count_ = 0;
  }
  virtual bool sparse() const { return false; }

 protected:
  // Value for one row (see Loss::row).
  virtual double row(const float* t, const float* p, int64_t cols) const = 0;

 private:
  std::string name_;
  double total_ = 0, count_ = 0;
};

// A metric by Keras name: "accuracy"/"acc" (resolved with `loss_name`),
// "categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy",
// "mse"/"mean_squared_error", "mae"/"mean_absolute_error". Throws ValueError
// listing the valid names.
std::unique_ptr<Metric> make_metric(std::string_view name, std::string_view loss_name);

}  // namespace seqnet
