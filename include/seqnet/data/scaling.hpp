#pragma once
// Feature scaling that remembers its parameters (scikit-learn's
// StandardScaler and MinMaxScaler), for time series fed to recurrent
// models: fit on the training part only, apply to every part, undo on the
// predictions, and keep it beside the model (to_json / from_json).
//
//   auto scaler = data::Scaler::fit(train_series);                     // per column of a (N, F) series
//   Tensor x = scaler.transform(series);
//   Tensor forecast = scaler.inverse_transform(model.predict(x)[0]);   // back in the data's units

#include <string>
#include <string_view>
#include <vector>

#include "seqnet/tensor.hpp"

namespace seqnet::data {

struct ScalerOptions {
  // "standard": (x - mean) / standard deviation (population);
  // "minmax": (x - min) / (max - min) into [0, 1]. Default: "standard".
  std::string method = "standard";
};

class Scaler {
 public:
  // Fits one (offset, scale) per column: the last axis of `x` (rank >= 2)
  // or a single column for a rank-1 series. A column with zero spread gets
  // scale 1. Throws ValueError for an unknown method, an empty tensor or a
  // non-finite value (naming its index).
  static Scaler fit(const Tensor& x, const ScalerOptions& options = {});
  // From known parameters. Throws ValueError for sizes that differ, no
  // column, or a scale that is zero or not finite.
  Scaler(std::vector<double> offset, std::vector<double> scale, std::string method = "standard");

  // (x - offset) / scale per column, as new tensors. A one-column scaler
  // applies to every element of any shape; otherwise the last axis must
  // have columns() entries (ShapeError naming both).
  Tensor transform(const Tensor& x) const;
  Tensor inverse_transform(const Tensor& x) const;
  // One value of column c.
  double transform(double v, size_t c = 0) const { return (v - offset_[c]) / scale_[c]; }
  double inverse_transform(double v, size_t c = 0) const { return v * scale_[c] + offset_[c]; }

  size_t columns() const { return offset_.size(); }
  const std::vector<double>& offset() const { return offset_; }
  const std::vector<double>& scale() const { return scale_; }
  const std::string& method() const { return method_; }

  // {"method": "...", "offset": [...], "scale": [...]}, exact for doubles.
  std::string to_json() const;
  // Throws ValueError for a malformed description.
  static Scaler from_json(std::string_view json);

 private:
  Tensor apply(const Tensor& x, bool inverse) const;
  std::vector<double> offset_, scale_;
  std::string method_;
};

}  // namespace seqnet::data
