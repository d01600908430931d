#include "seqnet/data/scaling.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

#include "seqnet/error.hpp"

namespace seqnet::data {

Scaler Scaler::fit(const Tensor& x, const ScalerOptions& options) {
  if (options.method != "standard" && options.method != "minmax") {
    throw ValueError(fmt::format("Scaler: unknown method '{}'; expected 'standard' or 'minmax'", options.method));
  }
  if (x.size() == 0) throw ValueError("Scaler::fit: the tensor is empty");
  const int64_t cols = x.rank() >= 2 ? x.dim(x.rank() - 1) : 1;
  const int64_t rows = x.size() / cols;
  std::vector<double> sum(static_cast<size_t>(cols), 0.0), lo(sum.size(), std::numeric_limits<double>::infinity()),
      hi(sum.size(), -std::numeric_limits<double>::infinity());
  const float* p = x.data();
  for (int64_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(p[i])) throw ValueError(fmt::format("Scaler::fit: element {} is {}", i, p[i]));
    const auto c = static_cast<size_t>(i % cols);
    sum[c] += p[i];
    lo[c] = std::min(lo[c], static_cast<double>(p[i]));
    hi[c] = std::max(hi[c], static_cast<double>(p[i]));
  }
  std::vector<double> offset(sum.size()), scale(sum.size());
  for (size_t c = 0; c < sum.size(); ++c) {
    if (options.method == "minmax") {
      offset[c] = lo[c];
      scale[c] = hi[c] - lo[c];
    } else {
      offset[c] = sum[c] / static_cast<double>(rows);
    }
  }
  if (options.method == "standard") {
    std::vector<double> ss(sum.size(), 0.0);
    for (int64_t i = 0; i < x.size(); ++i) {
      const auto c = static_cast<size_t>(i % cols);
      const double d = p[i] - offset[c];
      ss[c] += d * d;
    }
    for (size_t c = 0; c < sum.size(); ++c) scale[c] = std::sqrt(ss[c] / static_cast<double>(rows));
  }
  for (auto& s : scale)
    if (!(s > 0)) s = 1.0;
  return Scaler(std::move(offset), std::move(scale), options.method);
}

Scaler::Scaler(std::vector<double> offset, std::vector<double> scale, std::string method)
    : offset_(std::move(offset)), scale_(std::move(scale)), method_(std::move(method)) {
  if (offset_.empty() || offset_.size() != scale_.size()) {
    throw ValueError(fmt::format("Scaler: {} offsets and {} scales; need the same number, at least one",
                                 offset_.size(), scale_.size()));
  }
  for (size_t c = 0; c < scale_.size(); ++c) {
    if (!std::isfinite(offset_[c]) || !std::isfinite(scale_[c]) || scale_[c] == 0) {
      throw ValueError(fmt::format("Scaler: column {} has offset {} and scale {}; both must be finite, the scale "
                                   "non-zero",
                                   c, offset_[c], scale_[c]));
    }
  }
}

Tensor Scaler::apply(const Tensor& x, bool inverse) const {
  const auto cols = static_cast<int64_t>(columns());
  if (cols > 1 && (x.rank() < 1 || x.dim(x.rank() - 1) != cols)) {
    throw ShapeError(fmt::format("Scaler: a tensor of shape {} has no last axis of the {} fitted columns",
                                 shape_str(x.shape()), cols));
  }
  Tensor out(x.shape());
  const float* p = x.data();
  float* q = out.data();
  for (int64_t i = 0; i < x.size(); ++i) {
    const auto c = static_cast<size_t>(cols > 1 ? i % cols : 0);
    q[i] = static_cast<float>(inverse ? p[i] * scale_[c] + offset_[c] : (p[i] - offset_[c]) / scale_[c]);
  }
  return out;
}

Tensor Scaler::transform(const Tensor& x) const { return apply(x, false); }
Tensor Scaler::inverse_transform(const Tensor& x) const { return apply(x, true); }

std::string Scaler::to_json() const {
  return nlohmann::json{{"method", method_}, {"offset", offset_}, {"scale", scale_}}.dump();
}

Scaler Scaler::from_json(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  auto numbers = [&](const char* key) {
    if (!j.is_object() || !j.contains(key) || !j[key].is_array()) {
      throw ValueError(fmt::format("Scaler::from_json: \"{}\" is missing or not an array", key));
    }
    std::vector<double> v;
    for (const auto& e : j[key]) {
      if (!e.is_number()) throw ValueError(fmt::format("Scaler::from_json: \"{}\" holds a non-number", key));
      v.push_back(e.get<double>());
    }
    return v;
  };
  if (j.is_discarded() || !j.is_object()) throw ValueError("Scaler::from_json: not a JSON object");
  if (!j.contains("method") || !j["method"].is_string() ||
      (j["method"] != "standard" && j["method"] != "minmax")) {
    throw ValueError("Scaler::from_json: \"method\" must be \"standard\" or \"minmax\"");
  }
  return Scaler(numbers("offset"), numbers("scale"), j["method"].get<std::string>());
}

}  // namespace seqnet::data
